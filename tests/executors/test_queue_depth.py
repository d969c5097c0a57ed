"""``tether_queue_depth``: runs waiting in the broker's run queue, read from a real Redis at each scrape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.executors.conftest import RedisServer
from tether import telemetry
from tether.config import load_settings
from tether.executors import CeleryExecutor


@pytest.fixture
def executor(redis_server: RedisServer, tmp_path: Path) -> Iterator[CeleryExecutor]:
    client = redis.Redis.from_url(redis_server.url())
    client.flushdb()  # no worker runs here: whatever this test queues is removed below
    executor = CeleryExecutor(load_settings(broker_url=redis_server.url(), home=tmp_path))
    telemetry.enable_metrics()
    try:
        yield executor
    finally:
        telemetry.disable_metrics()
        executor.app.close()
        client.flushdb()
        client.close()


def _depth() -> float:
    for family in text_string_to_metric_families(telemetry.render_metrics().decode()):
        for sample in family.samples:
            if sample.name == "tether_queue_depth":
                return sample.value
    raise AssertionError("no tether_queue_depth sample")


def test_queue_depth_is_the_number_of_runs_waiting_for_a_worker(executor: CeleryExecutor) -> None:
    telemetry.set_queue_depth(executor.queue_depth)
    assert _depth() == 0
    for n in range(3):
        executor.submit(f"run-{n}")
    assert executor.queue_depth() == 3
    assert _depth() == 3


def test_an_unreachable_broker_gives_no_depth_rather_than_a_failed_scrape(tmp_path: Path) -> None:
    executor = CeleryExecutor(load_settings(broker_url="redis://127.0.0.1:1/0", home=tmp_path))
    try:
        assert executor.queue_depth() is None
    finally:
        executor.app.close()
