"""What the engine needs from the outside world, injected per run: clock, HTTP, connectors.

:class:`ConnectorCaller` is the seam to Tether's connector runtime: the engine only knows a
connection name and a request. :class:`NoConnectorCaller` is the null object used until a
runtime is wired in; it fails the action with a message that says so.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from tether.flows.engine._clock import SYSTEM_CLOCK, Clock
from tether.flows.engine._errors import ActionFailure
from tether.runtime import GuardedTransport, NetworkPolicy, shared_client

__all__ = ["ConnectorCaller", "ConnectorReply", "EngineServices", "NoConnectorCaller"]

# The Http action sends on the runtime's transport (aiohttp's pools and C parser) rather than
# httpx's own, which costs about 0.6 ms more CPU per call on the reference machine. A run in
# Tether carries its environment's network policy (RunSpec.network_policy) on each request;
# without one (the engine used as a library) any address may be reached.
_ANY_ADDRESS = NetworkPolicy(allow_loopback=True, allow_private=True, allow_cidrs=("0.0.0.0/0", "::/0"))


ConnectorReply = tuple[int, Mapping[str, str], Any]


class ConnectorCaller(Protocol):
    """Calls one operation of a connector through a connection; answers (status, headers, body).

    For ``ApiConnection`` actions ``method``/``path`` are the request's; for ``OpenApiConnection``
    (Power Automate's shape) ``method`` is ``"OPERATION"``, ``path`` the operationId and ``body``
    the action's ``parameters``. Connection failures raise :class:`ConnectionError` (retried).
    """

    async def call(
        self,
        connection_name: str,
        method: str,
        path: str,
        queries: Mapping[str, Any],
        headers: Mapping[str, str],
        body: Any,
        idempotency_key: str,
    ) -> ConnectorReply: ...


class NoConnectorCaller:
    """The default ConnectorCaller: no connector runtime is configured, so connector actions fail."""

    async def call(
        self,
        connection_name: str,
        method: str,
        path: str,
        queries: Mapping[str, Any],
        headers: Mapping[str, str],
        body: Any,
        idempotency_key: str,
    ) -> ConnectorReply:
        raise ActionFailure(
            "NoConnectorCaller",
            f"no connector runtime configured: cannot call connection '{connection_name}'. Start the server "
            "with the connector runtime enabled, or pass a ConnectorCaller to the engine.",
        )


@dataclass
class EngineServices:
    """Shared by every run of one process; ``http`` is created on first use when not given."""

    clock: Clock = SYSTEM_CLOCK
    http: httpx.AsyncClient | None = None
    connectors: ConnectorCaller = field(default_factory=NoConnectorCaller)
    rng: random.Random = field(default_factory=random.Random)
    http_timeout: float = 120.0  # REFERENCE.md §7: outbound synchronous requests (each attempt)
    # One Http action's send, retries and their waits included (the action's limit.timeout, when
    # shorter, ends it first); its async polling is bounded by the two limits below.
    http_deadline: float = 3600.0
    async_poll_interval: float = 5.0  # between polls of a 202 Location without Retry-After
    async_timeout: float = 86400.0  # an async action may run for a day (REFERENCE.md §7: "days")
    max_async_polls: int = 5000
    # Without a run's network policy (the engine used as a library) any address may be reached.
    network_policy: NetworkPolicy = _ANY_ADDRESS

    def http_client(self) -> httpx.AsyncClient:
        if self.http is None:
            client = shared_client(GuardedTransport(default_policy=_ANY_ADDRESS), self.http_timeout)
            self.http = client
        return self.http

    async def aclose(self) -> None:
        if self.http is not None:
            await self.http.aclose()
            self.http = None
