"""RFC 9457 problem details for every error the API returns.

Clients (the CLI, the portal, scripts) get one shape for every failure: ``type`` (a stable
URI built from the error's ``code``), ``title``, ``status``, ``detail`` (the human message
that says how to fix it), ``code`` (stable, listed in docs/errors.md), ``requestId`` (the
request's id, as in the ``X-Request-Id`` header and the log lines) and any extra facts the error
carries (file, line, issues...); a request that breaks its schema also gets ``errors``, one
``{pointer, detail}`` per field. ``_error_responses.py`` documents this shape per operation.
Unexpected exceptions become a bare 500 without internals: their detail goes to the log.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from tether import telemetry
from tether.errors import TetherError

__all__ = ["PROBLEM_TYPE_BASE", "install_problem_handlers", "problem"]

PROBLEM_TYPE_BASE = "https://tether.dev/problems/"
MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger("tether.api")


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    if request_id := telemetry.current_request_id():
        body["requestId"] = request_id  # what a user quotes to an operator, who finds the log lines by it
    headers = {"WWW-Authenticate": 'Bearer realm="tether"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


# Framework answers (no route, wrong method...) get named codes like ours; others ``http-<status>``.
_HTTP_CODES = {
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    415: "unsupported-media-type",
}


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error, ours or the framework's, as problem+json."""

    @app.exception_handler(TetherError)
    async def tether_error(request: Request, exc: TetherError) -> JSONResponse:
        response = problem(exc.status, exc.code, exc.message, **exc.detail)
        if exc.status == 429 and isinstance(exc.detail.get("retry_after"), int | float):
            response.headers["Retry-After"] = str(max(1, round(exc.detail["retry_after"])))
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        issues = [
            {"location": "/".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{i['location']}: {i['message']}" for i in issues)
        errors = [
            {"pointer": "".join(f"/{_escape(p)}" for p in e.get("loc", ())), "detail": e.get("msg", "")}
            for e in exc.errors()
        ]
        return problem(
            422, "invalid-request", f"the request is not valid: {summary}", issues=issues, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http-{exc.status_code}")
        response = problem(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        response = problem(500, "internal", "an internal error occurred; the server log has the details")
        if request_id := telemetry.current_request_id():
            # Answered outside the request middleware, which adds this header to every other answer.
            response.headers["X-Request-Id"] = request_id
        return response


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")  # HEAD is implied by GET and never documented


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path. Starlette's own ``Allow`` names only the first
    matching route's, and FastAPI makes one route per method (GET and POST on one path are two)."""
    # Asked per method (routes may be wrapped, e.g. included routers, so their methods are not read).
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.routes
        )
    ]


def _escape(part: object) -> str:
    """One JSON pointer token (RFC 6901)."""
    return str(part).replace("~", "~0").replace("/", "~1")
