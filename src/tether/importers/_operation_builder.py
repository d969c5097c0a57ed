"""One example HTTP exchange ⇒ one Swagger 2.0 operation, in a new package or an existing one.

The cURL and sample importers each parse their own syntax into an :class:`HttpExample` (and
optionally a :class:`ResponseExample`); everything after that is here, once: URL and query,
headers, credentials (never copied, see ``_credentials``), JSON / form / multipart / raw
bodies, the response schema, the operationId, and merging into ``into`` without touching the
rest of that package.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tether.definition import DEFINITION_FILE as _DEFINITION
from tether.definition import PROPERTIES_FILE, ConnectorPackage, package_from_files
from tether.errors import InputError
from tether.importers._credentials import Credential, scheme_for
from tether.importers._http_example import HttpExample, ResponseExample
from tether.importers._package_build import default_properties, operation_id, title_words
from tether.importers._request_parts import (
    body_parameters,
    content_type,
    header_parameters,
    query_parameters,
    responses,
)
from tether.importers._result import ImportResult, dump_json

__all__ = ["build_operation_package"]

_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch"}


def build_operation_package(
    request: HttpExample,
    response: ResponseExample | None,
    *,
    into: ConnectorPackage | None,
    source: str,
    origin: str,
    report: list[tuple[str, str, str]],
) -> ImportResult:
    """The package (new, or ``into`` plus one operation) and its report.

    ``origin`` names the input in descriptions ("a cURL command"); ``report`` holds what the
    parser already had to say, as (kind, where, message).

    Raises:
        InputError: no absolute http(s) URL, an unknown method, ``into`` on another host or
            already having this method and path, or ``into`` not Swagger 2.0.
    """
    method = request.method.lower()
    if method not in _HTTP_METHODS:
        raise InputError(f"{source}: HTTP method {request.method!r} cannot be described in Swagger 2.0")
    url = urlsplit(request.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise InputError(f"{source}: {_safe_url(request.url)!r} is not an absolute http(s) URL")
    netloc = _netloc(url.scheme, url.hostname, url.port)
    base = _base(into, url.scheme, netloc, source, report)
    path = url.path or "/"
    if base.get("basePath", "/") not in ("", "/"):
        prefix = base["basePath"].rstrip("/")
        if path != prefix and not path.startswith(prefix + "/"):
            raise InputError(f"{source}: the path {path!r} is outside the package's basePath {prefix!r}")
        path = path[len(prefix) :] or "/"
    path = unquote(path).replace("{", "%7B").replace("}", "%7D")
    if method in base["paths"].get(path, {}):
        existing = base["paths"][path][method].get("operationId", "?")
        raise InputError(
            f"{source}: the package already has {method.upper()} {path} (operationId {existing})"
        )

    credentials = list(request.credentials)
    if url.username or url.password:
        credentials.append(Credential("basic", "header", "Authorization"))
        report.append(
            ("warning", "URL", "user:password in the URL: not copied; sent from the connection instead")
        )
    parameters = query_parameters(
        [*parse_qsl(url.query, keep_blank_values=True), *request.query], credentials, report
    )
    consumes, produces, headers = header_parameters(request.headers, credentials, report)
    parameters += headers
    body, body_type = body_parameters(request, consumes, report)
    parameters += body

    taken = {
        op.get("operationId")
        for item in base["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
    }
    taken.discard(None)
    operation: dict[str, Any] = {
        "operationId": operation_id(method, path, taken=taken),  # type: ignore[arg-type]
        "summary": f"{method.upper()} {title_words(path.strip('/').replace('/', ' ')) or '/'}"[:80],
        "description": f"{method.upper()} {path}, imported from {origin}.",
        "parameters": parameters,
        "responses": responses(response, report),
    }
    if body_type:
        operation["consumes"] = [body_type]
    response_type = content_type(response.headers) if response else None
    if response_type or produces:
        operation["produces"] = [response_type or produces]
    properties = _add_security(base, operation, credentials, into is None, report)
    base["paths"].setdefault(path, {})[method] = operation
    files = dict(into.files) if into is not None else {}
    files[_DEFINITION] = dump_json(base)
    if into is None:
        files[PROPERTIES_FILE] = dump_json(properties)
    result = ImportResult(package_from_files(files, source=into.source if into is not None else source))
    for kind, where, message in report:
        result.add(kind, where, message)  # type: ignore[arg-type]
    return result


def _base(
    into: ConnectorPackage | None, scheme: str, netloc: str, source: str, report: list[tuple[str, str, str]]
) -> Any:
    if into is None:
        return {
            "swagger": "2.0",
            "info": {
                "title": netloc.split(":")[0][:30],
                "description": f"Operations of {netloc}.",
                "version": "1.0",
            },
            "host": netloc,
            "basePath": "/",
            "schemes": [scheme],
            "consumes": [],
            "produces": [],
            "paths": {},
        }
    data = copy.deepcopy(into.definition.data)
    if not isinstance(data, dict) or data.get("swagger") != "2.0":
        raise InputError(f"{into.source}: operations can only be added to a Swagger 2.0 definition")
    host = data.get("host")
    if not host:
        report.append(
            (
                "warning",
                "/host",
                f"the package has no host (the connection supplies it); the operation was added for {netloc}",
            )
        )
    elif not _same_host(str(host), netloc, data.get("schemes") or ["https"]):
        raise InputError(
            f"{source}: the request goes to {netloc}, but the package {into.source!r} is for "
            f"{host}; import it into a connector for that host"
        )
    data.setdefault("paths", {})
    return data


def _add_security(
    base: dict[str, Any],
    operation: dict[str, Any],
    credentials: list[Credential],
    new: bool,
    report: list[tuple[str, str, str]],
) -> dict[str, Any]:
    """Declare the first credential's scheme; apiProperties for a new package."""
    parameters: dict[str, Any] = {}
    credentials = sorted(credentials, key=_priority)
    if credentials:
        key, scheme, parameters = scheme_for(credentials[0])
        existing = base.get("securityDefinitions", {})
        match = next((name for name, value in existing.items() if value == scheme), None)
        if match is None:
            while key in existing:
                key += " 2"
            base.setdefault("securityDefinitions", {})[key] = scheme
            if not new:
                report.append(
                    (
                        "warning",
                        "securityDefinitions",
                        f"added {key!r} for {credentials[0].describe()}; "
                        "add its connection parameters in apiProperties.json",
                    )
                )
        requirement: list[dict[str, list[str]]] = [{match or key: []}]
        if new:
            base["security"] = requirement
        elif base.get("security") != requirement:
            operation["security"] = requirement
        for extra in credentials[1:]:
            _extra_credential(operation, extra, report)
    if new:
        base["consumes"] = operation.get("consumes", [])
        base["produces"] = operation.get("produces", [])
        for key in ("consumes", "produces"):
            if not base[key]:
                del base[key]
    return default_properties(parameters)


def _priority(credential: Credential) -> int:
    """Which credential becomes the connector's security scheme when a request carries several."""
    return ("basic", "bearer", "apiKey").index(credential.kind) * 2 + (credential.location == "query")


def _extra_credential(
    operation: dict[str, Any], extra: Credential, report: list[tuple[str, str, str]]
) -> None:
    """A second credential: a required parameter with no test value (Power Platform has one scheme)."""
    if extra.kind == "apiKey":
        operation["parameters"].append(
            {
                "name": extra.name,
                "in": extra.location,
                "required": True,
                "type": "string",
                "format": "password",
                "x-ms-summary": title_words(extra.name),
                "description": "A credential: supply it at run time (its example value was not copied).",
            }
        )
        report.append(
            (
                "approximation",
                "security",
                f"{extra.describe()} became a required parameter: a connector has one security scheme",
            )
        )
    else:
        report.append(
            (
                "unsupported",
                "security",
                f"{extra.describe()} was dropped: a connector has one "
                "security scheme; add a policy or custom code for it",
            )
        )


def _netloc(scheme: str, host: str, port: int | None) -> str:
    default = {"http": 80, "https": 443}[scheme]
    return host.lower() if port in (None, default) else f"{host.lower()}:{port}"


def _same_host(host: str, netloc: str, schemes: list[str]) -> bool:
    name, _, port = host.lower().partition(":")
    candidates = {name} if not port else {host.lower()}
    if port and any(port == str({"http": 80, "https": 443}.get(s, 0)) for s in schemes):
        candidates.add(name)
    return netloc in candidates


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    # A URL with user:password@ would otherwise echo the password in the error.
    return url.replace(parts.netloc, parts.hostname or "") if "@" in parts.netloc else url
