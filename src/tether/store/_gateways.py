"""On-premises gateways (clusters of agents) and their members: models and repository.

What the server keeps of a gateway is public or unreadable to it: the cluster's public key (to
seal connection secrets to), the cluster's private key *wrapped* under the admin's recovery key
(so a new agent recovers it; the server never sees the recovery key), the SHA-256 of the one
pending registration token, and per member the SHA-256 of its agent secret plus what it last
reported (version, load, last contact).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tether.store._models import Base, new_id, utcnow

__all__ = ["MEMBER_STATUSES", "Gateway", "GatewayMember", "Gateways"]

# "online": an agent is connected now; "offline": registered, not connected.
MEMBER_STATUSES = ("online", "offline")


class Gateway(Base):
    """A named cluster of agents in one environment, with the cluster's key material."""

    __tablename__ = "gateways"
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Base64 X25519 public key (set by the first agent registered); the wrapped private key.
    public_key: Mapped[str | None] = mapped_column(String(64))
    wrapped_private_key: Mapped[str | None] = mapped_column(Text)
    registration_token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    registration_token_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GatewayMember(Base):
    """One registered agent of a gateway cluster."""

    __tablename__ = "gateway_members"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="offline")
    load: Mapped[int] = mapped_column(Integer, default=0)
    last_contact_at: Mapped[datetime | None]
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)


class Gateways:
    """Queries over gateways and their members (no permission checks: see services)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, gateway: Gateway) -> Gateway:
        self.session.add(gateway)
        self.session.flush()
        return gateway

    def get(self, gateway_id: str) -> Gateway | None:
        return self.session.get(Gateway, gateway_id)

    def find(self, environment_id: str, name_or_id: str) -> Gateway | None:
        """The gateway of that name (or id) in the environment."""
        query = select(Gateway).where(
            Gateway.environment_id == environment_id,
            (Gateway.name == name_or_id) | (Gateway.id == name_or_id),
        )
        return self.session.scalars(query).first()

    def list(self, environment_id: str) -> Sequence[Gateway]:
        query = select(Gateway).where(Gateway.environment_id == environment_id).order_by(Gateway.name)
        return self.session.scalars(query).all()

    def by_token_hash(self, token_hash: str) -> Gateway | None:
        query = select(Gateway).where(Gateway.registration_token_hash == token_hash)
        return self.session.scalars(query.with_for_update()).first()

    def add_member(self, member: GatewayMember) -> GatewayMember:
        self.session.add(member)
        self.session.flush()
        return member

    def member(self, member_id: str) -> GatewayMember | None:
        return self.session.get(GatewayMember, member_id)

    def members(self, gateway_id: str) -> Sequence[GatewayMember]:
        query = (
            select(GatewayMember)
            .where(GatewayMember.gateway_id == gateway_id)
            .order_by(GatewayMember.registered_at)
        )
        return self.session.scalars(query).all()

    def delete_member(self, member: GatewayMember) -> None:
        self.session.delete(member)
        self.session.flush()

    def delete(self, gateway: Gateway) -> None:
        self.session.delete(gateway)
        self.session.flush()
