"""The gateway route inside the one road: calls of a connection that goes through an on-premises gateway.

When a connection names a gateway, its calls still take the runtime's :class:`Transport`
(rate limit, deadline, retries, redirects, logs), but the last hop is not this process's
network: the request, already built by the pipeline with policies applied, is handed to a
:class:`Relay` (the gateway layer's hub) which sends it over a tunnel to an agent inside the
private network. The server's SSRF guard does not apply to that private address; the agent's
own allowlist does. Credentials are not applied here: they are sealed to the gateway cluster's
key (``GatewayTarget.credentials``), and the agent opens them and applies the auth scheme.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from tether.errors import PermissionDenied
from tether.runtime._errors import UpstreamError

__all__ = [
    "AgentTooOld",
    "GatewayDoor",
    "GatewayError",
    "GatewayHostNotAllowed",
    "GatewayOffline",
    "GatewayTarget",
    "NoHealthyMember",
    "Relay",
]


@dataclass(frozen=True)
class GatewayTarget:
    """Which gateway a connection's calls go through, and its sealed credentials.

    ``credentials`` is the auth plan (``{"kind": "basic", "username": …, "password": "tg1.…"}``,
    ``api_key`` with ``name``/``in``/``value``, ``bearer`` with ``value``, or ``none``): values the
    server may read are plain, secret ones are sealed to the cluster's key.
    """

    gateway_id: str
    name: str
    credentials: Mapping[str, Any] = field(default_factory=dict, repr=False)


class Relay(Protocol):
    """Sends one request through a gateway; answers with the upstream response, body unread (a stream)."""

    async def send(
        self, target: GatewayTarget, request: httpx.Request, *, credentials: bool, timeout: float
    ) -> httpx.Response: ...


class GatewayError(UpstreamError):
    """A call through an on-premises gateway could not be relayed."""

    code = "gateway-error"
    status = 502


class GatewayOffline(GatewayError):
    """No agent of the gateway is connected (to this server or, in distributed mode, any replica)."""

    code = "gateway-offline"
    status = 503
    retryable = True


class NoHealthyMember(GatewayError):
    """Agents are connected but none is healthy enough to take the call (all failed or draining)."""

    code = "gateway-no-healthy-member"
    status = 503
    retryable = True


class AgentTooOld(GatewayError):
    """The agent's version is older than this server accepts. The agent is the client here (it
    registers or connects), so this is its error to fix: 426 Upgrade Required, not a 5xx."""

    code = "gateway-agent-too-old"
    status = 426


class GatewayHostNotAllowed(PermissionDenied):
    """The agent refused the destination: it is not in the allowlist its admin set."""

    code = "gateway-host-not-allowed"


class GatewayDoor:
    """The process's way into the gateway relay: set once by whoever hosts it (the API server).

    A runtime's transports share one door, so a relay attached after they were made still
    serves them; a process with no relay refuses gateway calls with :class:`GatewayOffline`.
    """

    def __init__(self) -> None:
        self.relay: Relay | None = None

    async def send(
        self, target: GatewayTarget, request: httpx.Request, *, credentials: bool, timeout: float
    ) -> httpx.Response:
        """Hand ``request`` to the relay (see :class:`Relay`)."""
        if self.relay is None:
            raise GatewayOffline(
                f"gateway {target.name!r} cannot be reached from this process: it hosts no gateway relay "
                "(gateway calls run in 'tether serve', or in workers configured with Redis)"
            )
        return await self.relay.send(target, request, credentials=credentials, timeout=timeout)
