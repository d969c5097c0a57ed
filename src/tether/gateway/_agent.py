"""The on-premises agent: dials out to Tether over a WebSocket and makes calls inside the private network.

The agent is a separate road by design: it runs inside the private network with its own httpx
client, and its admin's allowlist (not the server's SSRF guard) says what it may reach. It
opens the sealed credentials with the cluster's private key and applies the auth scheme with
Tether's own scheme classes. It reconnects with exponential backoff and full jitter, and
reports its version, health and load every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

import tether
from tether.auth import ApiKeyAuth, BasicAuth, BearerAuth
from tether.errors import AuthError, TetherError
from tether.gateway._allowlist import Allowlist
from tether.gateway._config import AgentConfig
from tether.gateway._protocol import (
    CHUNK,
    MAX_TEXT_FRAME,
    ProtocolViolation,
    encode_frame,
    pack_chunk,
    parse_frame,
    unpack_chunk,
)
from tether.secrets import SealError, is_sealed, open_sealed

__all__ = ["Agent", "AgentRefused", "agent_client", "backoff_delay", "websocket_url"]

logger = logging.getLogger("tether.gateway.agent")

_FROM_SERVER: Final = frozenset({"welcome", "refused", "request", "cancel"})
_BACKOFF_BASE: Final = 0.5
_BACKOFF_CAP: Final = 30.0
_HEALTH_EVERY: Final = 5.0
AGENT_HEADER: Final = "X-Tether-Gateway-Agent"


class AgentRefused(AuthError):
    """The server refused this agent (unknown or removed member, version too old): retrying won't help."""

    code = "gateway-agent-refused"


def agent_client() -> httpx.AsyncClient:
    """The agent's own HTTP client: no environment proxy, no redirects followed, no cookies kept."""
    return httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=httpx.Timeout(120.0))


def websocket_url(server: str) -> str:
    """The tunnel's URL on ``server``: ``wss://`` when the server is https."""
    url = httpx.URL(server.rstrip("/") + "/api/v1/gateway/connect")
    return str(url.copy_with(scheme="wss" if url.scheme == "https" else "ws"))


def backoff_delay(attempt: int, *, base: float = _BACKOFF_BASE, cap: float = _BACKOFF_CAP) -> float:
    """Seconds before reconnect ``attempt`` (0-based): exponential, capped, with full jitter."""
    return random.uniform(base / 2, min(cap, base * 2**attempt))


class Agent:
    """One agent process (see the module docstring); ``run`` until ``stop`` is set."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        client: httpx.AsyncClient | None = None,
        health_every: float = _HEALTH_EVERY,
    ) -> None:
        self.config = config
        self.allowlist = Allowlist(config.allow)
        self._private_key = config.private_key_bytes
        self._client = client or agent_client()
        self._health_every = health_every
        self._calls: dict[int, asyncio.Task[None]] = {}
        self._bodies: dict[int, asyncio.Queue[bytes | None]] = {}
        self.connected = asyncio.Event()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Keep a tunnel open, reconnecting after failures, until ``stop`` is set."""
        stop = stop or asyncio.Event()
        attempt = 0
        try:
            while not stop.is_set():
                try:
                    await self._connect_once(stop)
                    attempt = 0
                except AgentRefused:
                    raise
                except (OSError, WebSocketException, TimeoutError, ProtocolViolation) as exc:
                    logger.warning("gateway tunnel to %s failed: %s", self.config.server, exc)
                self.connected.clear()
                if stop.is_set():
                    break
                delay = backoff_delay(attempt)
                attempt += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
        finally:
            await self._client.aclose()

    async def _connect_once(self, stop: asyncio.Event) -> None:
        headers = {
            "Authorization": f"Bearer {self.config.member_id}:{self.config.secret}",
            AGENT_HEADER: tether.__version__,
        }
        async with connect(
            websocket_url(self.config.server),
            additional_headers=headers,
            max_size=MAX_TEXT_FRAME + CHUNK,
            open_timeout=15,
            ping_interval=10,
            ping_timeout=20,
        ) as ws:
            health = asyncio.create_task(self._report_health(ws))
            stopping = asyncio.create_task(stop.wait())
            try:
                reading = asyncio.create_task(self._read(ws))
                done, _ = await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if reading in done:
                    reading.result()
                else:
                    reading.cancel()
                    with contextlib.suppress(asyncio.CancelledError, WebSocketException):
                        await reading
            finally:
                health.cancel()
                stopping.cancel()
                for task in list(self._calls.values()):
                    task.cancel()
                self._calls.clear()
                self._bodies.clear()

    async def _read(self, ws: ClientConnection) -> None:
        async for message in ws:
            if isinstance(message, bytes):
                call_id, last, data = unpack_chunk(message)
                queue = self._bodies.get(call_id)
                if queue is not None:
                    if data:
                        queue.put_nowait(data)
                    if last:
                        queue.put_nowait(None)
                continue
            frame = parse_frame(message, allowed=_FROM_SERVER)
            kind = frame["t"]
            if kind == "welcome":
                logger.info("gateway agent %s connected to %s", self.config.name, self.config.server)
                self.connected.set()
            elif kind == "refused":
                raise AgentRefused(
                    f"the server refused this agent: {frame['message']}", detail={"code": frame["code"]}
                )
            elif kind == "cancel":
                task = self._calls.pop(frame["id"], None)
                if task is not None:
                    task.cancel()
            else:
                if frame["body"]:
                    self._bodies[frame["id"]] = asyncio.Queue()
                task = asyncio.create_task(self._serve(ws, frame))
                self._calls[frame["id"]] = task
                task.add_done_callback(functools.partial(self._done, frame["id"]))

    def _done(self, call_id: int, _task: asyncio.Task[None]) -> None:
        self._calls.pop(call_id, None)
        self._bodies.pop(call_id, None)

    async def _report_health(self, ws: ClientConnection) -> None:
        while True:
            await ws.send(
                encode_frame("health", version=tether.__version__, load=len(self._calls), healthy=True)
            )
            await asyncio.sleep(self._health_every)

    async def _serve(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        """One call; whatever happens, the server hears how it ended (never a call left waiting)."""
        try:
            await self._call(ws, frame)
            return
        except asyncio.CancelledError:
            raise
        except _CallFailed as failed:
            kind, message = failed.kind, failed.message
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            kind, message = "connect", f"cannot connect to the API ({type(exc).__name__}: {exc})"
        except (httpx.TimeoutException, TimeoutError) as exc:
            kind, message = "timeout", f"the API did not answer in time ({type(exc).__name__})"
        except httpx.HTTPError as exc:
            kind, message = "upstream", f"{type(exc).__name__}: {exc}"
        except WebSocketException:
            return  # the tunnel is gone; the server fails the call over or reports it
        except Exception:
            logger.exception("gateway agent: a call failed unexpectedly")
            kind, message = "upstream", "the gateway agent failed to make the call (see the agent's log)"
        await _send_quietly(ws, encode_frame("error", id=frame["id"], kind=kind, message=message[:2000]))

    async def _call(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        call_id = frame["id"]
        try:
            url = httpx.URL(frame["url"])
        except httpx.InvalidURL as exc:
            raise _CallFailed("bad-request", f"invalid URL ({exc})") from exc
        if url.scheme not in ("http", "https") or not url.host:
            raise _CallFailed("bad-request", "only http and https URLs with a host can be called")
        port = url.port or (443 if url.scheme == "https" else 80)
        if not self.allowlist.allows(url.host, port):
            raise _CallFailed("not-allowed", self.allowlist.refusal(url.host, port))
        auth = self._auth(frame["credentials"])
        body = self._body(call_id) if frame["body"] else None
        request = httpx.Request(
            frame["method"], url, headers=[tuple(pair) for pair in frame["headers"]], content=body
        )
        async with asyncio.timeout(frame["timeout"]):
            response = await self._client.send(request, auth=auth, stream=True, follow_redirects=False)
            try:
                headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in response.headers.raw]
                await ws.send(
                    encode_frame("response", id=call_id, status=response.status_code, headers=headers)
                )
                async for chunk in response.aiter_raw(CHUNK):
                    await ws.send(pack_chunk(call_id, chunk))
                await ws.send(pack_chunk(call_id, b"", last=True))
            finally:
                await response.aclose()

    async def _body(self, call_id: int) -> AsyncIterator[bytes]:
        queue = self._bodies[call_id]
        while True:
            chunk = await queue.get()
            if chunk is None:
                return
            yield chunk

    def _auth(self, plan: Mapping[str, str] | None) -> httpx.Auth | None:
        """The auth scheme of the call's plan, its sealed values opened with the cluster's key."""
        if not plan or plan.get("kind") == "none":
            return None
        try:
            values = {k: self._open(v) for k, v in plan.items() if k != "kind"}
            kind = plan.get("kind")
            if kind == "basic":
                return BasicAuth(values["username"], values["password"])
            if kind == "bearer":  # "Bearer <token>" typed into an API key box is accepted too
                head, _, rest = values["value"].strip().partition(" ")
                return BearerAuth(
                    rest.strip() if head.lower() == "bearer" and rest.strip() else values["value"]
                )
            if kind == "api_key":
                return ApiKeyAuth(values["name"], values["in"], values["value"])
        except SealError as exc:
            raise _CallFailed(
                "credentials",
                "this agent cannot open the connection's sealed credentials (sealed to another cluster's "
                "key?): recreate the connection through this gateway",
            ) from exc
        except (KeyError, TetherError) as exc:
            raise _CallFailed("credentials", "the connection's auth plan is incomplete") from exc
        raise _CallFailed("credentials", f"unknown auth scheme {plan.get('kind')!r}")

    def _open(self, value: str) -> str:
        return open_sealed(self._private_key, value).decode("utf-8") if is_sealed(value) else value


class _CallFailed(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


async def _send_quietly(ws: ClientConnection, frame: str) -> None:
    with contextlib.suppress(WebSocketException):
        await ws.send(frame)
