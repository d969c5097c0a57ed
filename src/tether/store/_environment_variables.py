"""Environment variables: named values of an environment that flows read with ``appSetting()``.

The counterpart of Logic Apps Standard's app settings (and Power Platform's environment variables):
a definition says ``@appsetting('ApiBaseUrl')`` and each environment supplies its own value, so the
same definition moves from test to production unchanged. A *secure* value is stored as a key ring
token (never plaintext at rest) and never shown back; this layer only stores what it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tether.store._models import Base, new_id, utcnow

__all__ = ["EnvironmentVariable", "EnvironmentVariables"]


class EnvironmentVariable(Base):
    """One named value; ``value`` is a key ring token when ``secure``."""

    __tablename__ = "environment_variables"
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(Text)
    secure: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class EnvironmentVariables:
    """The variables of environments, looked up by name case-insensitively (as ``appSetting`` is)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def list(self, environment_id: str) -> Sequence[EnvironmentVariable]:
        query = (
            select(EnvironmentVariable)
            .where(EnvironmentVariable.environment_id == environment_id)
            .order_by(EnvironmentVariable.name)
        )
        return self.session.scalars(query).all()

    def get(self, environment_id: str, name: str) -> EnvironmentVariable | None:
        folded = name.lower()
        return next((row for row in self.list(environment_id) if row.name.lower() == folded), None)

    def put(
        self, environment_id: str, name: str, value: str, *, secure: bool, by: str | None
    ) -> EnvironmentVariable:
        """Create or replace ``name`` (keeping its first spelling when only the case differs)."""
        row = self.get(environment_id, name)
        if row is None:
            row = EnvironmentVariable(environment_id=environment_id, name=name, value=value, secure=secure)
            self.session.add(row)
        row.value, row.secure, row.updated_at, row.updated_by = value, secure, utcnow(), by
        self.session.flush()
        return row

    def delete(self, row: EnvironmentVariable) -> None:
        self.session.delete(row)
        self.session.flush()

    def all_secure(self) -> Sequence[EnvironmentVariable]:
        """Every secure row of every environment (key rotation re-encrypts them)."""
        query = select(EnvironmentVariable).where(EnvironmentVariable.secure.is_(True))
        return self.session.scalars(query).all()
