"""The server's relay: the agents connected to this process, and how a call picks one.

:class:`Hub` is the runtime's :class:`~tether.runtime.Relay`. A call goes to the least-loaded
healthy member of its gateway (ties broken at random); when that member's socket dies before
the answer began, the call is tried once more on another member if that cannot repeat a side
effect (the request never reached the agent, or its method is idempotent). It also serves each
agent's WebSocket (:meth:`Hub.serve`): authenticated by the API route, then frames in, frames out.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

import httpx

from tether.gateway._link import AgentLink, LinkLost

if TYPE_CHECKING:
    from tether.gateway._bridge import RedisBridge
from tether.gateway._protocol import ProtocolViolation, parse_frame, unpack_chunk
from tether.runtime import GatewayOffline, GatewayTarget, NoHealthyMember
from tether.services import note_agent_contact, record_gateway_offline
from tether.store import Database

__all__ = ["IDEMPOTENT_METHODS", "Hub"]

logger = logging.getLogger("tether.gateway")

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_FROM_AGENT: Final = frozenset({"response", "error", "health"})
# How often (at most) an agent's health report is written to the database.
_CONTACT_EVERY: Final = 15.0

Receive = Callable[[], Awaitable[str | bytes | None]]


class Hub:
    """Agents connected here, by gateway; sends calls to them (see the module docstring)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._links: dict[str, dict[str, AgentLink]] = {}
        # Calls retried on another member after theirs disconnected (for operators and the HA test).
        self.failovers = 0
        # Distributed mode: reaches agents connected to other replicas (set by the app when Redis is).
        self.bridge: RedisBridge | None = None

    def links(self, gateway_id: str) -> list[AgentLink]:
        """The connected members of a gateway (a copy)."""
        return list(self._links.get(gateway_id, {}).values())

    def gateway_ids(self) -> list[str]:
        """The gateways with at least one agent connected here."""
        return [gateway_id for gateway_id, members in self._links.items() if members]

    async def send(
        self, target: GatewayTarget, request: httpx.Request, *, credentials: bool, timeout: float
    ) -> httpx.Response:
        """The runtime's relay: an agent connected here, else (distributed mode) one on another replica."""
        if self.bridge is not None and not any(not link.closed for link in self.links(target.gateway_id)):
            return await self.bridge.forward(target, request, credentials=credentials, timeout=timeout)
        return await self.send_local(target, request, credentials=credentials, timeout=timeout)

    async def send_local(
        self, target: GatewayTarget, request: httpx.Request, *, credentials: bool, timeout: float
    ) -> httpx.Response:
        """Send through an agent connected to this process, failing over once (see the module docstring)."""
        tried: set[str] = set()
        while True:
            link = self._pick(target, tried)
            tried.add(link.member_id)
            try:
                return await link.call(target, request, credentials=credentials, timeout=timeout)
            except LinkLost as lost:
                repeatable = not lost.sent or request.method.upper() in IDEMPOTENT_METHODS
                if len(tried) > 1 or not repeatable or not _replayable(request):
                    raise httpx.RemoteProtocolError(
                        f"gateway {target.name!r}: agent {link.name!r} disconnected during the call",
                        request=request,
                    ) from lost
                self.failovers += 1
                logger.warning(
                    "gateway %s: agent %s lost mid-call; retrying on another member", target.name, link.name
                )

    def _pick(self, target: GatewayTarget, tried: set[str]) -> AgentLink:
        members = [link for link in self.links(target.gateway_id) if not link.closed]
        if not members:
            raise GatewayOffline(
                f"gateway {target.name!r} is offline: no agent of it is connected. Start one inside the "
                "private network ('tether gateway run') and check it can reach this server.",
                detail={"gateway": target.name},
            )
        healthy = [link for link in members if link.healthy and link.member_id not in tried]
        if not healthy:
            raise NoHealthyMember(
                f"gateway {target.name!r} has {len(members)} agent(s) connected but none healthy to take "
                "the call; see 'tether gateway members' for their status.",
                detail={"gateway": target.name, "connected": len(members)},
            )
        least = min(link.in_flight for link in healthy)
        return random.choice([link for link in healthy if link.in_flight == least])

    async def kick(self, member_id: str) -> None:
        """Close a removed member's tunnel (its secret no longer works either)."""
        for members in self._links.values():
            link = members.get(member_id)
            if link is not None:
                await link.close()

    async def serve(self, link: AgentLink, receive: Receive) -> None:
        """Run one agent's tunnel until it closes: register the link, route its frames, clean up."""
        members = self._links.setdefault(link.gateway_id, {})
        previous = members.get(link.member_id)
        if previous is not None:
            previous.lost()  # the same agent reconnected: its old socket is dead
        members[link.member_id] = link
        await self._note(link, "online")
        await self._announce(link.gateway_id)
        last_note = asyncio.get_running_loop().time()
        try:
            while not link.closed:
                message = await receive()
                if message is None:
                    break
                if isinstance(message, bytes):
                    call_id, last, data = unpack_chunk(message)
                    link.chunk(call_id, last, data)
                    continue
                frame = parse_frame(message, allowed=_FROM_AGENT)
                if frame["t"] == "health":
                    link.load, link.healthy, link.version = frame["load"], frame["healthy"], frame["version"]
                    now = asyncio.get_running_loop().time()
                    if now - last_note >= _CONTACT_EVERY:
                        last_note = now
                        await self._note(link, "online")
                else:
                    link.answered(frame)
        except ProtocolViolation as exc:
            logger.warning("gateway agent %s broke the protocol (%s); closing its tunnel", link.name, exc)
        finally:
            link.lost()
            if members.get(link.member_id) is link:
                del members[link.member_id]
                await self._note(link, "offline")
                await self._announce(link.gateway_id)
                if not members:
                    await self._offline(link)

    async def _announce(self, gateway_id: str) -> None:
        if self.bridge is not None:
            try:
                await self.bridge.announce(gateway_id)
            except Exception:  # presence is renewed every few seconds anyway
                logger.exception("gateway bridge: could not announce gateway %s", gateway_id)

    async def _offline(self, link: AgentLink) -> None:
        """No agent of the gateway is connected here any more: an event (webhooks, alerts)."""
        try:
            await asyncio.to_thread(
                record_gateway_offline, self._database, link.gateway_id, last_agent=link.name
            )
        except Exception:  # the event is news, not a condition of the tunnel's cleanup
            logger.exception("gateway %s: could not record that it went offline", link.gateway_id)

    async def _note(self, link: AgentLink, status: str) -> None:
        try:
            await asyncio.to_thread(
                note_agent_contact,
                self._database,
                link.member_id,
                status=status,
                version=link.version,
                load=link.load,
            )
        except Exception:  # the tunnel works without its status row; say so and go on
            logger.exception("gateway agent %s: could not record its status", link.name)


def _replayable(request: httpx.Request) -> bool:
    try:
        request.content  # noqa: B018
    except httpx.RequestNotRead:
        return False
    return True
