"""The audit log: an append-only record of security- and content-relevant actions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tether.store._models import AuditEvent

__all__ = ["AuditLog"]


class AuditLog:
    """Appends and reads audit events. Nothing is ever updated; only retention deletes old events."""

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
        via: str | None = None,
    ) -> AuditEvent:
        """Add an event such as ``record("connector.create", actor="ada", target="connector:<id>")``.

        ``detail`` must never hold a secret: the log is readable by environment admins. ``via``
        says how the actor signed in (``token:<id>``, ``password``, ``sso``), never with what.
        """
        event = AuditEvent(
            action=action, actor=actor, target=target, environment=environment, detail=detail or {}, via=via
        )
        self.session.add(event)
        self.session.flush()
        return event

    def list(
        self,
        *,
        environment: str | None = None,
        action: str | None = None,
        actor: str | None = None,
        target: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> Sequence[AuditEvent]:
        """Newest events first, filtered; ``action`` ending in ``.`` matches a family (``connector.``)."""
        query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id).limit(limit)
        if environment is not None:
            query = query.where(AuditEvent.environment == environment)
        if action is not None:
            if action.endswith("."):
                query = query.where(AuditEvent.action.startswith(action, autoescape=True))
            else:
                query = query.where(AuditEvent.action == action)
        if actor is not None:
            query = query.where(AuditEvent.actor == actor)
        if target is not None:
            query = query.where(AuditEvent.target == target)
        if since is not None:
            query = query.where(AuditEvent.at >= since)
        if until is not None:
            query = query.where(AuditEvent.at < until)
        return self.session.scalars(query).all()

    def purge(self, before: datetime, *, environment: str | None = None, unscoped: bool = False) -> int:
        """Delete events older than ``before``: one environment's, those of none (``unscoped``), or all."""
        statement = delete(AuditEvent).where(AuditEvent.at < before)
        if environment is not None:
            statement = statement.where(AuditEvent.environment == environment)
        elif unscoped:
            statement = statement.where(AuditEvent.environment.is_(None))
        result = self.session.execute(statement)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
