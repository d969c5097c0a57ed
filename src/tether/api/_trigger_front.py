"""The Request trigger's signed URL served in front of the router: the flow hot path's own door.

Every call of ``/api/v1/flows/{flow}/triggers/{trigger}/invoke`` (and ``/paths/invoke/…``) is a
flow run, and through the framework each one paid for what a run does not use: matching against
every route of the API, the framework's request and exception wrappers, a ``Request`` object, a
response pushed through each middleware's ``send``. Profiled on the stateless Request → Compose →
Compose → Response flow, those were about a quarter of the server's CPU per run.

:class:`RequestTriggerFront` is a pure ASGI middleware placed just inside the request telemetry
(so an answer still carries its ``X-Request-Id``, and metrics still count it under the route's
template): it answers those two paths itself, with the same checks and the same answers as the
documented FastAPI routes in ``routes/flows.py`` (which stay for the OpenAPI schema), and hands
every other request on untouched. A refused call (bad signature, unknown flow, …) gets the same
problem+json as everywhere else; an unexpected error goes on to the app's last-resort handler.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from tether.api._problems import problem
from tether.api.routes._plain import read_body
from tether.api.routes.flows import INVOKE_METHODS, invoke_routes, parse_trigger_body, trigger_answer
from tether.errors import ConfigurationError, TetherError
from tether.hosting import FlowHost

__all__ = ["RequestTriggerFront"]

_PATH = re.compile(r"^/api/v1/flows/([^/]+)/triggers/([^/]+)/(?:invoke|paths/invoke/(.*))$")
_METHODS = frozenset(INVOKE_METHODS)


class RequestTriggerFront:
    """Answer Request-trigger calls directly (see the module docstring); pass everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: tuple[BaseRoute, BaseRoute] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _METHODS:
            await self.app(scope, receive, send)
            return
        matched = _PATH.match(scope["path"])
        if matched is None:
            await self.app(scope, receive, send)
            return
        flow_id, trigger, path = matched.groups()
        # What the request telemetry reads to name the route in metrics and spans.
        if self._routes is None:
            self._routes = invoke_routes()
        scope["route"] = self._routes[path is not None]
        params = {"flow_id": flow_id, "trigger": trigger}
        scope["path_params"] = params if path is None else {**params, "path": path}
        try:
            response = await self._fire(scope, receive, flow_id, trigger, path or "")
        except TetherError as exc:
            response = problem(exc.status, exc.code, exc.message, **exc.detail)
            if exc.status == 429 and isinstance(exc.detail.get("retry_after"), int | float):
                response.headers["Retry-After"] = str(max(1, round(exc.detail["retry_after"])))
        headers = response.raw_headers
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _fire(self, scope: Scope, receive: Receive, flow_id: str, trigger: str, path: str) -> Response:
        runtime: FlowHost | None = getattr(scope["app"].state, "flow_host", None)
        if runtime is None:
            raise ConfigurationError(
                "flows are not running in this server (the app was started without its lifespan)"
            )
        headers: dict[str, str] = {}
        for key, value in scope["headers"]:
            name = key.decode("latin-1")  # lower case already (ASGI); the first of repeated ones, as before
            if name not in headers:
                headers[name] = value.decode("latin-1")
        body = parse_trigger_body(await read_body(receive), headers.get("content-type", ""))
        queries = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        sig = queries.pop("sig", None)
        run_id, future = await runtime.fire_request(
            flow_id,
            trigger,
            sig=sig,
            method=scope["method"],
            headers=headers,
            queries=queries,
            body=body,
            path=path,
        )
        answer_headers = {"x-ms-workflow-run-id": run_id}
        if future is not None:
            answer = await runtime.wait_response(run_id, future)
            if answer is not None:
                return trigger_answer(answer, answer_headers)
        return _accepted(run_id, answer_headers)


def _accepted(run_id: str, headers: dict[str, str]) -> Response:
    from starlette.responses import JSONResponse

    content: dict[str, Any] = {"runId": run_id, "status": "Accepted"}
    return JSONResponse(content, status_code=202, headers=headers)
