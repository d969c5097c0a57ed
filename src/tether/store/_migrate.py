"""Schema migrations, run from code.

The migration scripts ship inside the package (``tether/store/migrations``) and are found by
path, so an installed Tether upgrades its database with no alembic.ini and no working directory
assumptions. :func:`migrate` is what ``tether serve`` and the CLI call on start.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from tether.store._engine import Database

__all__ = ["MIGRATIONS_PATH", "alembic_config", "current_revision", "head_revision", "migrate"]

MIGRATIONS_PATH = Path(__file__).with_name("migrations")

# Any constant works; it only has to be the same for every Tether process sharing a database.
_PG_MIGRATION_LOCK = 0x7E7E_0001


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged scripts, optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(database: Database, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (the latest by default); a no-op when already there.

    On PostgreSQL a session advisory lock serializes replicas starting at the same time, so only
    one of them runs each migration. SQLite needs nothing: ``BEGIN IMMEDIATE`` already serializes.
    """
    with database.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            connection.commit()
        try:
            command.upgrade(alembic_config(connection), revision)
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK})
                connection.commit()


def current_revision(database: Database) -> str | None:
    """The revision the database is at, or ``None`` for an empty database."""
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this version of Tether."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
