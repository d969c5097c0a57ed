"""Executors beyond the embedded one: Celery workers on a Redis broker, PostgreSQL as the shared store.

``tether serve`` with ``TETHER_BROKER_URL`` set submits runs through :class:`CeleryExecutor`;
``tether worker`` processes (:func:`run_worker`) take them, lease each run in PostgreSQL
(:class:`RunLease`) and advance it with the same engine and database journal as the embedded mode.

    executor = select_executor(settings, embedded)   # CeleryExecutor when a broker is configured
"""

from __future__ import annotations

from tether.executors._app import ADVANCE_RUN_TASK, RUN_QUEUE, create_celery_app, transport_options
from tether.executors._executor import BrokerUnavailable, CeleryExecutor
from tether.executors._lease import LeaseBook, RunLease, lease_key
from tether.executors._responses import RESPONSE_CHANNEL, ResponseListener, ResponsePublisher, reply_channel
from tether.executors._runs import FLEET_INSTANCE, distributed_flow_host, engine_services, services_advance
from tether.executors._tasks import (
    LEASE_CHECK_INTERVAL,
    NOT_CLAIMED,
    Advance,
    AdvanceFactory,
    LeaseLost,
    RunAdvance,
    WorkerHost,
    advance_leased,
    register_tasks,
)
from tether.executors._worker import (
    POOLS,
    WorkerOptions,
    build_worker_app,
    check_worker_settings,
    run_worker,
    worker_argv,
    worker_banner,
)

__all__ = [
    "ADVANCE_RUN_TASK",
    "FLEET_INSTANCE",
    "LEASE_CHECK_INTERVAL",
    "NOT_CLAIMED",
    "POOLS",
    "RESPONSE_CHANNEL",
    "RUN_QUEUE",
    "Advance",
    "AdvanceFactory",
    "BrokerUnavailable",
    "CeleryExecutor",
    "LeaseBook",
    "LeaseLost",
    "ResponseListener",
    "ResponsePublisher",
    "RunAdvance",
    "RunLease",
    "WorkerHost",
    "WorkerOptions",
    "advance_leased",
    "build_worker_app",
    "check_worker_settings",
    "create_celery_app",
    "distributed_flow_host",
    "engine_services",
    "lease_key",
    "register_tasks",
    "reply_channel",
    "run_worker",
    "services_advance",
    "transport_options",
    "worker_argv",
    "worker_banner",
]
