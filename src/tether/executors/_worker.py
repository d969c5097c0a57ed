"""Starting a Celery worker process that advances runs: what ``tether worker`` calls.

The worker consumes only the run queue, with Celery's gossip, mingle and heartbeat turned off
(workers need not know about each other: the database lease is what keeps them apart, and those
broadcasts cost Redis traffic on every worker for nothing).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from celery import Celery
from celery.signals import worker_process_shutdown
from kombu.utils.url import maybe_sanitize_url

from tether.config import Settings
from tether.errors import ConfigurationError
from tether.executors._app import RUN_QUEUE, create_celery_app
from tether.executors._tasks import AdvanceFactory, WorkerHost, register_tasks

__all__ = [
    "POOLS",
    "WorkerOptions",
    "build_worker_app",
    "check_worker_settings",
    "run_worker",
    "worker_argv",
    "worker_banner",
]

POOLS = ("prefork", "solo", "threads")


@dataclass(frozen=True)
class WorkerOptions:
    """How one ``tether worker`` process runs: pool kind, concurrency, node name, log level.

    The default, ``threads`` x16, advances up to 16 runs at once on the process's one event loop
    (runs mostly wait on HTTP and the database); for more CPU, start more worker processes.
    """

    pool: str = "threads"
    concurrency: int = 16
    name: str = "tether@%h"
    loglevel: str = "INFO"

    def __post_init__(self) -> None:
        if self.pool not in POOLS:
            raise ConfigurationError(f"Unknown worker pool {self.pool!r}: use one of {', '.join(POOLS)}.")
        if self.concurrency < 1:
            raise ConfigurationError("The worker concurrency must be at least 1.")


def worker_argv(options: WorkerOptions) -> list[str]:
    """Celery's worker command line for ``options``."""
    concurrency = 1 if options.pool == "solo" else options.concurrency
    return [
        "worker",
        f"--pool={options.pool}",
        f"--concurrency={concurrency}",
        f"--hostname={options.name}",
        f"--queues={RUN_QUEUE}",
        f"--loglevel={options.loglevel}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def worker_banner(settings: Settings, options: WorkerOptions) -> str:
    """One line saying what this worker connects to, with passwords masked."""
    broker, database = maybe_sanitize_url(settings.broker_url), maybe_sanitize_url(settings.database_url)
    node = options.name.replace("%h", socket.gethostname())
    return (
        f"Tether worker {node}: broker {broker}, database {database}, "
        f"pool {options.pool} x{1 if options.pool == 'solo' else options.concurrency}, "
        f"queue {RUN_QUEUE}, visibility timeout {settings.broker_visibility_timeout:g}s"
    )


def check_worker_settings(settings: Settings) -> None:
    """Refuse, with the fix in the message, settings a worker cannot run with."""
    if not settings.broker_url:
        raise ConfigurationError(
            "tether worker needs a broker: set TETHER_BROKER_URL (or --broker-url) to redis://host:6379/0."
        )
    if not settings.database_url.startswith(("postgresql", "postgres")):
        raise ConfigurationError(
            "tether worker needs the database every worker and server share: set TETHER_DATABASE_URL "
            "(or --database-url) to a PostgreSQL URL, postgresql://user@host/db."
        )


def build_worker_app(settings: Settings, factory: AdvanceFactory) -> tuple[Celery, WorkerHost]:
    """The Celery app of a worker process, with the run task bound to a fresh :class:`WorkerHost`."""
    check_worker_settings(settings)
    app = create_celery_app(settings)
    runtime = WorkerHost(settings, factory)
    register_tasks(app, runtime)

    def _close(**_kwargs: Any) -> None:
        runtime.close()

    # Prefork children close their own connections; weak=False because _close is a closure.
    worker_process_shutdown.connect(_close, weak=False)
    return app, runtime


def run_worker(
    settings: Settings, factory: AdvanceFactory, options: WorkerOptions, extra_args: Sequence[str] = ()
) -> None:
    """Run a worker in this process until it is stopped (Ctrl+C / SIGTERM: finish the current run)."""
    app, runtime = build_worker_app(settings, factory)
    try:
        app.worker_main([*worker_argv(options), *extra_args])
    finally:
        runtime.close()
