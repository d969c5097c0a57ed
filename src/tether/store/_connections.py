"""Connections, pending OAuth consents, environment settings and install secrets: models and repository.

A connection holds one user's credentials for one connector. Everything secret in it (parameter
values, OAuth tokens) is stored as an opaque KeyRing token made by the services layer; this module
only ever sees ciphertext. What stays readable is what the platform must query without decrypting:
status, token expiry, which parameter names are set, the gateway name.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, false, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from tether.store._models import Base, Connector, User, new_id, utcnow

__all__ = [
    "CONNECTION_STATUSES",
    "Connection",
    "Connections",
    "EnvironmentSetting",
    "InstallSecret",
    "PendingConsent",
]

# "needs-consent": an OAuth connection waiting for the user to sign in at the provider.
# "needs-reconsent": the provider refused its refresh token (invalid_grant): the user must sign in again.
CONNECTION_STATUSES = ("connected", "error", "needs-consent", "needs-reconsent")


class Connection(Base):
    """One user's credentials for one connector in one environment."""

    __tablename__ = "connections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    connector_id: Mapped[str] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    parameter_set: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Names of the parameters given (never their values): what 'show' may tell.
    parameter_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    # KeyRing tokens: the parameter values as JSON, and the OAuth TokenSet as JSON.
    secret_values: Mapped[str | None] = mapped_column(Text)
    tokens: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None]
    grant: Mapped[str | None] = mapped_column(String(32))
    gateway: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    token_refreshed_at: Mapped[datetime | None]
    refresh_count: Mapped[int] = mapped_column(Integer, default=0)
    # Token refresh coordination (see ``TokenRefreshes``): a compare-and-set version of ``tokens``,
    # the lease of the one process calling the token endpoint, and the back-off after failures.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refresh_lease_owner: Mapped[str | None] = mapped_column(String(64))
    refresh_lease_until: Mapped[datetime | None]
    refresh_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refresh_retry_at: Mapped[datetime | None]

    connector: Mapped[Connector] = relationship(lazy="joined")
    owner: Mapped[User] = relationship(lazy="joined")


class PendingConsent(Base):
    """An OAuth authorization-code flow begun and not yet finished.

    Only the SHA-256 of the state's nonce is kept (the state travels through the browser), while
    the PKCE verifier, which must never leave the server, is stored encrypted.
    """

    __tablename__ = "pending_consents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state_hash: Mapped[str | None] = mapped_column(String(64))
    verifier: Mapped[str | None] = mapped_column(Text)
    redirect_uri: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class EnvironmentSetting(Base):
    """Per-environment switches set by environment admins (one row per environment, made on demand)."""

    __tablename__ = "environment_settings"

    environment_id: Mapped[str] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True
    )
    # From this day (UTC) on, connectors still on the Global redirect URI refuse new connections.
    oauth_global_redirect_enforcement: Mapped[date | None] = mapped_column(Date)
    # Hosts and CIDRs the environment's connectors may reach beyond the public internet (SSRF opt-in).
    network_allow: Mapped[list[str] | None] = mapped_column(JSON)
    # Seal flow runs' inputs and outputs with the key ring at rest (readers decrypt them).
    encrypt_run_data: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Days the audit log keeps this environment's events (None: the installation's default).
    audit_retention_days: Mapped[int | None] = mapped_column(Integer)
    # Connector names AI agents (MCP) may use in this environment; None: every connector.
    agent_connectors: Mapped[list[str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class InstallSecret(Base):
    """A random secret of this installation (e.g. the OAuth state signing key), KeyRing-encrypted.

    Kept in the database rather than a file so every replica sharing the database signs and
    verifies with the same key, and key rotation re-encrypts it with everything else.
    """

    __tablename__ = "install_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Connections:
    """Connections, their pending consents and the settings they depend on.

    Lookups are scoped by environment, as for connectors, so an id from another environment is
    simply not found.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, connection: Connection) -> Connection:
        self.session.add(connection)
        self.session.flush()
        return connection

    def find(self, environment_id: str, connection_id: str, *, for_update: bool = False) -> Connection | None:
        query = select(Connection).where(
            Connection.environment_id == environment_id, Connection.id == connection_id
        )
        if for_update:
            query = query.with_for_update(of=Connection)
        return self.session.scalar(query)

    def get(self, connection_id: str, *, for_update: bool = False) -> Connection | None:
        """By id alone (token refresh and consent callbacks know no environment).

        ``for_update`` takes ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the transaction's
        ``BEGIN IMMEDIATE`` already holds the database's write lock.
        """
        query = select(Connection).where(Connection.id == connection_id)
        if for_update:
            query = query.with_for_update(of=Connection)
        return self.session.scalar(query)

    def list(self, environment_id: str, *, owner_id: str | None = None) -> Sequence[Connection]:
        query = select(Connection).where(Connection.environment_id == environment_id)
        if owner_id is not None:
            query = query.where(Connection.owner_id == owner_id)
        return self.session.scalars(query.order_by(Connection.created_at, Connection.id)).all()

    def for_connector(self, connector_id: str) -> Sequence[Connection]:
        """Every connection to a connector, anyone's (deleting the connector must say whose go with it)."""
        query = select(Connection).where(Connection.connector_id == connector_id)
        return self.session.scalars(query.order_by(Connection.created_at, Connection.id)).all()

    def delete(self, connection: Connection) -> None:
        self.session.delete(connection)
        self.session.flush()

    def ids_after(self, after: str, limit: int) -> builtins.list[str]:
        """A page of connection ids in id order (for batch jobs such as key rotation)."""
        query = select(Connection.id).where(Connection.id > after).order_by(Connection.id).limit(limit)
        return list(self.session.scalars(query).all())

    # Pending consents ------------------------------------------------------------------------

    def add_pending(self, pending: PendingConsent) -> PendingConsent:
        self.session.add(pending)
        self.session.flush()
        return pending

    def pending(self, consent_id: str) -> PendingConsent | None:
        return self.session.get(PendingConsent, consent_id)

    def pending_ids_after(self, after: str, limit: int) -> builtins.list[str]:
        query = (
            select(PendingConsent.id)
            .where(PendingConsent.id > after, PendingConsent.verifier.is_not(None))
            .order_by(PendingConsent.id)
            .limit(limit)
        )
        return list(self.session.scalars(query).all())

    def mark_used(self, consent_id: str, state_hash: str, at: datetime) -> bool:
        """Consume the consent if it is still unused and ``state_hash`` is its current state.

        One conditional UPDATE, so of two callbacks racing with the same state exactly one wins.
        """
        result: Any = self.session.execute(
            update(PendingConsent)
            .where(
                PendingConsent.id == consent_id,
                PendingConsent.used_at.is_(None),
                PendingConsent.state_hash == state_hash,
            )
            .values(used_at=at)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)

    # Settings and install secrets ------------------------------------------------------------

    def settings(self, environment_id: str) -> EnvironmentSetting | None:
        return self.session.get(EnvironmentSetting, environment_id)

    def settings_for_update(self, environment_id: str) -> EnvironmentSetting:
        """The environment's settings row, created when missing."""
        found = self.session.get(EnvironmentSetting, environment_id)
        if found is None:
            found = EnvironmentSetting(environment_id=environment_id)
            self.session.add(found)
            self.session.flush()
        return found

    def install_secret(self, name: str) -> InstallSecret | None:
        return self.session.get(InstallSecret, name)

    def install_secrets(self) -> Sequence[InstallSecret]:
        return self.session.scalars(select(InstallSecret).order_by(InstallSecret.name)).all()

    def install_secret_or_add(self, name: str, make_value: Callable[[], str]) -> InstallSecret:
        """The secret ``name``, created with ``make_value()`` when missing.

        Two replicas may create it at once: the loser's insert fails inside a savepoint and it
        reads the winner's row, so everybody ends up with the same secret.
        """
        found = self.install_secret(name)
        if found is not None:
            return found
        try:
            with self.session.begin_nested():
                self.session.add(InstallSecret(name=name, value=make_value()))
        except IntegrityError:
            pass
        found = self.install_secret(name)
        if found is None:  # pragma: no cover - the row vanished between two statements
            raise RuntimeError(f"install secret {name!r} could not be created")
        return found
