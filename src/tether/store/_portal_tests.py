"""The portal's Test tab history: each user's last calls on each connector, to compare.

``sealed`` holds the call's request and answer (headers, body, warnings, error) as a key ring
token: a test answer may carry anything the API returns, so it is never plaintext at rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tether.store._models import Base, new_id, utcnow

__all__ = ["PortalTestCall", "PortalTestCalls"]


class PortalTestCall(Base):
    """One call made from a connector's Test tab by one user."""

    __tablename__ = "portal_test_calls"
    __table_args__ = (Index("ix_portal_test_calls_user_connector", "user_id", "connector_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    connector_id: Mapped[str] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    operation_id: Mapped[str] = mapped_column(String(200))
    connection_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)
    sealed: Mapped[str] = mapped_column(Text)


class PortalTestCalls:
    """Test calls by user and connector, newest first, trimmed to a number kept."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: PortalTestCall, *, keep: int) -> PortalTestCall:
        """Store ``row`` and drop that user's older calls on that connector beyond ``keep``."""
        self.session.add(row)
        self.session.flush()
        older = self.recent(row.user_id, row.connector_id, limit=None)[keep:]
        if older:
            self.session.execute(delete(PortalTestCall).where(PortalTestCall.id.in_([o.id for o in older])))
        return row

    def recent(self, user_id: str, connector_id: str, *, limit: int | None) -> Sequence[PortalTestCall]:
        query = (
            select(PortalTestCall)
            .where(PortalTestCall.user_id == user_id, PortalTestCall.connector_id == connector_id)
            .order_by(PortalTestCall.created_at.desc(), PortalTestCall.id.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        return self.session.scalars(query).all()
