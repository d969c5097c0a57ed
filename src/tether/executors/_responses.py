"""Synchronous answers across processes: a worker's Response action reaches the waiting server.

A Request trigger's caller waits in whichever ``tether serve`` replica took the request, but the
Response action runs on some worker. The answer is committed in the database by the journal, and
also published on Redis (the broker we already have) so the waiting replica hears it at once.

Each replica listens on a channel of its own (:func:`reply_channel`), and names it in the task of
a run somebody waits for there; the worker publishes that run's answer — or "no answer" when it
ends without one — once, on that channel only. Runs nobody waits for (Recurrence, recovery,
asynchronous callers) publish nothing, and no replica hears the answers of another's callers.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis

__all__ = ["RESPONSE_CHANNEL", "ResponseListener", "ResponsePublisher", "reply_channel"]

RESPONSE_CHANNEL = "tether.response."
_log = logging.getLogger("tether.executors")

Deliver = Callable[[str, "dict[str, Any] | None"], None]


def reply_channel() -> str:
    """A fresh channel name for one server process's answers."""
    return RESPONSE_CHANNEL + uuid.uuid4().hex


class ResponsePublisher:
    """Worker side: publish a run's response (``None``: the run ended without one) to ``reply_to``."""

    def __init__(self, broker_url: str) -> None:
        self._client = redis.Redis.from_url(broker_url, socket_timeout=5.0)

    def publish(self, reply_to: str, run_id: str, response: dict[str, Any] | None) -> None:
        try:
            self._client.publish(reply_to, json.dumps({"run": run_id, "response": response}))
        except redis.RedisError as exc:
            # The answer is in the database too; a caller that misses it here times out, nothing worse.
            _log.warning("run %s: could not publish the response: %s", run_id, exc)

    def close(self) -> None:
        self._client.close()


class ResponseListener:
    """Server side: a background thread that hands every response published on ``channel`` to
    ``deliver``."""

    def __init__(self, broker_url: str, deliver: Deliver, channel: str) -> None:
        self.channel = channel
        self._client = redis.Redis.from_url(broker_url, health_check_interval=30)
        self._deliver = deliver
        # redis-py 8.1 leaves Redis.pubsub unannotated, 8.2 annotates it: the ignore must suit both.
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call,unused-ignore]
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Subscribe (before returning, so no answer published afterwards is missed) and listen."""
        self._pubsub.subscribe(**{self.channel: self._on_message})
        self._pubsub.get_message(timeout=1.0)  # wait for the subscription to be confirmed
        self._thread = self._pubsub.run_in_thread(
            sleep_time=0.5, daemon=True, exception_handler=self._on_error
        )

    def _on_message(self, message: dict[str, Any]) -> None:
        try:
            data = json.loads(message["data"])
            run_id, response = str(data["run"]), data["response"]
        except (ValueError, KeyError, TypeError):
            _log.warning("unreadable response message on %s ignored", self.channel)
            return
        self._deliver(run_id, response)

    def _on_error(self, exc: BaseException, pubsub: Any, thread: Any) -> None:
        _log.warning("response listener: %s; reconnecting", exc)
        time.sleep(1.0)  # the broker is down: do not spin
        if pubsub.connection is not None:
            pubsub.connection.disconnect()  # redis-py resubscribes on the next read

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()  # type: ignore[attr-defined]
            self._thread.join(timeout=5)
            self._thread = None
        self._pubsub.close()
        self._client.close()
