"""One connected agent as the server sees it: many calls multiplexed over its WebSocket.

A :class:`AgentLink` sends request frames and body chunks, and routes what the agent answers
(response heads, body chunks, errors) to the waiting call by id. When the socket goes away,
every call still waiting learns it (:class:`LinkLost` before the answer began, a read error
after), so the hub can retry an idempotent call on another member.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tether.gateway._protocol import CHUNK, encode_frame, pack_chunk
from tether.runtime import GatewayError, GatewayHostNotAllowed, GatewayTarget

__all__ = ["AgentLink", "LinkLost"]

SendText = Callable[[str], Awaitable[None]]
SendBytes = Callable[[bytes], Awaitable[None]]
Close = Callable[[], Awaitable[None]]


class LinkLost(Exception):
    """The agent's socket closed before the call's answer began; ``sent`` says whether it got the request."""

    def __init__(self, sent: bool) -> None:
        super().__init__("the gateway agent disconnected")
        self.sent = sent


@dataclass
class _Call:
    head: asyncio.Future[dict[str, Any]]
    body: asyncio.Queue[bytes | BaseException | None] = field(default_factory=asyncio.Queue)
    sent: bool = False


class AgentLink:
    """The server's end of one agent's tunnel (see the module docstring)."""

    def __init__(
        self,
        *,
        member_id: str,
        name: str,
        gateway_id: str,
        version: str,
        send_text: SendText,
        send_bytes: SendBytes,
        close: Close | None = None,
    ) -> None:
        self.member_id = member_id
        self.name = name
        self.gateway_id = gateway_id
        self.version = version
        self.load = 0
        self.healthy = True
        self.last_contact = time.monotonic()
        self.closed = False
        self._send_text = send_text
        self._send_bytes = send_bytes
        self._close = close
        self._lock = asyncio.Lock()  # one writer at a time on the socket
        self._calls: dict[int, _Call] = {}
        self._ids = itertools.count(1)

    @property
    def in_flight(self) -> int:
        return len(self._calls)

    async def _text(self, frame: str) -> None:
        async with self._lock:
            await self._send_text(frame)

    async def _bytes(self, frame: bytes) -> None:
        async with self._lock:
            await self._send_bytes(frame)

    async def call(
        self, target: GatewayTarget, request: httpx.Request, *, credentials: bool, timeout: float
    ) -> httpx.Response:
        """Relay ``request`` to the agent; the response head, with the body streaming behind it."""
        if self.closed:
            raise LinkLost(sent=False)
        call_id = next(self._ids)
        call = _Call(asyncio.get_running_loop().create_future())
        self._calls[call_id] = call
        body = _has_body(request)
        try:
            await self._text(
                encode_frame(
                    "request",
                    id=call_id,
                    method=request.method,
                    url=str(request.url),
                    headers=[[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw],
                    timeout=max(0.001, min(timeout, 3600.0)),
                    credentials=dict(target.credentials) if credentials else None,
                    body=body,
                )
            )
            call.sent = True
            if body:
                async for chunk in _chunks(request):
                    await self._bytes(pack_chunk(call_id, chunk))
                await self._bytes(pack_chunk(call_id, b"", last=True))
            head = await call.head
        except BaseException:
            self._forget(call_id, cancel=not self.closed)
            raise
        if head["t"] == "error":
            self._calls.pop(call_id, None)
            raise _error(head, request, target)
        return httpx.Response(
            head["status"],
            headers=[(k, v) for k, v in head["headers"]],
            stream=_TunnelStream(self, call_id, call, request),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": b""},
        )

    def _forget(self, call_id: int, *, cancel: bool) -> None:
        if self._calls.pop(call_id, None) is not None and cancel:
            # The caller gave up (deadline, cancellation): tell the agent to stop the upstream call.
            task = asyncio.ensure_future(self._text(encode_frame("cancel", id=call_id)))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def answered(self, frame: dict[str, Any]) -> None:
        """A ``response`` or ``error`` frame from the agent."""
        call = self._calls.get(frame["id"])
        if call is None:
            return
        if not call.head.done():
            call.head.set_result(frame)
        elif frame["t"] == "error":  # the upstream failed after its answer began
            call.body.put_nowait(httpx.ReadError(f"through the gateway: {frame['message']}"))

    def chunk(self, call_id: int, last: bool, data: bytes) -> None:
        """A body chunk from the agent (for a call that may have been given up already)."""
        call = self._calls.get(call_id)
        if call is None:
            return
        if data:
            call.body.put_nowait(data)
        if last:
            call.body.put_nowait(None)

    async def close(self) -> None:
        """Close the tunnel from this side (a removed member); waiting calls learn it at once."""
        self.lost()
        if self._close is not None:
            with contextlib.suppress(Exception):  # already closing from the other side
                await self._close()

    def lost(self) -> None:
        """The socket closed: every waiting call learns it."""
        self.closed = True
        for call in list(self._calls.values()):
            if not call.head.done():
                call.head.set_exception(LinkLost(call.sent))
            else:
                call.body.put_nowait(httpx.ReadError("the gateway agent disconnected during the answer"))
        self._calls.clear()


class _TunnelStream(httpx.AsyncByteStream):
    def __init__(self, link: AgentLink, call_id: int, call: _Call, request: httpx.Request) -> None:
        self._link, self._id, self._call, self._request = link, call_id, call, request
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not self._done:
            item = await self._call.body.get()
            if item is None:
                self._done = True
                self._link._calls.pop(self._id, None)
                return
            if isinstance(item, BaseException):
                self._done = True
                raise item
            yield item

    async def aclose(self) -> None:
        if not self._done:
            self._done = True
            self._link._forget(self._id, cancel=not self._link.closed)


def _has_body(request: httpx.Request) -> bool:
    try:
        return bool(request.content)
    except httpx.RequestNotRead:
        return True  # a streamed upload: chunks until it ends


async def _chunks(request: httpx.Request) -> AsyncIterator[bytes]:
    try:
        content = request.content
    except httpx.RequestNotRead:
        if not isinstance(request.stream, httpx.AsyncByteStream):
            raise TypeError("the gateway relays async request bodies only") from None
        pending = b""
        async for piece in request.stream:
            pending += piece
            while len(pending) >= CHUNK:
                yield pending[:CHUNK]
                pending = pending[CHUNK:]
        if pending:
            yield pending
        return
    for start in range(0, len(content), CHUNK):
        yield content[start : start + CHUNK]


def _error(frame: dict[str, Any], request: httpx.Request, target: GatewayTarget) -> Exception:
    """The agent's error frame as the exception the transport understands."""
    kind, message = frame["kind"], frame["message"]
    if kind == "not-allowed":
        return GatewayHostNotAllowed(
            f"gateway {target.name!r} refused {request.url.host}: {message}",
            detail={"gateway": target.name, "host": request.url.host},
        )
    if kind == "connect":
        return httpx.ConnectError(f"through gateway {target.name!r}: {message}", request=request)
    if kind == "timeout":
        return httpx.ReadTimeout(f"through gateway {target.name!r}: {message}", request=request)
    if kind == "upstream":
        return httpx.RemoteProtocolError(f"through gateway {target.name!r}: {message}", request=request)
    return GatewayError(f"gateway {target.name!r} could not make the call: {message}", detail={"kind": kind})
