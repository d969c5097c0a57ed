"""Every operation's error answers in the OpenAPI document, added in one place.

Routes declare only their success answer; this module gives every operation of the served
document the problem+json answers it can produce, so a client generated from
``/api/v1/openapi.json`` knows Tether's errors (schemathesis checks that no answer is
undocumented). The statuses are derived from what the document already says about the
operation where that is cheap and exact, and otherwise come from a common set:

- every operation: 400 (bad input), 422 (a request that breaks its schema or a rule),
  500 (a bug: the detail is in the server log) and 503 (database unavailable or read-only);
- with a bearer token (``security``) or a signed URL (a ``sig`` query parameter): 401 and 403;
- with a path parameter: 404;
- POST, PUT, PATCH, DELETE: 409 (a clash with data saved at the same time);
- an ``If-Match`` header: 412; an ``Idempotency-Key`` header: 409 and 422 (see ``_idempotency.py``);
- a multipart upload: 413; a feature that may be switched off (single sign-on): 404;
- calls to an upstream API (invoke, pass-through, connection tests, OAuth sign-in) and
  password sign-in: 429, 502, 503, 504.

A status a route documents itself (``responses=``) is kept as the route wrote it. Browser pages
at the site root (consent, OAuth redirects, single sign-on) may answer their errors as HTML pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from tether.api._idempotency import IDEMPOTENCY_HEADER, creates

__all__ = ["PROBLEM_SCHEMA", "document_error_responses", "install_error_responses"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An RFC 9457 problem detail. `code` is stable (the list is in docs/errors.md); "
    "other members are extra facts the error carries (file, line, issues, retry_after...).",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the problem: the base URI plus `code`."},
        "title": {"type": "string", "description": "The HTTP status phrase."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, where, and how to fix it."},
        "code": {"type": "string", "description": "The stable error code (docs/errors.md)."},
        "requestId": {
            "type": "string",
            "description": "The request's id (also the X-Request-Id header): quote it to an operator, "
            "who finds the server's log lines and trace by it.",
        },
        "errors": {
            "type": "array",
            "description": "Field errors of a request that breaks its schema, one per field.",
            "items": {
                "type": "object",
                "required": ["pointer", "detail"],
                "properties": {
                    "pointer": {
                        "type": "string",
                        "description": "Where: a JSON pointer into the request, rooted at its part "
                        "(/body/name, /query/limit, /path/env, /header/If-Match).",
                    },
                    "detail": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

_IDEMPOTENCY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": "Any unique string (a UUID): a retry with the same key and request gets the first "
    "answer again for 24 hours instead of creating twice; the same key with another request is 422 "
    "idempotency-key-reused; while the first still runs, 409 idempotency-in-progress (retry after "
    "Retry-After).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
COMMON = (400, 422, 500, 503)
SECURED = (401, 403)
WRITES = frozenset({"post", "put", "patch", "delete"})
UPSTREAM = (429, 502, 503, 504)
# Path fragments of the operations that call an upstream API or are throttled sign-ins.
_UPSTREAM_MARKERS = ("/invoke", "/apim/", "/test", "/consent", "/redirect", "/tokens", "/sso/")
_SWITCHED_OFF_MARKERS = ("/sso/",)
# Where a gateway agent is the client: an agent too old to be accepted is told 426 Upgrade Required.
_AGENT_MARKERS = ("/gateway/",)
_API_PATHS = ("/api/", "/apim/")
_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def install_error_responses(app: FastAPI) -> None:
    """Make ``app.openapi()`` add the problem answers to the document FastAPI builds (once)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_error_responses(build())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise it


def document_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Add ``Problem`` and the error answers of every operation to ``document`` (in place)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, item in document.get("paths", {}).items():
        for method in _HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            if creates(method, operation):
                operation.setdefault("parameters", []).append(_IDEMPOTENCY_PARAMETER)
            _document_operation(path, method, operation)
    # FastAPI's own 422 body is replaced by ours everywhere: drop its now unused schemas.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses ``operation`` can answer (see the module docstring)."""
    statuses = set(COMMON)
    parameters = operation.get("parameters", [])
    headers = {p.get("name", "").lower() for p in parameters if p.get("in") == "header"}
    signed = any(p.get("in") == "query" and p.get("name") == "sig" for p in parameters)
    if operation.get("security") or signed:
        statuses.update(SECURED)
    if any(p.get("in") == "path" for p in parameters) or any(m in path for m in _SWITCHED_OFF_MARKERS):
        statuses.add(404)
    if method in WRITES:
        statuses.add(409)
    if "if-match" in headers:
        statuses.add(412)
    if "idempotency-key" in headers:
        statuses.update((409, 422))
    if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
        statuses.add(413)
    if any(marker in path for marker in _UPSTREAM_MARKERS):
        statuses.update(UPSTREAM)
    if any(marker in path for marker in _AGENT_MARKERS):
        statuses.add(426)
    return sorted(statuses)


def _document_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    content: dict[str, Any] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
    if not path.startswith(_API_PATHS):  # a browser page: its errors are pages for people
        content["text/html"] = {"schema": {"type": "string"}}
    for status in error_statuses(path, method, operation):
        key = str(status)
        declared = responses.get(key)
        if declared is not None and not _is_fastapi_validation(declared):
            continue
        responses[key] = {"description": HTTPStatus(status).phrase, "content": content}
        if status == 401:
            responses[key]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}


def _is_fastapi_validation(response: dict[str, Any]) -> bool:
    """FastAPI's generated 422 (its own schema, which our handler never answers with)."""
    content: Iterable[Any] = (response.get("content") or {}).values()
    return any("HTTPValidationError" in str(media.get("schema", {})) for media in content)
