"""Request bodies and saved example responses to Swagger 2.0 parameters and responses.

Postman keeps *examples*, not schemas. A JSON example is the best description of a body
the user has, so the schema is inferred from it (types, nested objects, arrays) and the
example itself is kept beside it; bodies whose structure cannot be described in Swagger
2.0 (XML, plain text, JavaScript) become a string body and the report says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tether.importers._postman_collection import description_of, enabled, key_values
from tether.importers._postman_url import PLACEHOLDER
from tether.importers._result import ReportKind

__all__ = ["Body", "build_body", "build_responses", "infer_schema", "is_secret", "test_value"]

_SECRET = re.compile(
    r"passw(or)?d|^pass$|secret|token|api[-_ ]?key|^auth(orization)?$|credential|signature", re.IGNORECASE
)
# A placeholder standing where a JSON value belongs ({"n": {{count}}}) makes the text invalid JSON.
_BARE_PLACEHOLDER = re.compile(r"(?<![\"\w])\{\{[^{}]+\}\}(?![\"\w])")
_GRAPHQL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "x-ms-summary": "Query"},
        "variables": {"type": "object", "x-ms-summary": "Variables"},
    },
    "required": ["query"],
}


@dataclass
class Body:
    """What a request body contributes to its operation."""

    parameters: list[dict[str, Any]] = field(default_factory=list)
    consumes: str | None = None
    notes: list[tuple[ReportKind, str]] = field(default_factory=list)


def is_secret(name: str) -> bool:
    """Whether a field's name suggests a credential, whose sample value must not be copied."""
    return bool(_SECRET.search(name))


def test_value(name: str, value: Any) -> str | None:
    """A sample value worth keeping as ``x-ms-test-value``: literal, non-empty, not a secret."""
    if not isinstance(value, str) or not value or PLACEHOLDER.search(value) or is_secret(name):
        return None
    return value


def infer_schema(value: Any) -> dict[str, Any]:
    """A JSON schema describing ``value`` (Swagger 2.0 has no ``null`` type: null ⇒ any)."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        items = [v for v in value if v is not None]
        return {"type": "array", "items": infer_schema(items[0]) if items else {}}
    if isinstance(value, dict):
        return {"type": "object", "properties": {str(k): infer_schema(v) for k, v in value.items()}}
    return {}


def build_body(request: dict[str, Any], content_type: str | None) -> Body:
    """Body parameters for one request; ``content_type`` is its Content-Type header, if any."""
    body = request.get("body")
    mode = body.get("mode") if isinstance(body, dict) else None
    if not isinstance(body, dict) or body.get("disabled") is True or mode is None:
        return Body()
    if mode == "raw":
        return _raw(body, content_type)
    if mode == "urlencoded":
        return _form(key_values(body.get("urlencoded")), "application/x-www-form-urlencoded")
    if mode == "formdata":
        return _form(key_values(body.get("formdata")), "multipart/form-data")
    if mode == "graphql":
        return _graphql(body.get("graphql"))
    if mode == "file":
        return Body(
            [_body_parameter({"type": "string", "format": "binary"}, "File content")],
            content_type or "application/octet-stream",
            [("approximation", "the binary file body is a string parameter (the file itself is not kept)")],
        )
    return Body(notes=[("unsupported", f"body mode {mode!r} is not mapped; the body was dropped")])


def build_responses(
    saved: list[dict[str, Any]],
) -> tuple[dict[str, Any], list[str], list[tuple[ReportKind, str]]]:
    """``(responses, produces, notes)`` from the saved examples of one request."""
    responses: dict[str, Any] = {}
    produces: list[str] = []
    notes: list[tuple[ReportKind, str]] = []
    for example in saved:
        label = str(example.get("name") or "example")
        code = example.get("code")
        if not isinstance(code, int) or not 100 <= code <= 599:
            notes.append(("unsupported", f"saved response {label!r} has no status code; it was left out"))
            continue
        if str(code) in responses:
            notes.append(("info", f"saved response {label!r}: only the first example for {code} is kept"))
            continue
        response: dict[str, Any] = {"description": str(example.get("status") or label)}
        content_type = _header(example.get("header"), "content-type")
        text = example.get("body")
        if isinstance(text, str) and text.strip():
            parsed = (
                _json(text) if _looks_json(content_type, example.get("_postman_previewlanguage")) else None
            )
            if parsed is not None:
                content_type = content_type if content_type and "json" in content_type else "application/json"
                response["schema"] = infer_schema(parsed)
                response["examples"] = {content_type: parsed}
            elif content_type:
                response["examples"] = {content_type: text}
        if content_type and content_type not in produces:
            produces.append(content_type)
        responses[str(code)] = response
    return responses, produces, notes


def _raw(body: dict[str, Any], content_type: str | None) -> Body:
    text = body.get("raw")
    if not isinstance(text, str) or not text.strip():
        return Body()
    options = body.get("options")
    raw_options = options.get("raw") if isinstance(options, dict) else None
    language = raw_options.get("language") if isinstance(raw_options, dict) else None
    kind = (content_type or "").lower()
    if "json" in kind or language == "json" or (not kind and language is None and text.lstrip()[:1] in "{["):
        parsed, note = _json_with_placeholders(text)
        if parsed is not None:
            schema = infer_schema(parsed)
            schema["example"] = parsed
            notes: list[tuple[ReportKind, str]] = [("approximation", note)] if note else []
            return Body([_body_parameter(schema, "Body")], content_type or "application/json", notes)
        return Body(
            [_body_parameter({"type": "string"}, "Body")],
            content_type or "application/json",
            [("warning", "the raw JSON body is not valid JSON; it became a string body with no schema")],
        )
    if "xml" in kind or language == "xml":
        return Body(
            [_body_parameter({"type": "string"}, "Body")],
            content_type or "application/xml",
            [("approximation", "the XML body became a string body; its structure is not described")],
        )
    return Body(
        [_body_parameter({"type": "string"}, "Body")],
        content_type or "text/plain",
        [("approximation", f"the {content_type or 'text'} body became a string body")],
    )


def _form(entries: list[dict[str, Any]], consumes: str) -> Body:
    result = Body(consumes=consumes)
    seen: set[str] = set()
    for entry in entries:
        key = entry["key"]
        if key in seen:
            result.notes.append(("approximation", f"form field {key!r} repeats; it is declared once"))
            continue
        seen.add(key)
        is_file = entry.get("type") == "file"
        parameter: dict[str, Any] = {
            "name": key,
            "in": "formData",
            "type": "file" if is_file else "string",
            "required": enabled(entry),
            "x-ms-summary": key,
        }
        if description_of(entry.get("description")):
            parameter["description"] = description_of(entry.get("description"))
        sample = None if is_file else test_value(key, entry.get("value"))
        if sample is not None:
            parameter["x-ms-test-value"] = sample
        if not enabled(entry):
            parameter["x-ms-visibility"] = "advanced"
            result.notes.append(("info", f"form field {key!r} is disabled in Postman; it is optional"))
        result.parameters.append(parameter)
    if any(p["type"] == "file" for p in result.parameters):
        result.consumes = "multipart/form-data"
    if not result.parameters:
        return Body()
    return result


def _graphql(graphql: Any) -> Body:
    graphql = graphql if isinstance(graphql, dict) else {}
    query = graphql.get("query") if isinstance(graphql.get("query"), str) else ""
    schema = json.loads(json.dumps(_GRAPHQL_SCHEMA))
    example: dict[str, Any] = {"query": query}
    variables = graphql.get("variables")
    notes: list[tuple[ReportKind, str]] = [
        ("approximation", "the GraphQL body is a JSON body {query, variables}")
    ]
    if isinstance(variables, str) and variables.strip():
        parsed = _json(variables)
        if isinstance(parsed, dict):
            example["variables"] = parsed
            schema["properties"]["variables"] = {**infer_schema(parsed), "x-ms-summary": "Variables"}
        else:
            notes.append(("warning", "the GraphQL variables are not a JSON object; they were left out"))
    schema["example"] = example
    return Body([_body_parameter(schema, "GraphQL request")], "application/json", notes)


def _body_parameter(schema: dict[str, Any], summary: str) -> dict[str, Any]:
    return {"name": "body", "in": "body", "required": True, "schema": schema, "x-ms-summary": summary}


def _json_with_placeholders(text: str) -> tuple[Any, str]:
    parsed = _json(text)
    if parsed is not None:
        return parsed, ""
    parsed = _json(_BARE_PLACEHOLDER.sub("null", text))
    note = "placeholders standing for JSON values ({{name}}) were read as null to infer the body schema"
    return parsed, note if parsed is not None else ""


def _json(text: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict | list) else None


def _looks_json(content_type: str | None, preview: Any) -> bool:
    return (content_type is not None and "json" in content_type) or preview == "json" or content_type is None


def _header(headers: Any, name: str) -> str | None:
    for entry in headers if isinstance(headers, list) else []:
        if isinstance(entry, dict) and str(entry.get("key", "")).lower() == name:
            value = entry.get("value")
            if isinstance(value, str) and value.strip():
                return value.split(";", 1)[0].strip().lower()
    return None
