"""Connector trigger state: one row per flow with a polling or webhook connector trigger.

The platform, not the API, keeps a polling trigger's state (the ``Location`` to poll next, the last
trigger body for ``pollingtrigger`` cursors) and a webhook's subscription (the connector's
``Location``, or an HttpWebhook's unsubscribe call, encrypted). There is no foreign key to
``flows``: a deleted flow's row stays until its subscription is DELETEd. A lease
(``leased_by``/``leased_until``, taken with a conditional UPDATE) lets one process at a time poll or
(un)subscribe; an expired lease means that process died and another may take over.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tether.store._models import Base, utcnow

__all__ = ["FlowTrigger", "FlowTriggers"]


class FlowTrigger(Base):
    __tablename__ = "flow_triggers"

    flow_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    environment_id: Mapped[str] = mapped_column(String(36))
    trigger_name: Mapped[str] = mapped_column(String(200))
    trigger_type: Mapped[str] = mapped_column(String(64))
    # sha256 of what resets the state: the trigger's type and inputs (and, for webhooks, the connection).
    inputs_hash: Mapped[str] = mapped_column(String(64))
    connection_id: Mapped[str | None] = mapped_column(String(64))
    # Polling: {"location", "last_body", "error"}.
    # Webhook, subscribed: a connector webhook keeps {"location"} (the subscription to DELETE); an
    # HttpWebhook keeps {"subscribed": true, "unsubscribe"}: the evaluated unsubscribe call (method,
    # uri, headers, queries, body, authentication) as a key ring token (encrypt_json: it holds
    # credentials), or null when none was declared.
    # Webhook, subscribe failed: {"error", "retry_at"}; no new attempt before that ISO time unless the
    # trigger's inputs change. A failed unsubscribe adds "attempts" (given up after a few).
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    leased_by: Mapped[str | None] = mapped_column(String(64))
    leased_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FlowTriggers:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, flow_id: str) -> FlowTrigger | None:
        return self.session.get(FlowTrigger, flow_id)

    def all(self) -> Sequence[FlowTrigger]:
        return self.session.scalars(select(FlowTrigger)).all()

    def add(self, row: FlowTrigger) -> FlowTrigger:
        """Insert; raises Conflict (via the session) when another process inserted it first."""
        self.session.add(row)
        self.session.flush()
        return row

    def delete(self, row: FlowTrigger) -> None:
        self.session.delete(row)
        self.session.flush()

    def due(self, now: datetime, limit: int = 100) -> Sequence[FlowTrigger]:
        query = (
            select(FlowTrigger)
            .where(FlowTrigger.next_poll_at.is_not(None), FlowTrigger.next_poll_at <= now)
            .where(or_(FlowTrigger.leased_until.is_(None), FlowTrigger.leased_until < now))
            .order_by(FlowTrigger.next_poll_at)
            .limit(limit)
        )
        return self.session.scalars(query).all()

    def lease(self, flow_id: str, instance: str, now: datetime, until: datetime) -> bool:
        """Take the row's lease unless another live process holds it."""
        result = self.session.execute(
            update(FlowTrigger)
            .where(FlowTrigger.flow_id == flow_id)
            .where(
                or_(
                    FlowTrigger.leased_until.is_(None),
                    FlowTrigger.leased_until < now,
                    FlowTrigger.leased_by == instance,
                )
            )
            .values(leased_by=instance, leased_until=until)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
