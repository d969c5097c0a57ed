"""``CeleryExecutor``: the distributed Executor, which hands run ids to ``tether worker`` processes.

It implements the flows engine's ``Executor`` interface (``submit``/``start``/``stop``), so the
server does not care where runs execute. ``submit`` publishes a small JSON message naming the run;
the run's state is already committed in the database, which workers share. On Redis that message
is LPUSHed directly (:class:`~tether.executors._publish.RunQueue`); other brokers go through
``send_task``. A run somebody waits for here names this process's answer channel in its task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import redis
from celery import Celery
from kombu.exceptions import OperationalError as BrokerError

from tether.config import Settings
from tether.errors import TetherError
from tether.executors._app import ADVANCE_RUN_TASK, RUN_QUEUE, create_celery_app
from tether.executors._publish import RunQueue
from tether.executors._responses import Deliver, ResponseListener, reply_channel

__all__ = ["BrokerUnavailable", "CeleryExecutor"]

#: Publishing retries when the broker connection blips (kombu's retry policy).
PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0.0, "interval_step": 0.2, "interval_max": 1.0}
_log = logging.getLogger("tether.executors")


class BrokerUnavailable(TetherError):
    """The Celery broker (Redis) could not be reached to submit a run."""

    code = "broker-unavailable"
    status = 503
    retryable = True


class CeleryExecutor:
    """Submits runs to Celery workers over the broker in ``settings.broker_url``.

    executor = CeleryExecutor(settings)
    await executor.start()
    executor.submit(run_id)   # a worker picks it up
    """

    def __init__(
        self, settings: Settings, *, app: Celery | None = None, on_response: Deliver | None = None
    ) -> None:
        self.settings = settings
        self.app = app or create_celery_app(settings)
        #: Called with (run_id, response or None) when a worker's run answers; set before start().
        self.on_response = on_response
        #: Whether a caller here waits for a run's answer: only then does its task name our channel.
        self.waiting: Callable[[str], bool] = lambda _run_id: False
        #: This process's answer channel (workers publish there the answers of runs waited for here).
        self.reply_to = reply_channel()
        self._listener: ResponseListener | None = None
        # On Redis a run's task is one LPUSH of the message send_task would build (_publish.py).
        self._queue = RunQueue(settings.broker_url) if RunQueue.speaks(settings.broker_url) else None

    async def start(self) -> None:
        """Check the broker answers (a wrong TETHER_BROKER_URL fails at start-up), listen for answers."""
        await asyncio.to_thread(self._check)
        if self.on_response is not None:
            self._listener = ResponseListener(self.settings.broker_url, self.on_response, self.reply_to)
            await asyncio.to_thread(self._listener.start)

    def _check(self) -> None:
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=2, interval_start=0.2)
        except BrokerError as exc:
            raise BrokerUnavailable(f"Cannot reach the Celery broker: {exc}") from exc

    def submit(self, run_id: str) -> None:
        """Queue ``run_id`` for a worker; thread-safe; raises :class:`BrokerUnavailable` when it cannot.

        A publish to a local Redis takes well under a millisecond, so it is done inline rather
        than deferred: when ``submit`` returns, the run is durably queued.
        """
        reply_to = self.reply_to if self._listener is not None and self.waiting(run_id) else None
        try:
            if self._queue is not None:
                self._queue.put(run_id, reply_to)
            else:
                self.app.send_task(
                    ADVANCE_RUN_TASK,
                    args=(run_id,),
                    kwargs={"reply_to": reply_to} if reply_to is not None else {},
                    queue=RUN_QUEUE,
                    retry=True,
                    retry_policy=PUBLISH_RETRY_POLICY,
                )
        except (BrokerError, redis.RedisError) as exc:
            message = f"Cannot queue run {run_id}: the Celery broker is unreachable ({exc})."
            raise BrokerUnavailable(message) from exc

    def queue_depth(self) -> int | None:
        """Runs waiting in the broker's run queue (for ``/metrics``); None when the broker does not say."""
        try:
            with self.app.connection_for_read() as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
                declared = connection.default_channel.queue_declare(queue=RUN_QUEUE, passive=True)
        except Exception as exc:  # a scrape must not fail because the broker blinked
            _log.warning("cannot read the run queue's depth: %s", type(exc).__name__)
            return None
        count = getattr(declared, "message_count", None)
        return count if isinstance(count, int) else None

    async def stop(self) -> None:
        """Close the pooled broker connections (runs already queued stay queued)."""
        if self._listener is not None:
            await asyncio.to_thread(self._listener.stop)
            self._listener = None
        if self._queue is not None:
            self._queue.close()
        await asyncio.to_thread(self.app.close)
