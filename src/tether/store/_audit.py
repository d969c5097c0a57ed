"""The audit log: an append-only record of security- and content-relevant actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tether.store._models import AuditEvent

__all__ = ["AuditLog"]


class AuditLog:
    """Appends and reads audit events. There is deliberately no update or delete."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        action: str,
        *,
        actor: str | None,
        target: str | None = None,
        environment: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Add an event such as ``record("connector.create", actor="ada", target="connector:<id>")``.

        ``detail`` must never hold a secret: the log is readable by environment admins.
        """
        event = AuditEvent(
            action=action, actor=actor, target=target, environment=environment, detail=detail or {}
        )
        self.session.add(event)
        self.session.flush()
        return event

    def list(
        self, *, environment: str | None = None, action: str | None = None, limit: int = 100
    ) -> Sequence[AuditEvent]:
        """Newest events first, optionally only one environment's or one action's."""
        query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id).limit(limit)
        if environment is not None:
            query = query.where(AuditEvent.environment == environment)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        return self.session.scalars(query).all()
