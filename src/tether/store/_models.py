"""The ORM models: one class per table, typed with ``Mapped[...]``.

The schema itself is owned by the Alembic migrations in ``migrations/versions``; these classes
must describe the same tables, and ``tests/store/test_migrations.py`` compares the two.
Identifiers are UUID strings so rows can be created anywhere (CLI, API replica, import) without
asking the database for a number, and so they read the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "ROLES",
    "AuditEvent",
    "Base",
    "Connector",
    "ConnectorRevision",
    "ConnectorRevisionFile",
    "Environment",
    "EnvironmentMember",
    "PersonalAccessToken",
    "User",
    "new_id",
    "utcnow",
]

# Environment roles, weakest first; each includes the rights of those before it.
ROLES = ("user", "maker", "admin")

# Explicit constraint names keep migrations portable (SQLite batch mode needs names to alter).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """A new random row id (UUID4 text)."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC: the only kind of datetime the store accepts."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware in UTC.

    SQLite has no timezone type and returns naive values, PostgreSQL returns the session's zone;
    normalizing here means services compare and serialize datetimes without caring which database
    they came from.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use tether.store.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base holding the shared metadata and naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Environment(Base):
    """A workspace owning connectors (and later connections and flows)."""

    __tablename__ = "environments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person (or robot) who signs in; ``is_admin`` is the platform-wide administrator flag."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Certifiers review connectors submitted for certification (platform-wide, like is_admin).
    is_certifier: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EnvironmentMember(Base):
    """A user's role (``user``, ``maker`` or ``admin``) in one environment."""

    __tablename__ = "environment_members"
    __table_args__ = (UniqueConstraint("environment_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # No separate index on environment_id: the unique (environment_id, user_id) constraint leads with it.
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))

    user: Mapped[User] = relationship(lazy="joined")


class PersonalAccessToken(Base):
    """An API token; only its SHA-256 is stored, the plaintext is shown once at creation.

    A fast hash is right here (unlike passwords): tokens carry 256 random bits, so there is
    nothing to brute-force, and lookups happen on every API request.
    """

    __tablename__ = "personal_access_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class Connector(Base):
    """A connector in an environment; its content lives in numbered, immutable revisions."""

    __tablename__ = "connectors"
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    current_revision: Mapped[int] = mapped_column(Integer, default=0)

    creator: Mapped[User | None] = relationship(lazy="joined")
    revisions: Mapped[list[ConnectorRevision]] = relationship(
        back_populates="connector",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ConnectorRevision.number",
    )


class ConnectorRevision(Base):
    """One saved version of a connector package, numbered 1..n. Never updated once written."""

    __tablename__ = "connector_revisions"
    __table_args__ = (UniqueConstraint("connector_id", "number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connector_id: Mapped[str] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    connector: Mapped[Connector] = relationship(back_populates="revisions")
    creator: Mapped[User | None] = relationship(lazy="joined")
    files: Mapped[list[ConnectorRevisionFile]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ConnectorRevisionFile.name"
    )


class ConnectorRevisionFile(Base):
    """One file of a revision (``apiDefinition.swagger.json``, ``icon.png``...), stored as bytes."""

    __tablename__ = "connector_revision_files"

    revision_id: Mapped[str] = mapped_column(
        ForeignKey("connector_revisions.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class AuditEvent(Base):
    """Who did what, where, when. Plain columns (no foreign keys) so history outlives its subjects."""

    __tablename__ = "audit_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(String(64))
    environment: Mapped[str | None] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # How the actor signed in: "token:<id>", "password", "sso" or "system" (never the credential).
    via: Mapped[str | None] = mapped_column(String(64))


def _refuse_change(_mapper: Any, _connection: Any, target: Any) -> None:
    raise RuntimeError(f"{type(target).__name__} rows are immutable; add a new revision instead")


# History must stay trustworthy: a revision, once written, is never rewritten by this code.
event.listen(ConnectorRevision, "before_update", _refuse_change)
event.listen(ConnectorRevisionFile, "before_update", _refuse_change)
