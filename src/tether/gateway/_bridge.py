"""Distributed mode: a call arriving at one ``tether serve`` replica reaches an agent connected to another.

Through Redis, like the rest of the distributed mode (``settings.broker_url``):

- **presence**: a replica with agents of a gateway keeps ``tether:gw:<gateway>:at:<replica>`` alive
  (a key that expires 15 s after the replica stops renewing it);
- **requests**: the replica that has no agent pushes the call onto the chosen replica's inbox list
  (``tether:gw:inbox:<replica>``), body included (bounded), and blocks on a reply list of its own;
- **replies**: the agent's replica relays the call through its hub and pushes the answer onto the
  reply list: ``H`` + the response head as JSON, ``C`` + a body chunk (streamed), ``E`` at the end,
  or ``X`` + an error as JSON. The reply list expires, so nothing is left behind by a caller that died.

Sealed credentials travel as they are (Redis sees only what the database already holds).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Final

import httpx
import redis.asyncio as aioredis

from tether.errors import TetherError
from tether.runtime import GatewayError, GatewayHostNotAllowed, GatewayOffline, GatewayTarget, UpstreamTimeout

if TYPE_CHECKING:
    from tether.gateway._hub import Hub

__all__ = ["RedisBridge"]

logger = logging.getLogger("tether.gateway")

_PRESENCE_TTL: Final = 15
_PRESENCE_EVERY: Final = 5.0
_REPLY_TTL: Final = 120
_MAX_FORWARDED_BODY: Final = 32 * 1024 * 1024
_CHUNK: Final = 64 * 1024


class RedisBridge:
    """Forwards calls to the replica holding an agent, and serves calls forwarded to this replica."""

    def __init__(self, url: str, hub: Hub, *, replica_id: str | None = None) -> None:
        self.replica_id = replica_id or uuid.uuid4().hex
        self._redis = aioredis.from_url(url)
        self._hub = hub
        self._tasks: list[asyncio.Task[None]] = []
        self._serving: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Start keeping presence and reading this replica's inbox."""
        self._tasks = [asyncio.create_task(self._presence()), asyncio.create_task(self._inbox())]

    async def aclose(self) -> None:
        for task in [*self._tasks, *self._serving]:
            task.cancel()
        for task in [*self._tasks, *self._serving]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            for gateway_id in self._hub.gateway_ids():
                await self._redis.delete(_presence_key(gateway_id, self.replica_id))
        await self._redis.aclose()

    async def announce(self, gateway_id: str) -> None:
        """Say at once that this replica now has an agent of ``gateway_id`` (or no longer has)."""
        key = _presence_key(gateway_id, self.replica_id)
        if self._hub.links(gateway_id):
            await self._redis.set(key, "1", ex=_PRESENCE_TTL)
        else:
            await self._redis.delete(key)

    async def _presence(self) -> None:
        while True:
            try:
                for gateway_id in self._hub.gateway_ids():
                    await self.announce(gateway_id)
            except Exception:
                logger.exception("gateway bridge: could not renew this replica's presence in Redis")
            await asyncio.sleep(_PRESENCE_EVERY)

    async def forward(
        self, target: GatewayTarget, request: httpx.Request, *, credentials: bool, timeout: float
    ) -> httpx.Response:
        """Send the call to a replica that has an agent of the gateway; its answer, streamed back."""
        pattern = _presence_key(target.gateway_id, "*")
        replicas = [key.decode().rsplit(":", 1)[1] async for key in self._redis.scan_iter(match=pattern)]
        replicas = [r for r in replicas if r != self.replica_id]
        if not replicas:
            raise GatewayOffline(
                f"gateway {target.name!r} is offline: no agent of it is connected to any server replica. "
                "Start one inside the private network ('tether gateway run').",
                detail={"gateway": target.name},
            )
        body = await request.aread()
        if len(body) > _MAX_FORWARDED_BODY:
            raise GatewayError(
                f"a body over {_MAX_FORWARDED_BODY} bytes cannot be forwarded between replicas"
            )
        call_id = uuid.uuid4().hex
        reply = f"tether:gw:reply:{call_id}"
        message = {
            "reply": reply,
            "target": {
                "gateway_id": target.gateway_id,
                "name": target.name,
                "credentials": dict(target.credentials),
            },
            "method": request.method,
            "url": str(request.url),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw],
            "body": base64.b64encode(body).decode("ascii"),
            "credentials": credentials,
            "timeout": timeout,
        }
        await self._redis.rpush(f"tether:gw:inbox:{random.choice(replicas)}", json.dumps(message))
        first = await self._next(reply, timeout, target)
        kind, payload = first[:1], first[1:]
        if kind == b"X":
            raise _error(json.loads(payload), request, target)
        head = json.loads(payload)
        return httpx.Response(
            head["status"],
            headers=[tuple(pair) for pair in head["headers"]],
            stream=_ForwardedStream(self, reply, timeout, target),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": b""},
        )

    async def _next(self, reply: str, timeout: float, target: GatewayTarget) -> bytes:
        item = await self._redis.blpop([reply], timeout=max(1, int(timeout + 1)))
        if item is None:
            raise UpstreamTimeout(
                f"gateway {target.name!r}: the replica holding its agent did not answer in time"
            )
        value = item[1]
        return value.encode() if isinstance(value, str) else bytes(value)

    async def _inbox(self) -> None:
        inbox = f"tether:gw:inbox:{self.replica_id}"
        while True:
            try:
                item = await self._redis.blpop([inbox], timeout=5)
            except Exception:
                logger.exception("gateway bridge: cannot read this replica's inbox; retrying")
                await asyncio.sleep(1)
                continue
            if item is None:
                continue
            task = asyncio.create_task(self._serve(json.loads(item[1])))
            self._serving.add(task)
            task.add_done_callback(self._serving.discard)

    async def _serve(self, message: dict[str, Any]) -> None:
        reply = message["reply"]
        raw = message["target"]
        target = GatewayTarget(raw["gateway_id"], raw["name"], raw["credentials"])
        request = httpx.Request(
            message["method"],
            message["url"],
            headers=[tuple(pair) for pair in message["headers"]],
            content=base64.b64decode(message["body"]),
        )
        try:
            response = await self._hub.send_local(
                target, request, credentials=bool(message["credentials"]), timeout=float(message["timeout"])
            )
        except Exception as exc:  # every failure goes back to the caller, which raises it there
            await self._push(reply, b"X" + json.dumps(_describe(exc)).encode())
            return
        try:
            headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in response.headers.raw]
            await self._push(
                reply, b"H" + json.dumps({"status": response.status_code, "headers": headers}).encode()
            )
            async for chunk in response.aiter_raw():
                for start in range(0, len(chunk), _CHUNK):
                    await self._push(reply, b"C" + chunk[start : start + _CHUNK])
            await self._push(reply, b"E")
        except Exception as exc:
            await self._push(reply, b"X" + json.dumps(_describe(exc)).encode())
        finally:
            await response.aclose()

    async def _push(self, reply: str, item: bytes) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.rpush(reply, item)
            pipe.expire(reply, _REPLY_TTL)
            await pipe.execute()


class _ForwardedStream(httpx.AsyncByteStream):
    def __init__(self, bridge: RedisBridge, reply: str, timeout: float, target: GatewayTarget) -> None:
        self._bridge, self._reply, self._timeout, self._target = bridge, reply, timeout, target

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            item = await self._bridge._next(self._reply, self._timeout, self._target)
            kind, payload = item[:1], item[1:]
            if kind == b"E":
                return
            if kind == b"X":
                raise httpx.ReadError(json.loads(payload).get("message", "the forwarded answer broke off"))
            yield payload


def _presence_key(gateway_id: str, replica: str) -> str:
    return f"tether:gw:{gateway_id}:at:{replica}"


def _describe(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, GatewayHostNotAllowed):
        return {"kind": "not-allowed", "message": exc.message, "detail": exc.detail}
    if isinstance(exc, TetherError):
        return {"kind": "tether", "code": exc.code, "message": exc.message}
    if isinstance(exc, httpx.ConnectError):
        return {"kind": "connect", "message": str(exc)}
    if isinstance(exc, httpx.TimeoutException):
        return {"kind": "timeout", "message": str(exc)}
    return {"kind": "upstream", "message": f"{type(exc).__name__}: {exc}"}


def _error(info: dict[str, Any], request: httpx.Request, target: GatewayTarget) -> Exception:
    kind, message = info.get("kind"), str(info.get("message", ""))
    if kind == "not-allowed":
        return GatewayHostNotAllowed(message, detail=info.get("detail") or {})
    if kind == "connect":
        return httpx.ConnectError(message, request=request)
    if kind == "timeout":
        return httpx.ReadTimeout(message, request=request)
    if kind == "tether" and info.get("code") == GatewayOffline.code:
        return GatewayOffline(message)
    if kind == "tether":
        return GatewayError(message, detail={"code": info.get("code")})
    return httpx.RemoteProtocolError(message, request=request)
