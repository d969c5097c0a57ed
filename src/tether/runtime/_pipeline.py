"""The shape every runtime stage shares: one input dataclass, one ``send`` to call next.

Executing an operation is a pipeline built once per connector (Starlette's
``build_middleware_stack``, Temporal's interceptors): request policies, then custom code,
then the transport; each stage gets an :class:`Exchange` and the ``send`` of the stages
after it, and returns the response (response and failure policies work on the way back).
A stage may change the request (``exchange.replace(request=...)``), call ``send`` any
number of times (custom code, pagination), or answer without calling it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from tether.definition import Api, Operation
from tether.runtime._gateway import GatewayTarget

__all__ = ["ConnectionContext", "Exchange", "Send", "Stage", "build_pipeline"]


@dataclass(frozen=True)
class ConnectionContext:
    """What a connection contributes to a call, already decrypted for this call only.

    ``parameters`` are the connection parameter values (policy templates read them with
    ``@connectionParameters('name')``); ``auth`` applies the credentials (an ``httpx.Auth``
    from :mod:`tether.auth`; ``None`` means no credentials). ``connection_id`` keys the
    per-connection rate limit. ``base_url`` overrides the definition's host (the etcd spec
    has none; a gateway or a test server may stand elsewhere). ``gateway``, when set, sends the
    calls through that on-premises gateway (``_gateway.py``) with its sealed credentials.
    """

    connection_id: str = "anonymous"
    parameters: Mapping[str, Any] = field(default_factory=dict)
    auth: httpx.Auth | None = field(default=None, repr=False)
    base_url: str | None = None
    gateway: GatewayTarget | None = None

    def __repr__(self) -> str:  # parameter values may be secrets
        return f"ConnectionContext(connection_id={self.connection_id!r}, base_url={self.base_url!r})"


@dataclass(frozen=True)
class Exchange:
    """One operation call on its way through the pipeline."""

    api: Api
    operation: Operation
    connection: ConnectionContext
    request: httpx.Request
    arguments: Mapping[str, Any] = field(default_factory=dict)
    correlation_id: str = ""

    def replace(self, **changes: Any) -> Exchange:
        return dataclasses.replace(self, **changes)


Send = Callable[[Exchange], Awaitable[httpx.Response]]


class Stage(Protocol):
    """One step of the pipeline: do something, usually call ``send``, return a response."""

    async def __call__(self, exchange: Exchange, send: Send) -> httpx.Response: ...


def build_pipeline(stages: Sequence[Stage], transport: Send) -> Send:
    """Chain ``stages`` (first runs first) in front of ``transport``."""
    send = transport
    for stage in reversed(stages):
        send = _bind(stage, send)
    return send


def _bind(stage: Stage, send: Send) -> Send:
    async def call(exchange: Exchange) -> httpx.Response:
        return await stage(exchange, send)

    return call
