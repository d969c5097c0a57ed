"""Putting run tasks on the Redis run queue: the message Celery's ``send_task`` would, at a fifth of its CPU.

``tether serve`` queues one task per run on its event loop, so what a publish costs is paid by
every request. ``send_task`` spends ~0.4 ms per call in Celery's and kombu's layers (options,
routing, producer pools, the retry wrapper); a task message on Redis is one JSON document LPUSHed
onto the queue's list, so it is built here directly: Celery message protocol 2 (headers, a
base64 JSON body ``[args, kwargs, embed]``) inside kombu's Redis envelope (properties with the
``delivery_info`` that puts an unacknowledged message back on the same queue). Workers consume it
exactly like one from ``send_task``; the distributed tests run every run through this path.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from tether.executors._app import ADVANCE_RUN_TASK, RUN_QUEUE

__all__ = ["RunQueue", "task_message"]

#: Redis URL schemes this publisher speaks; any other broker goes through ``send_task``.
SCHEMES = ("redis://", "rediss://")
_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
_ORIGIN = f"gen{os.getpid()}@{socket.gethostname()}"


def task_message(run_id: str, reply_to: str | None = None, *, queue: str = RUN_QUEUE) -> bytes:
    """The Redis list entry of one ``tether.advance_run`` task, as kombu stores Celery's."""
    task_id = str(uuid.uuid4())
    kwargs: dict[str, Any] = {"reply_to": reply_to} if reply_to is not None else {}
    body = json.dumps([[run_id], kwargs, _EMBED]).encode()
    headers: dict[str, Any] = {
        "lang": "py",
        "task": ADVANCE_RUN_TASK,
        "id": task_id,
        "shadow": None,
        "eta": None,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": 0,
        "timelimit": [None, None],
        "root_id": task_id,
        "parent_id": None,
        "argsrepr": repr((run_id,)),
        "kwargsrepr": repr(kwargs),
        "origin": _ORIGIN,
        "ignore_result": True,
        "replaced_task_nesting": 0,
        "stamped_headers": None,
        "stamps": {},
    }
    message = {
        "body": base64.b64encode(body).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": {
            "correlation_id": task_id,
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    return json.dumps(message).encode()


class RunQueue:
    """Queues runs on Redis with one LPUSH each; thread-safe (redis-py pools its connections).

    A dropped connection is retried a few times with a short backoff, as ``send_task``'s retry
    policy did; what still fails raises :class:`redis.RedisError` for the caller to report.
    """

    def __init__(self, broker_url: str, *, queue: str = RUN_QUEUE) -> None:
        self.queue = queue
        retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3)
        self._client = redis.Redis.from_url(
            broker_url,
            socket_timeout=5.0,
            socket_connect_timeout=5.0,
            retry=retry,
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        )

    @staticmethod
    def speaks(broker_url: str) -> bool:
        """Whether ``broker_url`` is a Redis this class can queue on."""
        return broker_url.startswith(SCHEMES)

    def put(self, run_id: str, reply_to: str | None = None) -> None:
        self._client.lpush(self.queue, task_message(run_id, reply_to, queue=self.queue))

    def close(self) -> None:
        self._client.close()
