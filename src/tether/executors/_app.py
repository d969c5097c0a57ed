"""The Celery application of the distributed mode, configured from :class:`~tether.config.Settings`.

Every option here serves one promise (DESIGN.md, Durability): a run task is acknowledged only
after the run's state is committed (``acks_late``), a worker that dies puts its task back
(``task_reject_on_worker_lost``, and Redis's visibility timeout for a SIGKILL), and a worker
takes one task at a time so a crash strands at most the run it was advancing. Results are not
stored: a run's state lives in the database, not in a result backend. Nothing else rides on a
task: no task events, no remote control (a worker consumes the run queue only, with no pidbox
channel on Redis to poll beside it), no rate-limit bookkeeping.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from tether.config import Settings
from tether.errors import ConfigurationError
from tether.executors._transport import TRANSPORT

__all__ = ["ADVANCE_RUN_TASK", "RUN_QUEUE", "create_celery_app", "transport_options"]

ADVANCE_RUN_TASK = "tether.advance_run"
RUN_QUEUE = "tether.runs"
#: Longest pause between two sweeps for abandoned (unacknowledged) tasks, in seconds.
MAX_RESTORE_INTERVAL = 10.0


def transport_options(settings: Settings) -> dict[str, Any]:
    """Redis transport options: how soon a dead worker's task is handed to another worker.

    kombu looks for expired unacknowledged tasks every ``unacked_restore_interval`` seconds; with
    the throttle at 1 every look scans, so a task comes back within about one visibility timeout
    plus a fraction of it.
    """
    timeout = settings.broker_visibility_timeout
    return {
        "visibility_timeout": timeout,
        "unacked_restore_interval": max(0.5, min(MAX_RESTORE_INTERVAL, timeout / 4)),
        "unacked_restore_throttle": 1,
    }


def create_celery_app(settings: Settings) -> Celery:
    """A Celery app that publishes (``tether serve``) and executes (``tether worker``) run tasks.

    The task itself is registered by :func:`tether.executors.register_tasks` in worker processes;
    a publisher only needs the task's name.
    """
    if not settings.broker_url:
        raise ConfigurationError(
            "No broker configured: set TETHER_BROKER_URL (for example redis://127.0.0.1:6379/0) "
            "to run flows on Celery workers."
        )
    app = Celery("tether", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=RUN_QUEUE,
        task_routes={ADVANCE_RUN_TASK: {"queue": RUN_QUEUE}},
        broker_transport_options=transport_options(settings),
        broker_connection_retry_on_startup=True,
        # A worker that lost the broker stops its tasks: they are redelivered elsewhere anyway.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # Per-task work nobody reads: events, the remote-control channel, rate limits.
        worker_send_task_events=False,
        task_send_sent_event=False,
        worker_enable_remote_control=False,
        worker_disable_rate_limits=True,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        enable_utc=True,
    )
    if settings.broker_url.startswith("redis://"):
        app.conf.broker_transport = TRANSPORT  # kombu's Redis transport, one client per channel
    return app
