"""Idempotency keys: the first answer to a create or run start, kept so a retry gets it again.

One row per (caller, route, key), stored under the SHA-256 of the three so the primary key stays
short whatever the key and path. A row is *in progress* (``status`` is ``None``) while the first
request runs, then holds that request's answer until ``expires_at``; the body is a key ring token
(an answer may hold a secret, e.g. a new personal access token), never plaintext at rest.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from tether.store._models import Base

__all__ = ["IdempotencyKeys", "IdempotencyRecord"]


class IdempotencyRecord(Base):
    """A create or run start seen with an ``Idempotency-Key``, and (once done) its answer."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(principal, route, key)
    principal_id: Mapped[str] = mapped_column(String(64))
    route: Mapped[str] = mapped_column(String(2000))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the request: a reused key differs
    status: Mapped[int | None] = mapped_column(Integer)  # None while the first request runs
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    body: Mapped[str | None] = mapped_column(Text)  # key ring token of the answer's bytes
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class IdempotencyKeys:
    """Claims, completes, releases and prunes idempotency records."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, scope: str, *, for_update: bool = False) -> IdempotencyRecord | None:
        return self.session.get(IdempotencyRecord, scope, with_for_update=for_update)

    def add(self, record: IdempotencyRecord) -> IdempotencyRecord:
        self.session.add(record)
        self.session.flush()  # a concurrent claim of the same scope fails here (primary key)
        return record

    def remove(self, record: IdempotencyRecord) -> None:
        self.session.delete(record)
        self.session.flush()

    def prune(self, now: datetime) -> int:
        """Delete every record past its expiry; the number deleted."""
        result = self.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < now))
        return int(getattr(result, "rowcount", 0) or 0)
