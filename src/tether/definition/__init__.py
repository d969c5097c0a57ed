"""Connector packages and API definitions: load, compile to the IR, lint, save.

Pure: nothing here touches a database or the network, so the CLI can validate offline and
every other layer can rely on the same model.

The names below load on first use (PEP 562): validating a flow or a bare OpenAPI file needs the
document reader and the IR, not the pydantic model of ``apiProperties.json`` or the packager, and
every command of the CLI pays at start for what this package imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tether.definition._compile import compile_api
    from tether.definition._document import Document, escape_pointer, parse_document, read_document
    from tether.definition._ir import (
        NO_DEFAULT,
        Api,
        NoDefault,
        OAuthFlow,
        Operation,
        Parameter,
        ParameterLocation,
        RequestBody,
        Response,
        SecurityRequirement,
        SecurityScheme,
        Server,
        ServerVariable,
    )
    from tether.definition._limits import (
        MAX_DOCUMENT_BYTES,
        MAX_NESTING_DEPTH,
        MAX_PACKAGE_BYTES,
        MAX_UPLOAD_BYTES,
        MAX_YAML_ALIAS_NODES,
        PARSE_MEMORY_BYTES,
        PARSE_TIMEOUT_SECONDS,
    )
    from tether.definition._package import (
        DEFINITION_FILE,
        ICON_FILE,
        PACKAGE_FILES,
        PROPERTIES_FILE,
        SCRIPT_FILE,
        SETTINGS_FILE,
        ConnectorPackage,
        load_package,
        package_from_files,
        package_from_zip,
        paconn_settings,
        save_package,
    )
    from tether.definition._placeholders import is_placeholder_client_id
    from tether.definition._properties import (
        REDIRECT_MODES,
        AllowedValue,
        ApiProperties,
        ConnectionParameter,
        ConnectionParameterSet,
        ConnectionParameterSets,
        ConnectorProperties,
        OAuthSettings,
        PolicyTemplateInstance,
        UiConstraints,
        UiDefinition,
        parse_api_properties,
    )
    from tether.definition._refs import (
        ExternalRef,
        ReferenceCycle,
        Resolver,
        UnresolvedReference,
        reference_cycles,
    )

__all__ = [
    "DEFINITION_FILE",
    "ICON_FILE",
    "MAX_DOCUMENT_BYTES",
    "MAX_NESTING_DEPTH",
    "MAX_PACKAGE_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_YAML_ALIAS_NODES",
    "NO_DEFAULT",
    "PACKAGE_FILES",
    "PARSE_MEMORY_BYTES",
    "PARSE_TIMEOUT_SECONDS",
    "PROPERTIES_FILE",
    "REDIRECT_MODES",
    "SCRIPT_FILE",
    "SETTINGS_FILE",
    "AllowedValue",
    "Api",
    "ApiProperties",
    "ConnectionParameter",
    "ConnectionParameterSet",
    "ConnectionParameterSets",
    "ConnectorPackage",
    "ConnectorProperties",
    "Document",
    "ExternalRef",
    "NoDefault",
    "OAuthFlow",
    "OAuthSettings",
    "Operation",
    "Parameter",
    "ParameterLocation",
    "PolicyTemplateInstance",
    "ReferenceCycle",
    "RequestBody",
    "Resolver",
    "Response",
    "SecurityRequirement",
    "SecurityScheme",
    "Server",
    "ServerVariable",
    "UiConstraints",
    "UiDefinition",
    "UnresolvedReference",
    "compile_api",
    "escape_pointer",
    "is_placeholder_client_id",
    "load_package",
    "package_from_files",
    "package_from_zip",
    "paconn_settings",
    "parse_api_properties",
    "parse_document",
    "read_document",
    "reference_cycles",
    "save_package",
]

_HOME = {
    **dict.fromkeys(("compile_api",), "tether.definition._compile"),
    **dict.fromkeys(
        ("Document", "escape_pointer", "parse_document", "read_document"), "tether.definition._document"
    ),
    **dict.fromkeys(
        (
            "Api",
            "NO_DEFAULT",
            "NoDefault",
            "OAuthFlow",
            "Operation",
            "Parameter",
            "ParameterLocation",
            "RequestBody",
            "Response",
            "SecurityRequirement",
            "SecurityScheme",
            "Server",
            "ServerVariable",
        ),
        "tether.definition._ir",
    ),
    **dict.fromkeys(
        (
            "MAX_DOCUMENT_BYTES",
            "MAX_NESTING_DEPTH",
            "MAX_PACKAGE_BYTES",
            "MAX_UPLOAD_BYTES",
            "MAX_YAML_ALIAS_NODES",
            "PARSE_MEMORY_BYTES",
            "PARSE_TIMEOUT_SECONDS",
        ),
        "tether.definition._limits",
    ),
    **dict.fromkeys(
        (
            "ConnectorPackage",
            "DEFINITION_FILE",
            "ICON_FILE",
            "PACKAGE_FILES",
            "PROPERTIES_FILE",
            "SCRIPT_FILE",
            "SETTINGS_FILE",
            "load_package",
            "package_from_files",
            "package_from_zip",
            "paconn_settings",
            "save_package",
        ),
        "tether.definition._package",
    ),
    **dict.fromkeys(("is_placeholder_client_id",), "tether.definition._placeholders"),
    **dict.fromkeys(
        (
            "AllowedValue",
            "ApiProperties",
            "ConnectionParameter",
            "ConnectionParameterSet",
            "ConnectionParameterSets",
            "ConnectorProperties",
            "OAuthSettings",
            "PolicyTemplateInstance",
            "REDIRECT_MODES",
            "UiConstraints",
            "UiDefinition",
            "parse_api_properties",
        ),
        "tether.definition._properties",
    ),
    **dict.fromkeys(
        ("ExternalRef", "ReferenceCycle", "Resolver", "UnresolvedReference", "reference_cycles"),
        "tether.definition._refs",
    ),
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'tether.definition' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
