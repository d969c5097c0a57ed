"""Plain ASGI endpoints for the invoke and ``/apim`` routes: the product's hot path, without the framework.

FastAPI's per-request work (a ``Request``, dependency solving, a body model, the response
wrappers) cost more CPU than Tether's own checks on these calls. These endpoints read what they
need straight from the ASGI scope and call the same services with the same arguments, so every
check (authentication, sharing, rate limit, network policy, the runtime's) is the services'
and the runtime's, as before. Errors are raised, not answered here: the app's exception
handlers turn them into problem+json exactly as for the FastAPI routes.

A request the fast path is not meant for (no well-formed bearer token, an invoke body that is
not a JSON object) is handed whole to the documented FastAPI route, which answers it as it
always did, validation errors included.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any, Final

import httpx
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import State
from starlette.types import Message, Receive, Scope, Send

from tether import services
from tether.api._connector_runner import app_connector_runner
from tether.runtime import UpstreamProtocolError
from tether.secrets import KeyRing

__all__ = ["HAND_ON", "PlainApim", "PlainInvoke", "json_answer", "read_body"]

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# Set in the scope by ``api/_hot_routes.py`` when it routed the request here ahead of the app's
# stack: the rest of that stack, to hand a request the fast path does not take to.
HAND_ON: Final = "tether.hand_on"
_AUTHORIZATION: Final = b"authorization"
_CONTENT_TYPE: Final = b"content-type"
_JSON_HEADERS: Final = [(b"content-type", b"application/json")]
# An upstream body up to this size is read whole and answered with its length in one message;
# a larger one, or one of unknown length, is streamed as it arrives.
_WHOLE_BODY_BYTES: Final = 256 * 1024


class PlainInvoke:
    """``POST …/connections/{connection}/invoke/{operation_id}`` (see the module docstring)."""

    def __init__(self) -> None:
        # This endpoint's route and the documented FastAPI route, set when the router is built.
        self.route: Any = None
        self.documented: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self.route  # what metrics and traces name the request by (see _telemetry.py)
        body = await read_body(receive)
        token = _bearer(scope)
        arguments = _json_object(scope, body)
        hand_on = scope.pop(HAND_ON, None)
        if token is None or arguments is _NOT_TAKEN:
            await (hand_on or self.documented.app)(scope, _replay(body), send)
            return
        state = scope["app"].state
        params = scope["path_params"]
        # Errors (RateLimited with its Retry-After too) go to the app's exception handlers.
        answer = await services.invoke_operation(
            state.database,
            await state.tokens.principal(token),
            params["env"],
            params["connection"],
            params["operation_id"],
            arguments or {},
            runtime=app_connector_runner(scope["app"]),
            keyring=_keyring(state),
            public_url=state.settings.public_url,
        )
        await send_json(send, 200, encode_answer(answer))


class PlainApim:
    """``/apim/{connector}/{connection}/{path}``, any method (see the module docstring)."""

    def __init__(self) -> None:
        self.route: Any = None  # this endpoint's route, set when the router is built

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self.route
        token = _bearer(scope)
        hand_on = scope.pop(HAND_ON, None)
        if token is None:
            # The documented routes answer a request without a usable token (one per method).
            await (hand_on or _documented_apim(scope))(scope, receive, send)
            return
        state = scope["app"].state
        params = scope["path_params"]
        method: str = scope["method"]
        answer = await services.pass_through(
            state.database,
            await state.tokens.principal(token),
            params["connector"],
            params["connection"],
            method,
            params["path"],
            query=scope["query_string"].decode("latin-1"),
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
            body=await read_body(receive),
            runtime=app_connector_runner(scope["app"]),
            keyring=_keyring(state),
        )
        upstream = answer.response
        length = upstream.headers.get("content-length")
        if method != "HEAD" and length is not None and length.isdigit() and int(length) <= _WHOLE_BODY_BYTES:
            try:
                content = await upstream.aread()
            except httpx.HTTPError as exc:
                raise UpstreamProtocolError(
                    f"the API's answer broke off while it was being read ({type(exc).__name__})"
                ) from exc
            finally:
                await upstream.aclose()
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]
            headers.append((b"content-length", str(len(content)).encode("latin-1")))
            await send({"type": "http.response.start", "status": answer.status, "headers": headers})
            await send({"type": "http.response.body", "body": content})
            return
        streamed = StreamingResponse(
            upstream.aiter_bytes(),
            status_code=answer.status,
            headers=answer.headers,
            background=BackgroundTask(upstream.aclose),
        )
        await streamed(scope, receive, send)


def encode_answer(answer: services.InvokeAnswer) -> bytes:
    """The invoke endpoint's JSON answer, encoded as Starlette's ``JSONResponse`` encodes it."""
    body: Any = answer.body
    encoding = None
    if isinstance(body, bytes):
        body, encoding = base64.b64encode(body).decode("ascii"), "base64"
    document = {
        "status": answer.status,
        "headers": answer.headers,
        "body": body,
        "body_encoding": encoding,
        "content_type": answer.content_type or None,
        "warnings": answer.warnings,
    }
    return json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def json_answer(answer: services.InvokeAnswer) -> Response:
    """:func:`encode_answer` as a response (the documented route's answer)."""
    return Response(encode_answer(answer), media_type="application/json")


async def send_json(send: Send, status: int, content: bytes) -> None:
    """One JSON answer in two ASGI messages, as ``JSONResponse`` sends it."""
    headers = [(b"content-length", str(len(content)).encode("latin-1")), *_JSON_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


_NOT_TAKEN: Final = object()


def _bearer(scope: Scope) -> str | None:
    """The bearer token of a well-formed ``Authorization: Bearer <token>`` header, else None."""
    for name, value in scope["headers"]:
        if name == _AUTHORIZATION:
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


def _json_object(scope: Scope, body: bytes) -> Any:
    """The invoke arguments: None for no body, the object a JSON body holds, else ``_NOT_TAKEN``.

    Only a body declared as JSON is parsed here, as FastAPI does; anything else goes to the
    documented route, whose validation error names what is wrong.
    """
    if not body:
        return None
    content_type = next((v for k, v in scope["headers"] if k == _CONTENT_TYPE), b"")
    media = content_type.split(b";", 1)[0].strip().lower()
    if media != b"application/json" and not (media.startswith(b"application/") and media.endswith(b"+json")):
        return _NOT_TAKEN
    try:
        parsed = json.loads(body)
    except ValueError:
        return _NOT_TAKEN
    return parsed if isinstance(parsed, dict) else _NOT_TAKEN


async def read_body(receive: Receive) -> bytes:
    """The whole request body (what came before a disconnect, if the client went away)."""
    chunks = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away: the call is answered to no one, as the framework would
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A ``receive`` that hands the already read ``body`` on once, then waits as a server would."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _documented_apim(scope: Scope) -> ASGIApp:
    """The documented ``/apim`` route for the request's method (one per method, for their operation ids)."""
    from tether.api.routes.invoke import apim_routes

    app: ASGIApp = (apim_routes.get(scope["method"]) or apim_routes["GET"]).app
    return app


def _keyring(state: State) -> KeyRing:
    """The process's key ring, made once from the settings (as the ``Keys`` dependency does)."""
    ring: KeyRing | None = getattr(state, "keyring", None)
    if ring is None:
        ring = state.keyring = KeyRing.from_settings(state.settings)
    return ring
