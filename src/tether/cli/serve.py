"""``tether serve``: the embedded server (SQLite by default, PostgreSQL when configured)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any

import typer
import uvicorn
from rich.markup import escape

from tether.cli._output import err
from tether.config import Settings, load_settings
from tether.store import Database

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["INITIAL_PASSWORD_FILE", "open_database", "serve", "serving_app", "worker_app"]

INITIAL_PASSWORD_FILE = "initial-admin-password"


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Database URL (default: SQLite under TETHER_HOME).")
    ] = None,
    public_url: Annotated[
        str | None, typer.Option("--public-url", help="URL users reach this server at (behind a proxy).")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes sharing the port: one per CPU core serves the most calls. On Linux "
            "each has its own socket (SO_REUSEPORT), so the kernel spreads connections evenly. Each runs "
            "flows too; the scheduler's database leases keep every tick firing once.",
        ),
    ] = 1,
) -> None:
    """Start the Tether server: API under /api/v1, docs at /docs.

    On first start it creates the database, the default environment and an 'admin' user
    (password from TETHER_ADMIN_PASSWORD, or generated and printed once).
    """
    from tether.api import check_port_free, serve_workers

    settings = load_settings(
        database_url=database_url,
        public_url=public_url or (f"http://{host}:{port}" if port != 8000 or host != "127.0.0.1" else None),
    )
    check_port_free(host, port)  # a taken port fails now, not after the migrations
    database = open_database(settings)
    err.print(
        f"Tether {escape(settings.public_url)} — API docs at {escape(settings.public_url)}/docs "
        f"(database: {database.dialect}" + (f", {workers} processes)" if workers > 1 else ")")
    )
    if workers > 1:
        # Each process builds its app from TETHER_* variables, so hand it the settings resolved here.
        database.close()
        os.environ.update(settings_environment(settings))
        # Each process listens on a socket of its own (SO_REUSEPORT on Linux): the kernel spreads
        # connections evenly, where one shared socket let one process take most keep-alive clients.
        serve_workers(
            f"{__name__}:worker_app", host=host, port=port, workers=workers, log_config=_log_config(settings)
        )
        return
    try:
        app = serving_app(settings, database)
        uvicorn.run(app, host=host, port=port, log_level="info", log_config=_log_config(settings))
    finally:
        database.close()


def _log_config(settings: Settings) -> dict[str, Any] | None:
    """uvicorn's own log set-up, or none when the app writes JSON lines (its handlers would print text)."""
    return None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG


def serving_app(settings: Settings, database: Database) -> FastAPI:
    """The API as ``tether serve`` runs it: embedded flow runs, or Celery's when a broker is set."""
    from tether.api import create_app

    app = create_app(settings, database)
    _mount_mcp(app, settings, database)
    if settings.broker_url:
        # Distributed mode: runs go to 'tether worker' processes through the broker.
        from tether._extras import require_extra

        require_extra("celery", extra="distributed", feature="TETHER_BROKER_URL (the distributed mode)")
        from kombu.utils.url import maybe_sanitize_url

        from tether.executors import distributed_flow_host

        app.state.flow_host = distributed_flow_host(database, settings)
        err.print(f"Flow runs go to Celery workers through {escape(maybe_sanitize_url(settings.broker_url))}")
    return app


def _mount_mcp(app: FastAPI, settings: Settings, database: Database) -> None:
    """Serve MCP (streamable HTTP) at /mcp when the 'mcp' extra is installed."""
    import importlib.util

    if importlib.util.find_spec("mcp") is None:
        return  # the API works without it; 'tether mcp' says which extra to install
    from tether.api import app_connector_runner
    from tether.mcp import Backend, mount_mcp
    from tether.secrets import KeyRing

    made: list[Backend] = []  # one per app (its access cache lives on), remade if a part changes

    def backend() -> Backend:
        state = app.state
        if getattr(state, "keyring", None) is None:  # the flow lifespan sets it; a bare app may not
            state.keyring = KeyRing.from_settings(settings)
        parts = (app_connector_runner(app), state.keyring, getattr(state, "flow_host", None))
        if not made or (made[0].connectors, made[0].keyring, made[0].flows) != parts:
            made[:] = [Backend(db=database, connectors=parts[0], keyring=parts[1], flows=parts[2])]
        return made[0]

    mount_mcp(app, backend, app.state.tokens)


def worker_app() -> FastAPI:
    """One process of ``tether serve --workers N`` (the parent already migrated the database)."""
    settings = load_settings()
    return serving_app(settings, Database(settings.database_url))


def settings_environment(settings: Settings) -> dict[str, str]:
    """``TETHER_*`` variables that make :func:`load_settings` in a child process give ``settings``."""
    return {
        "TETHER_HOME": str(settings.home),
        "TETHER_DATABASE_URL": settings.database_url,
        "TETHER_PUBLIC_URL": settings.public_url,
        "TETHER_LOG_FORMAT": settings.log_format,
    }


def open_database(settings: Settings) -> Database:
    """Open, migrate and bootstrap the database; print first-start instructions."""
    from tether import services
    from tether.store import migrate

    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if settings.home.stat().st_mode & 0o077:  # it holds the database and master.key: owner only
        settings.home.chmod(0o700)
    database = Database(settings.database_url)
    migrate(database)
    # A WAL left large by an earlier version or a killed server shrinks before serving begins.
    database.checkpoint_wal(truncate=True, busy_ms=2_000)
    result = services.bootstrap(database, settings)
    if result.admin_created:
        where = "TETHER_ADMIN_PASSWORD"
        if result.admin_password is not None:
            # Not printed: server output often ends up in log files. The file is for the owner only.
            secret_file = settings.home / INITIAL_PASSWORD_FILE
            descriptor = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(result.admin_password + "\n")
            where = f"the password in {secret_file}"
        err.print(
            f"[bold]First start:[/] created user 'admin'. Log in with {escape(where)}:\n"
            f"  tether login --server {escape(settings.public_url)} --username admin"
        )
    return database
