"""On-premises gateways: create a cluster, register its agents, list and remove members, seal secrets.

A gateway is a named cluster of agents in one environment. Its owner (a maker) creates it and
gets a one-time registration token; an agent inside the private network presents that token
once (``tether gateway register``) and gets its own agent secret, which then authenticates its
WebSocket. The first agent brings the cluster's key pair: the public key, and the private key
wrapped under the recovery key (``tether.secrets.wrap_private_key``); later agents get the
wrapped key back and open it with the same recovery key. The server never holds a key that
opens what is sealed to the cluster.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as random_tokens
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from tether.errors import AuthError, Conflict, InputError, NotFound
from tether.runtime import AgentTooOld
from tether.services._access import Principal, Standing, check, require_role, standing
from tether.store import AuditLog, Database, Gateway, GatewayMember, Gateways, utcnow

__all__ = [
    "MIN_AGENT_VERSION",
    "AgentIdentity",
    "AgentRegistration",
    "GatewayInfo",
    "GatewayMemberInfo",
    "authenticate_agent",
    "check_agent_version",
    "create_gateway",
    "find_usable_gateway",
    "gateway_public_key",
    "issue_registration_token",
    "list_gateway_members",
    "list_gateways",
    "note_agent_contact",
    "register_agent",
    "remove_gateway_member",
]

# Agents older than this speak a protocol the relay no longer does: refused with a clear error.
MIN_AGENT_VERSION: Final = (0, 1)
_TOKEN_TTL: Final = timedelta(hours=24)
_REGISTRATION_PREFIX: Final = "tgr_"
_AGENT_PREFIX: Final = "tga_"


@dataclass(frozen=True, slots=True)
class GatewayInfo:
    """A gateway as its users see it (no key material beyond the public key)."""

    id: str
    name: str
    environment: str
    public_key: str | None
    members: int
    online: int
    registration_token: str | None = None  # only in the answer that issued it


@dataclass(frozen=True, slots=True)
class GatewayMemberInfo:
    """One agent of a cluster: its status and when the server last heard from it."""

    id: str
    name: str
    status: str
    version: str | None
    load: int
    last_contact_at: datetime | None
    registered_at: datetime


@dataclass(frozen=True, slots=True)
class AgentRegistration:
    """What a newly registered agent keeps: its id and secret, and the cluster's key material."""

    member_id: str
    secret: str
    gateway_id: str
    gateway: str
    environment: str
    public_key: str
    wrapped_private_key: str


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    """An authenticated agent (its WebSocket's owner)."""

    member_id: str
    name: str
    gateway_id: str
    gateway: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(session: Session, row: Gateway, environment: str, token: str | None = None) -> GatewayInfo:
    members = Gateways(session).members(row.id)
    online = sum(1 for m in members if m.status == "online")
    return GatewayInfo(row.id, row.name, environment, row.public_key, len(members), online, token)


def _new_token(row: Gateway) -> str:
    token = _REGISTRATION_PREFIX + random_tokens.token_urlsafe(32)
    row.registration_token_hash = _hash(token)
    row.registration_token_expires_at = utcnow() + _TOKEN_TTL
    return token


def _checked(session: Session, who: Standing, gateway: str, operation: str) -> Gateway:
    row = Gateways(session).find(who.environment.id, gateway)
    if row is None:
        raise NotFound(f"Gateway {gateway!r} not found in environment {who.environment.name!r}.")
    label = f"Gateway {row.name!r}"
    check(session, who, "gateway", operation, resource_id=row.id, owner_id=row.created_by, label=label)
    return row


def create_gateway(db: Database, principal: Principal, environment: str, name: str) -> GatewayInfo:
    """A new gateway cluster owned by the caller (a maker), with its first registration token."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InputError("A gateway needs a name of 1 to 200 characters.")
    with db.session() as session:
        who = standing(session, principal, environment)
        require_role(who.role, "maker", action="create gateways")
        if Gateways(session).find(who.environment.id, name) is not None:
            raise Conflict(
                f"Gateway {name!r} already exists in environment {who.environment.name!r}; "
                f"add agents to it with 'tether gateway token {name}'."
            )
        row = Gateways(session).add(
            Gateway(environment_id=who.environment.id, name=name, created_by=principal.user_id)
        )
        token = _new_token(row)
        _audit(session, "gateway.create", principal, row)
        return _info(session, row, who.environment.name, token)


def issue_registration_token(
    db: Database, principal: Principal, environment: str, gateway: str
) -> GatewayInfo:
    """A new one-time registration token for ``gateway`` (replaces any unused one)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        row = _checked(session, who, gateway, "manage")
        token = _new_token(row)
        _audit(session, "gateway.token", principal, row)
        return _info(session, row, who.environment.name, token)


def list_gateways(db: Database, principal: Principal, environment: str) -> list[GatewayInfo]:
    """The gateways of the environment the caller may see."""
    with db.session() as session:
        who = standing(session, principal, environment)
        found = []
        for row in Gateways(session).list(who.environment.id):
            try:
                _checked(session, who, row.id, "read")
            except (NotFound, AuthError):
                continue
            found.append(_info(session, row, who.environment.name))
        return found


def gateway_public_key(db: Database, principal: Principal, environment: str, gateway: str) -> GatewayInfo:
    """The gateway and its public key, for a client that seals connection secrets itself (the CLI)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        row = _checked(session, who, gateway, "use")
        return _info(session, row, who.environment.name)


def list_gateway_members(
    db: Database, principal: Principal, environment: str, gateway: str
) -> list[GatewayMemberInfo]:
    """The cluster's agents with their status and last contact (the gateway's managers)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        row = _checked(session, who, gateway, "manage")
        return [
            GatewayMemberInfo(m.id, m.name, m.status, m.version, m.load, m.last_contact_at, m.registered_at)
            for m in Gateways(session).members(row.id)
        ]


def remove_gateway_member(
    db: Database, principal: Principal, environment: str, gateway: str, member: str
) -> str:
    """Forget an agent: its secret stops working (the relay also closes its socket). Returns its id."""
    with db.session() as session:
        who = standing(session, principal, environment)
        row = _checked(session, who, gateway, "manage")
        found = next((m for m in Gateways(session).members(row.id) if member in (m.id, m.name)), None)
        if found is None:
            raise NotFound(f"Gateway {row.name!r} has no member {member!r}.")
        _audit(session, "gateway.member-remove", principal, row, member=found.id)
        Gateways(session).delete_member(found)
        return found.id


def find_usable_gateway(session: Session, who: Standing, gateway: str) -> Gateway:
    """The gateway a connection may go through (Can use); one with no agent yet has no key to seal to."""
    row = _checked(session, who, gateway, "use")
    if row.public_key is None:
        raise Conflict(
            f"Gateway {row.name!r} has no registered agent yet, so there is no key to seal the "
            "connection's secrets to: register an agent first ('tether gateway register')."
        )
    return row


def register_agent(
    db: Database,
    *,
    token: str,
    cluster: str,
    name: str,
    version: str,
    public_key: str | None,
    wrapped_private_key: str | None,
) -> AgentRegistration:
    """Spend a registration token: a new member of ``cluster``, and the cluster's key material.

    The first agent of a cluster must bring ``public_key`` and ``wrapped_private_key``; later
    ones get the stored ones back (and open the wrapped key with the recovery key).
    """
    check_agent_version(version)
    with db.session() as session:
        row = Gateways(session).by_token_hash(_hash(token.strip()))
        expires = row.registration_token_expires_at if row is not None else None
        if row is None or expires is None or expires < utcnow() or row.name != cluster:
            raise AuthError(
                "The registration token is unknown, spent, expired or for another gateway cluster: ask the "
                "gateway's owner for a new one ('tether gateway token <cluster>')."
            )
        if row.public_key is None:
            if not public_key or not wrapped_private_key:
                raise InputError("The first agent of a cluster must send its public key and wrapped key.")
            row.public_key, row.wrapped_private_key = public_key, wrapped_private_key
        row.registration_token_hash = None
        row.registration_token_expires_at = None
        secret = _AGENT_PREFIX + random_tokens.token_urlsafe(32)
        member = Gateways(session).add_member(
            GatewayMember(
                gateway_id=row.id,
                name=name.strip()[:200] or "agent",
                secret_hash=_hash(secret),
                version=version[:32],
                status="offline",
                load=0,
            )
        )
        _audit(session, "gateway.member-register", None, row, member=member.id)
        environment = row.environment_id
        return AgentRegistration(
            member.id, secret, row.id, row.name, environment, row.public_key, row.wrapped_private_key or ""
        )


def check_agent_version(version: str) -> None:
    """Refuse agents older than :data:`MIN_AGENT_VERSION` (the wire they speak is gone)."""
    try:
        parts = tuple(int(p) for p in version.split(".")[:2])
    except ValueError:
        parts = (0, 0)
    if parts < MIN_AGENT_VERSION:
        wanted = ".".join(map(str, MIN_AGENT_VERSION))
        raise AgentTooOld(
            f"the gateway agent's version {version!r} is older than this server accepts ({wanted}); "
            "upgrade the agent (pip install -U tether) and run it again"
        )


def authenticate_agent(db: Database, member_id: str, secret: str) -> AgentIdentity:
    """The agent whose id and secret these are; :class:`AuthError` otherwise (removed members included)."""
    with db.session() as session:
        member = Gateways(session).member(member_id)
        if member is None or not hmac.compare_digest(member.secret_hash, _hash(secret)):
            raise AuthError(
                "This gateway agent is not registered (or was removed from its cluster): register it "
                "again with a new token ('tether gateway register')."
            )
        gateway = Gateways(session).get(member.gateway_id)
        if gateway is None:
            raise AuthError("This gateway agent's cluster was deleted.")
        return AgentIdentity(member.id, member.name, gateway.id, gateway.name)


def note_agent_contact(db: Database, member_id: str, *, status: str, version: str | None, load: int) -> None:
    """Record what an agent last said (status, version, load) and when."""
    with db.session() as session:
        member = Gateways(session).member(member_id)
        if member is None:
            return
        member.status = status
        member.load = max(0, int(load))
        if version:
            member.version = version[:32]
        member.last_contact_at = utcnow()


def _audit(session: Session, action: str, principal: Principal | None, row: Gateway, **detail: str) -> None:
    AuditLog(session).record(
        action,
        actor=principal.username if principal else None,
        environment=row.environment_id,
        target=f"gateway:{row.id}",
        detail={"gateway": row.name, **detail},
        via=principal.via if principal else None,
    )
