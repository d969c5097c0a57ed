"""Each layer's public names are pinned: changing them is a decision, not an accident."""

from __future__ import annotations

import pytest

import tether
import tether.api
import tether.cli
import tether.definition
import tether.portal
import tether.sdk
import tether.telemetry

EXPECTED = {
    tether.definition: [
        "AllowedValue", "Api", "ApiProperties", "ConnectionParameter", "ConnectionParameterSet",
        "ConnectionParameterSets", "ConnectorPackage", "ConnectorProperties", "DEFINITION_FILE", "Document",
        "ExternalRef", "ICON_FILE", "MAX_DOCUMENT_BYTES", "MAX_NESTING_DEPTH", "MAX_PACKAGE_BYTES",
        "MAX_UPLOAD_BYTES", "MAX_YAML_ALIAS_NODES", "NO_DEFAULT", "NoDefault", "OAuthFlow", "OAuthSettings",
        "Operation", "PACKAGE_FILES", "PARSE_MEMORY_BYTES", "PARSE_TIMEOUT_SECONDS", "PROPERTIES_FILE",
        "Parameter", "ParameterLocation", "PolicyTemplateInstance", "ReferenceCycle",
        "REDIRECT_MODES", "RequestBody", "Resolver", "Response", "SCRIPT_FILE", "SETTINGS_FILE",
        "SecurityRequirement", "SecurityScheme", "Server", "ServerVariable", "UiConstraints", "UiDefinition",
        "UnresolvedReference", "compile_api", "escape_pointer", "is_placeholder_client_id", "load_package",
        "package_from_files",
        "package_from_zip", "paconn_settings", "parse_api_properties", "parse_document", "read_document",
        "reference_cycles", "save_package",
    ],
    tether.api: [
        "API_PREFIX",
        "app_connector_runner",
        "check_port_free",
        "create_app",
        "free_port",
        "serve_in_thread",
        "serve_workers",
    ],
    tether.cli: ["app", "main"],
    tether: ["AsyncClient", "Client", "__version__"],
    tether.sdk: [
        "DEFAULT_ENVIRONMENT", "ApiError", "AsyncClient", "AsyncConnection", "Client", "ClientError",
        "Connection", "ConnectionInfo", "Connector", "ConflictError", "Flow", "Forbidden", "InvalidRequest",
        "InvokeResult", "NotFoundError", "NotLoggedIn", "Operation", "RateLimitedError", "Run", "RunAction",
        "RunTimeout", "ServerUnreachable", "Unauthenticated", "UpstreamStatus",
    ],
    tether.portal: [
        "SESSION_COOKIE", "AppSettings", "CsrfRefused", "Db", "Env", "Keys", "NotSignedIn", "PortalRoute",
        "SignedIn", "environment_for", "install_portal", "render",
    ],
    tether.telemetry: [
        "LOG_FORMATS", "METRICS_MEDIA_TYPE", "NO_SPAN", "JsonFormatter", "SpanHandle", "configure_logs",
        "configure_tracing", "count_invoke", "count_request", "count_run", "count_token_refresh",
        "current_request_id", "current_run_id", "disable_metrics", "disable_tracing", "enable_metrics",
        "enable_tracing", "metrics_enabled", "observe_trigger_lag", "render_metrics", "request_id_from",
        "running", "set_queue_depth", "set_request_id", "span", "tracing",
    ],
}  # fmt: skip


@pytest.mark.parametrize("module", list(EXPECTED), ids=lambda m: m.__name__)
def test_public_names_are_pinned(module) -> None:
    assert sorted(module.__all__) == sorted(EXPECTED[module])
    for name in module.__all__:
        assert hasattr(module, name), name
