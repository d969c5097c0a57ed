"""Webhook subscriptions and their deliveries: durable, claimed by one sender at a time.

A delivery is one event for one subscription. It waits (``pending``) until ``next_attempt_at``,
is claimed by a dispatcher (``delivering``, with ``next_attempt_at`` moved to the end of the
claim's lease, so a sender that dies gives it back by itself), and ends ``succeeded`` or
``failed`` after the last attempt. ``attempts_log`` keeps each attempt's time, status and error.
On PostgreSQL a claim skips rows another process has locked (``FOR UPDATE SKIP LOCKED``); SQLite
serializes writers anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tether.store._models import Base, new_id, utcnow

__all__ = ["DELIVERY_STATES", "Webhook", "WebhookDelivery", "Webhooks"]

DELIVERY_STATES: Final = ("pending", "delivering", "succeeded", "failed")


class Webhook(Base):
    """A subscription: where an environment's events are POSTed, which ones, and the signing secret."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(500), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(Text)  # key ring token of "whsec_…"
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event on its way to one subscription (``message_id`` is the ``webhook-id`` header)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    environment_id: Mapped[str] = mapped_column(String(36))
    message_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # the exact body signed and sent (no secret)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts_log: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    replay_of: Mapped[str | None] = mapped_column(String(36))
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Webhooks:
    """Subscriptions and deliveries; claims due deliveries safely across processes."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, webhook: Webhook) -> Webhook:
        self.session.add(webhook)
        self.session.flush()
        return webhook

    def get(self, webhook_id: str) -> Webhook | None:
        return self.session.get(Webhook, webhook_id)

    def of_environment(self, environment_id: str, *, enabled_only: bool = False) -> Sequence[Webhook]:
        query = select(Webhook).where(Webhook.environment_id == environment_id).order_by(Webhook.created_at)
        if enabled_only:
            query = query.where(Webhook.enabled.is_(True))
        return self.session.scalars(query).all()

    def remove(self, webhook: Webhook) -> None:
        self.session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
        self.session.delete(webhook)
        self.session.flush()

    def add_delivery(self, delivery: WebhookDelivery) -> WebhookDelivery:
        self.session.add(delivery)
        self.session.flush()
        return delivery

    def delivery(self, delivery_id: str) -> WebhookDelivery | None:
        return self.session.get(WebhookDelivery, delivery_id)

    def deliveries(self, webhook_id: str, *, limit: int) -> Sequence[WebhookDelivery]:
        """A subscription's deliveries, newest first."""
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
            .limit(limit)
        )
        return self.session.scalars(query).all()

    def claim_due(
        self, now: datetime, *, limit: int, lease_until: datetime, instance: str
    ) -> Sequence[WebhookDelivery]:
        """Take up to ``limit`` due deliveries (waiting, or claimed by a sender whose lease ran out)."""
        query = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.status.in_(("pending", "delivering")),
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        found = self.session.scalars(query).all()
        for delivery in found:
            delivery.status, delivery.next_attempt_at, delivery.claimed_by = (
                "delivering",
                lease_until,
                instance,
            )
        self.session.flush()
        return found

    def purge(self, before: datetime) -> int:
        """Delete finished deliveries created before ``before``."""
        statement = delete(WebhookDelivery).where(
            WebhookDelivery.created_at < before, WebhookDelivery.status.in_(("succeeded", "failed"))
        )
        return int(getattr(self.session.execute(statement), "rowcount", 0) or 0)
