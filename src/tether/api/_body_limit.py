"""A byte cap on the request bodies of the upload routes, enforced before anything reads them.

FastAPI parses a multipart form (spooling files to disk) before the route runs, so a cap in
the route comes after the server has already taken the whole body. This ASGI middleware
refuses a declared ``Content-Length`` over ``MAX_UPLOAD_BYTES`` at once, and counts the bytes
of a body sent without one (chunked), answering 413 problem+json the moment it passes the cap.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tether.api._problems import problem
from tether.definition import MAX_UPLOAD_BYTES

__all__ = ["UPLOAD_ROUTES", "UploadBodyLimit"]

# Create, import, validate (POST) and update (PUT) of connectors: the routes that take files.
UPLOAD_ROUTES = re.compile(r"^/api/v1/environments/[^/]+/connectors(?:/[^/]+)?/?$")
_METHODS = frozenset({"POST", "PUT"})


class UploadBodyLimit:
    """Answer 413 to an upload route whose body is larger than ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_upload(scope):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send, declared)
            return
        seen = 0
        refused = False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes and not refused:
                    refused = True
                    await self._refuse(scope, receive, send, None)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:  # the 413 is already out; the app's own answer is dropped
                await send(message)

        await self.app(scope, counted_receive, guarded_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, declared: int | None) -> None:
        size = f" ({declared / 2**20:.1f} MiB)" if declared is not None else ""
        response = problem(
            413,
            "too-large",
            f"the request body{size} is larger than the {self.max_bytes // 2**20} MiB an upload may have; "
            "send a smaller file (a zip of the package compresses well)",
            limit="MAX_UPLOAD_BYTES",
            value=self.max_bytes,
        )
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)


def _is_upload(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] not in _METHODS:
        return False
    return UPLOAD_ROUTES.match(scope["path"]) is not None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
