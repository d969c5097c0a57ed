"""Alembic environment for Tether's schema.

Run through :func:`tether.store.migrate`, which hands over an open connection in
``config.attributes["connection"]``; there is no alembic.ini and no URL to read here. To author
a new revision, call ``alembic.command.revision(tether.store.alembic_config(conn), autogenerate=True)``
with a connection to a database at head.
"""

from __future__ import annotations

from alembic import context

from tether.store._models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through tether.store.migrate(), which supplies a connection.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode recreates the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
