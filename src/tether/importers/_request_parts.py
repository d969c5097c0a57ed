"""The parts of an operation taken from an example: query, header and body parameters, responses.

Values of ordinary parameters become ``x-ms-test-value``s; values of anything that looks like a
credential are never copied (the caller turns its place into a security scheme).
"""

from __future__ import annotations

from typing import Any

from tether.importers._credentials import Credential, is_secret_name
from tether.importers._http_example import HttpExample, ResponseExample
from tether.importers._infer import infer_schema, parse_json, scalar_type
from tether.importers._package_build import title_words

__all__ = ["body_parameters", "content_type", "header_parameters", "query_parameters", "responses"]

Report = list[tuple[str, str, str]]

# Headers that describe the transport, not the API: never parameters.
_TRANSPORT_HEADERS = {
    "host",
    "content-length",
    "connection",
    "accept-encoding",
    "user-agent",
    "expect",
    "te",
    "transfer-encoding",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "origin",
    "referer",
    "cache-control",
    "pragma",
    "sec-fetch-mode",
    "sec-fetch-site",
    "sec-fetch-dest",
    "accept-language",
}


def query_parameters(
    pairs: list[tuple[str, str]], credentials: list[Credential], report: list[tuple[str, str, str]]
) -> list[dict[str, Any]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    parameters = []
    for name, values in grouped.items():
        if is_secret_name(name):
            credentials.append(Credential("apiKey", "query", name))
            report.append(
                (
                    "warning",
                    f"query {name}",
                    "looks like a credential: its value was not copied; "
                    "it is sent from the connection instead",
                )
            )
            continue
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": False}
        parameter["x-ms-summary"] = title_words(name)
        if len(values) > 1:
            parameter.update(
                {
                    "type": "array",
                    "items": {"type": "string"},
                    "collectionFormat": "multi",
                    "x-ms-test-value": values,
                }
            )
        else:
            schema = _string_scalar(values[0])
            parameter.update(schema)
            parameter["x-ms-test-value"] = _typed(values[0], schema["type"])
        parameters.append(parameter)
    return parameters


def header_parameters(
    headers: list[tuple[str, str]], credentials: list[Credential], report: list[tuple[str, str, str]]
) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    consumes = produces = None
    parameters: list[dict[str, Any]] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "content-type":
            consumes = value.split(";")[0].strip() or None
        elif lower == "accept":
            produces = value.split(",")[0].split(";")[0].strip() or None
            produces = None if produces == "*/*" else produces
        elif lower in _TRANSPORT_HEADERS:
            continue
        elif lower == "authorization":
            scheme = value.split(" ", 1)[0].lower()
            kind = "basic" if scheme == "basic" else "bearer" if scheme == "bearer" else "apiKey"
            credentials.append(Credential(kind, "header", "Authorization"))  # type: ignore[arg-type]
            report.append(
                (
                    "warning",
                    "header Authorization",
                    f"credential ({scheme or 'empty'} scheme): its "
                    "value was not copied; it is sent from the connection instead",
                )
            )
        elif lower == "cookie" or is_secret_name(name):
            if lower == "cookie":
                report.append(
                    ("warning", "header Cookie", "cookies were dropped (they usually hold a session)")
                )
                continue
            credentials.append(Credential("apiKey", "header", name))
            report.append(
                (
                    "warning",
                    f"header {name}",
                    "looks like a credential: its value was not copied; "
                    "it is sent from the connection instead",
                )
            )
        elif any(p["name"].lower() == lower for p in parameters):
            report.append(("approximation", f"header {name}", "repeated header kept once"))
        else:
            parameters.append(
                {
                    "name": name,
                    "in": "header",
                    "required": False,
                    "type": "string",
                    "x-ms-summary": title_words(name),
                    "x-ms-test-value": value,
                }
            )
    return consumes, produces, parameters


def body_parameters(
    request: HttpExample, content_type: str | None, report: list[tuple[str, str, str]]
) -> tuple[list[dict[str, Any]], str | None]:
    kind = request.body_kind
    if kind == "json":
        _ok, value = parse_json(request.body or b"")
        body = {
            "name": "body",
            "in": "body",
            "required": True,
            "x-ms-summary": "Body",
            "schema": infer_schema(value),
        }
        return [body], content_type or "application/json"
    if kind in ("form", "multipart"):
        parameters: list[dict[str, Any]] = []
        for item in request.form:
            parameter: dict[str, Any] = {
                "name": item.name,
                "in": "formData",
                "required": False,
                "x-ms-summary": title_words(item.name),
            }
            if item.is_file:
                parameter["type"] = "file"
            else:
                parameter["type"] = "string"
                if is_secret_name(item.name):
                    report.append(
                        (
                            "warning",
                            f"form field {item.name}",
                            "looks like a credential: its value was not copied",
                        )
                    )
                else:
                    parameter["x-ms-test-value"] = item.value
            if any(p["name"] == item.name for p in parameters):
                report.append(("approximation", f"form field {item.name}", "repeated field kept once"))
                continue
            parameters.append(parameter)
        default = "multipart/form-data" if kind == "multipart" else "application/x-www-form-urlencoded"
        return parameters, default
    if kind == "raw":
        body = {
            "name": "body",
            "in": "body",
            "required": True,
            "x-ms-summary": "Body",
            "schema": {"type": "string"},
        }
        return [body], content_type or "text/plain"
    return [], None


def responses(response: ResponseExample | None, report: list[tuple[str, str, str]]) -> dict[str, Any]:
    if response is None:
        return {"200": {"description": "Success"}}
    entry: dict[str, Any] = {"description": "Success" if 200 <= response.status < 300 else "Response"}
    if response.body and response.body.strip():
        ok, value = parse_json(response.body)
        entry["schema"] = infer_schema(value) if ok else {"type": "string"}
        if not ok:
            report.append(("info", "response", "the response body is not JSON; described as a string"))
    return {str(response.status): entry}


def _string_scalar(value: str) -> dict[str, Any]:
    if value in ("true", "false"):
        return {"type": "boolean"}
    if value.lstrip("-").isdigit() and str(int(value)) == value:
        return {k: v for k, v in scalar_type(int(value)).items()}
    return {k: v for k, v in scalar_type(value).items() if k != "format" or v in ("date", "date-time")}


def _typed(value: str, kind: str) -> Any:
    return value == "true" if kind == "boolean" else int(value) if kind == "integer" else value


def content_type(headers: list[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name.lower() == "content-type":
            return value.split(";")[0].strip() or None
    return None
