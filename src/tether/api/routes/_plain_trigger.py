"""The Request trigger's signed URL as a plain ASGI endpoint: the flow hot path, without the framework.

Every call of ``/api/v1/flows/{flow}/triggers/{trigger}/invoke`` (and ``/paths/invoke/…``) is a
flow run. Through the framework each one paid for what a run does not use (the router's search, a
``Request``, the response wrappers), about a quarter of a stateless run's CPU. This endpoint is
one more of the app's hot routes (``api/_hot_routes.py``, like invoke and ``/apim``): it reads
what it needs from the ASGI scope and calls the flow host with the same arguments as the
documented FastAPI route in ``flows.py``. Errors are raised, not answered here: the app's own
exception handlers turn them into problem+json (``Retry-After`` on a 429 included).
"""

from __future__ import annotations

import json
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from tether.api._flow_host import app_flow_host
from tether.api.routes._plain import HAND_ON, read_body

__all__ = ["PlainTrigger", "encode_trigger_answer"]

_CONTENT_TYPE: Final = "content-type"
_JSON: Final = b"application/json"
_TEXT: Final = b"text/plain; charset=utf-8"
_RUN_ID: Final = b"x-ms-workflow-run-id"
Headers = list[tuple[bytes, bytes]]  # raw ASGI headers


class PlainTrigger:
    """``…/triggers/{trigger}/invoke`` or ``…/paths/invoke/{path}``, the trigger's methods."""

    def __init__(self, parse_body: Any) -> None:
        self._parse_body = parse_body  # the documented route's body parsing, shared
        self.route: Any = None  # this endpoint's route, set when the router is built

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self.route  # what metrics and traces name the call by (see _telemetry.py)
        scope.pop(HAND_ON, None)  # every call is taken: nothing is handed on
        runtime = app_flow_host(scope["app"])
        headers: dict[str, str] = {}
        for key, value in scope["headers"]:
            name = key.decode("latin-1")  # lower case already (ASGI); the first of repeated ones
            if name not in headers:
                headers[name] = value.decode("latin-1")
        body = self._parse_body(await read_body(receive), headers.get(_CONTENT_TYPE, ""))
        queries = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        sig = queries.pop("sig", None)
        params = scope["path_params"]
        run_id, future = await runtime.fire_request(
            params["flow_id"],
            params["trigger"],
            sig=sig,
            method=scope["method"],
            headers=headers,
            queries=queries,
            body=body,
            path=params.get("path", ""),
        )
        if future is not None:
            answer = await runtime.wait_response(run_id, future)
            if answer is not None:
                status, answer_headers, content = encode_trigger_answer(answer, run_id)
                await _send(send, status, answer_headers, content)
                return
        accepted = _dumps({"runId": run_id, "status": "Accepted"})
        length = str(len(accepted)).encode("latin-1")
        raw = [(_RUN_ID, run_id.encode("latin-1")), (b"content-length", length), (b"content-type", _JSON)]
        await _send(send, 202, raw, accepted)


def encode_trigger_answer(answer: dict[str, Any], run_id: str) -> tuple[int, Headers, bytes]:
    """A Response action's answer as status, raw headers and body, as the documented route answers it:
    the action's headers (the run id's header last, winning), a JSON body unless it is a string
    (text/plain, unless the action names a content type), no body for none."""
    status = int(answer.get("statusCode", 200))
    extra = {str(k): str(v) for k, v in (answer.get("headers") or {}).items()}
    extra["x-ms-workflow-run-id"] = run_id
    named = {k.lower() for k in extra}
    body = answer.get("body")
    content: bytes
    media: bytes | None
    if body is None:
        content, media = b"", None
    elif isinstance(body, str):
        content, media = body.encode(), None if _CONTENT_TYPE in named else _TEXT
    else:
        content, media = _dumps(body), None if _CONTENT_TYPE in named else _JSON
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
    if "content-length" not in named and not (status < 200 or status in (204, 304)):
        raw.append((b"content-length", str(len(content)).encode("latin-1")))
    if media is not None:
        raw.append((b"content-type", media))
    return status, raw, content


def _dumps(value: Any) -> bytes:
    """JSON as Starlette's ``JSONResponse`` renders it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


async def _send(send: Send, status: int, headers: Headers, content: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
