"""``tether worker``: a Celery worker that executes flow runs (the distributed mode)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from tether.cli._output import err
from tether.config import load_settings

__all__ = ["worker"]

_POOL_HELP = (
    "Celery pool: threads (runs share this process's event loop; the cheapest), prefork (a process "
    "per slot) or solo (one run at a time)."
)


def worker(
    pool: Annotated[str, typer.Option(help=_POOL_HELP)] = "threads",
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", help="Runs advanced at once (ignored by solo).")
    ] = 16,
    name: Annotated[
        str, typer.Option("--name", "-n", help="Worker node name; %h becomes the host name.")
    ] = "tether@%h",
    broker_url: Annotated[
        str | None, typer.Option("--broker-url", help="Celery broker, e.g. redis://127.0.0.1:6379/0.")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="PostgreSQL URL shared with 'tether serve'.")
    ] = None,
    loglevel: Annotated[
        str, typer.Option("--loglevel", "-l", help="DEBUG, INFO, WARNING or ERROR.")
    ] = "INFO",
) -> None:
    """Execute flow runs submitted by 'tether serve' (needs TETHER_BROKER_URL and PostgreSQL).

    Start as many as you like, on any machines that reach the broker and the database. Each run
    is leased in PostgreSQL, so two workers never advance the same run; if a worker dies, its run
    is taken over by another one after TETHER_BROKER_VISIBILITY_TIMEOUT seconds.
    """
    from tether._extras import require_extra

    require_extra("celery", extra="distributed", feature="tether worker")
    from tether.executors import (
        WorkerOptions,
        check_worker_settings,
        run_worker,
        services_advance,
        worker_banner,
    )
    from tether.store import Database, migrate

    settings = load_settings(broker_url=broker_url, database_url=database_url)
    options = WorkerOptions(pool=pool, concurrency=concurrency, name=name, loglevel=loglevel.upper())
    check_worker_settings(settings)
    with Database(settings.database_url) as database:
        migrate(database)  # serialized across processes by a PostgreSQL advisory lock
    err.print(f"[bold]{escape(worker_banner(settings, options))}[/]")
    run_worker(settings, services_advance, options)
