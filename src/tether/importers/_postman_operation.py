"""One Postman request to one Swagger 2.0 operation (parameters, body, responses).

Server, security and path collisions concern the whole collection and are settled by
:mod:`tether.importers.postman`; this module only turns what one request says into an
operation, and lists what it could not keep as ``(kind, message)`` notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tether.importers._postman_body import build_body, build_responses, test_value
from tether.importers._postman_collection import PostmanRequest, description_of, enabled, key_values
from tether.importers._postman_url import PLACEHOLDER, PostmanUrl
from tether.importers._result import ReportKind

__all__ = ["METHODS", "BuiltOperation", "build_operation", "operation_id"]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
# Headers the connector sets itself: Content-Type from `consumes`, Authorization from the auth.
_MANAGED_HEADERS = {"content-type", "authorization"}
_WORDS = re.compile(r"[A-Za-z0-9]+")


@dataclass
class BuiltOperation:
    """An operation plus what the caller needs to settle collection-wide questions."""

    operation: dict[str, Any]
    authorization_header: str | None = None
    notes: list[tuple[ReportKind, str]] = field(default_factory=list)


def operation_id(name: str, method: str, path: str, taken: set[str]) -> str:
    """A PascalCase operationId from the request's name, unique within ``taken``."""
    words = _WORDS.findall(name) or [method, *_WORDS.findall(path)]
    base = "".join(w[:1].upper() + w[1:] for w in words)
    if base[:1].isdigit():
        base = method.capitalize() + base
    candidate, number = base, 2
    while candidate.lower() in taken:
        candidate, number = f"{base}{number}", number + 1
    taken.add(candidate.lower())
    return candidate


def build_operation(item: PostmanRequest, url: PostmanUrl, op_id: str) -> BuiltOperation:
    """The operation for ``item`` (its path and security are added by the caller)."""
    request = item.request
    built = BuiltOperation({})
    operation = built.operation
    if item.folders:
        operation["tags"] = [" / ".join(item.folders)]
    operation["summary"] = item.name
    description = description_of(request.get("description"))
    if description:
        operation["description"] = description
    operation["operationId"] = op_id
    parameters = [_path_parameter(p.name, p.example, p.description) for p in url.path_params]
    parameters += _query_parameters(url.query, built.notes)
    content_type = None
    seen: set[str] = set()
    for entry in key_values(request.get("header")):
        key, lowered = entry["key"], entry["key"].lower()
        if lowered == "content-type":
            if enabled(entry) and isinstance(entry.get("value"), str):
                content_type = entry["value"].split(";", 1)[0].strip().lower() or None
            continue
        if lowered == "authorization":
            if enabled(entry):
                built.authorization_header = str(entry.get("value") or "")
            continue
        if lowered in seen:
            built.notes.append(("approximation", f"header {key!r} repeats; it is declared once"))
            continue
        seen.add(lowered)
        parameters.append(_simple_parameter(entry, "header", built.notes))
    body = build_body(request, content_type)
    parameters += body.parameters
    built.notes += body.notes
    if body.parameters and request.get("method", "GET").upper() in ("GET", "HEAD"):
        built.notes.append(("warning", "a GET/HEAD request with a body: many servers ignore it"))
    if body.consumes:
        operation["consumes"] = [body.consumes]
    elif content_type:
        built.notes.append(("info", f"Content-Type {content_type} without a body was dropped"))
    responses, produces, notes = build_responses(item.responses)
    built.notes += notes
    if produces:
        operation["produces"] = produces
    if parameters:
        operation["parameters"] = parameters
    operation["responses"] = responses or {
        "default": {"description": "No example response is saved in the collection"}
    }
    return built


def _says_required(description: str) -> bool:
    return description.lstrip().lower().startswith("(required)")


def _path_parameter(name: str, example: str | None, description: str) -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": "path", "required": True, "type": "string"}
    parameter["x-ms-summary"] = name
    if description:
        parameter["description"] = description
    if example is not None and test_value(name, example) is not None:
        parameter["x-ms-test-value"] = example
    return parameter


def _query_parameters(
    entries: list[dict[str, Any]], notes: list[tuple[ReportKind, str]]
) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    seen: set[str] = set()
    for entry in entries:
        key = entry.get("key")
        if not isinstance(key, str) or not key:
            continue
        if PLACEHOLDER.search(key):
            notes.append(("unsupported", f"query parameter {key!r} has a variable name; it was left out"))
            continue
        if key in seen:
            notes.append(("approximation", f"query parameter {key!r} repeats; it is declared once"))
            continue
        seen.add(key)
        parameters.append(_simple_parameter(entry, "query", notes))
    return parameters


def _simple_parameter(
    entry: dict[str, Any], where: str, notes: list[tuple[ReportKind, str]]
) -> dict[str, Any]:
    key = entry["key"]
    on = enabled(entry)
    description = description_of(entry.get("description"))
    parameter: dict[str, Any] = {
        "name": key,
        "in": where,
        # Postman has no "required": an enabled entry is one the author happened to send. Only a
        # description that says so (OpenAPI-to-Postman converters write "(Required) ...") makes it one.
        "required": on and _says_required(description),
        "type": "string",
        "x-ms-summary": key,
    }
    if description:
        parameter["description"] = description
    sample = test_value(key, entry.get("value"))
    if sample is not None:
        parameter["x-ms-test-value"] = sample
    if not on:
        parameter["x-ms-visibility"] = "advanced"
        notes.append(("info", f"{where} parameter {key!r} is disabled in Postman; it is optional"))
    return parameter
