"""The event stream of each environment: what happened to its resources, newest last.

An event is a small fact (``connector.created``, ``run.failed``…) about one resource (its kind,
id, name and owner), with who did it and a few values, never a secret. Ids sort by time (a
millisecond timestamp then randomness, like a ULID), so "events after this one" is a plain
comparison and a reader can follow the stream with the last id it saw.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ForeignKey, Index, String, delete, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from tether.store._models import Base, utcnow

__all__ = ["Event", "Events", "event_id"]

_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32, as ULIDs use


def event_id(now_ms: int | None = None, *, floor: bool = False) -> str:
    """A 26-character id that sorts by creation time: 48 bits of milliseconds, 80 random bits.

    ``floor`` gives the smallest id of that millisecond: "events from this time on" is then
    ``id >= event_id(ms, floor=True)``, so time filters and purges use the primary key, and the
    table needs no index on its time column (one index less to update per event).
    """
    ms = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    value = (ms << 80) | (0 if floor else int.from_bytes(os.urandom(10), "big"))
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def _floor(moment: datetime) -> str:
    return event_id(int(moment.timestamp() * 1000), floor=True)


class Event(Base):
    """One event of an environment's stream."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_environment_id", "environment_id", "id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=event_id)
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    subject_kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(36))
    subject_name: Mapped[str | None] = mapped_column(String(200))
    # The resource's owner when the event happened: who may read it besides admins and grantees.
    owner_id: Mapped[str | None] = mapped_column(String(36))
    actor: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]


class Events:
    """Appends, reads and purges events; no permission rule (``services`` decides who reads what)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, event: Event) -> Event:
        self.session.add(event)
        self.session.flush()
        return event

    def list(
        self,
        environment_id: str,
        *,
        types: Sequence[str] = (),
        since: datetime | None = None,
        after: str | None = None,
        before: str | None = None,
        limit: int = 100,
        newest_first: bool = True,
    ) -> Sequence[Event]:
        """Events of an environment; ``types`` match exactly or a family ending in ``.``."""
        query = select(Event).where(Event.environment_id == environment_id).limit(limit)
        query = query.order_by(Event.id.desc() if newest_first else Event.id)
        exact = [t for t in types if not t.endswith(".")]
        families = [t for t in types if t.endswith(".")]
        if types:
            conditions: list[ColumnElement[bool]] = [Event.type.in_(exact)] if exact else []
            conditions += [Event.type.startswith(f, autoescape=True) for f in families]
            query = query.where(or_(*conditions))
        if since is not None:
            query = query.where(Event.id >= _floor(since))
        if after is not None:
            query = query.where(Event.id > after)
        if before is not None:
            query = query.where(Event.id < before)
        return self.session.scalars(query).all()

    def latest_id(self, environment_id: str) -> str | None:
        """The newest event's id in an environment (where a new reader starts)."""
        return self.session.scalar(select(func.max(Event.id)).where(Event.environment_id == environment_id))

    def purge(self, before: datetime, *, environment_id: str | None = None, keep: int | None = None) -> int:
        """Delete events older than ``before`` and, per environment, beyond the newest ``keep``."""
        statement = delete(Event).where(Event.id < _floor(before))
        if environment_id is not None:
            statement = statement.where(Event.environment_id == environment_id)
        deleted = int(getattr(self.session.execute(statement), "rowcount", 0) or 0)
        if keep is not None and environment_id is not None:
            cutoff = self.session.scalar(
                select(Event.id)
                .where(Event.environment_id == environment_id)
                .order_by(Event.id.desc())
                .offset(keep)
                .limit(1)
            )
            if cutoff is not None:
                extra = delete(Event).where(Event.environment_id == environment_id, Event.id <= cutoff)
                deleted += int(getattr(self.session.execute(extra), "rowcount", 0) or 0)
        return deleted
