"""Each API request's id, span and metrics, and the ``/metrics`` endpoint.

:class:`RequestTelemetry` is the outermost of Tether's middlewares: it names the request (the
client's ``X-Request-Id`` or a new id, echoed in the answer's header and in every problem+json
body as ``requestId``), opens the span every deeper span hangs from (the child of the caller's
``traceparent`` when one is sent), and counts the answer per route *template*, so
``/connections/abc`` and ``/connections/xyz`` are one series.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tether import telemetry
from tether.api._problems import problem
from tether.config import Settings

__all__ = ["REQUEST_ID_HEADER", "RequestTelemetry", "install_telemetry"]

REQUEST_ID_HEADER = "X-Request-Id"
_HEADER_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")
_UNMATCHED = "unmatched"  # one series for every path no route knows (no raw paths as labels)


class RequestTelemetry:
    """Pure ASGI middleware: request id, the request's span, request count and latency."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = traceparent = None
        for key, value in scope["headers"]:
            if key == _HEADER_KEY:
                given = value
            elif key == b"traceparent":
                traceparent = value
        request_id = telemetry.request_id_from(given.decode("latin-1") if given is not None else None)
        # Not reset afterwards: each request runs in a task of its own, and the framework's
        # last-resort 500 handler (outside this middleware) still reads it for its answer.
        telemetry.set_request_id(request_id)
        header = (_HEADER_KEY, request_id.encode("latin-1"))
        method: str = scope["method"]
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        if not (telemetry.tracing() or telemetry.metrics_enabled()):
            await self.app(scope, receive, send_with_id)  # the id only: no route to find, nothing to count
            return
        # The caller's trace, when it sent one: recorded whenever the caller recorded it.
        parent = traceparent.decode("latin-1") if traceparent is not None else None
        with telemetry.span(method, {"http.request.method": method}, traceparent=parent) as handle:
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                route = _route_template(scope)
                handle.rename(f"{method} {route}")
                handle.set("http.route", route)
                handle.set("http.response.status_code", status)
                telemetry.count_request(method, route, status, time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    """The matched route's path template, with the prefix it was included under.

    FastAPI includes routers lazily: ``scope["route"]`` is the router's own route, whose template
    lacks the include prefix (``/api/v1``). The prefix is what precedes, in the request's path,
    the part the route matched (the route's template filled with the request's path parameters).
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    if route is None or not isinstance(template, str):
        return _UNMATCHED
    path: str = scope.get("path", "")
    try:
        matched = str(route.url_path_for(route.name, **scope.get("path_params", {})))
    except Exception:  # a route that cannot render itself: its own template is still bounded
        return template
    if matched and path.endswith(matched) and "{" not in path:
        return path[: len(path) - len(matched)] + template
    return template


def install_telemetry(app: FastAPI, settings: Settings) -> None:
    """Log format, OTLP export and ``/metrics`` as ``settings`` ask; the request middleware always."""
    telemetry.configure_logs(settings.log_format)
    if settings.otlp_endpoint:
        telemetry.configure_tracing(settings.otlp_endpoint)
    if settings.metrics_token is not None:
        telemetry.enable_metrics()
        _metrics_route(app, settings.metrics_token.get_secret_value())
    app.add_middleware(RequestTelemetry)


def _metrics_route(app: FastAPI, token: str) -> None:
    expected = f"Bearer {token}".encode()

    async def metrics(request: Request) -> Any:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return problem(
                401, "unauthenticated", "send the metrics token: Authorization: Bearer <TETHER_METRICS_TOKEN>"
            )
        # The queue depth may be read from the broker: off the event loop.
        body = await asyncio.to_thread(telemetry.render_metrics)
        return Response(body, media_type=telemetry.METRICS_MEDIA_TYPE)

    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
