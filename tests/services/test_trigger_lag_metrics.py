"""``tether_trigger_lag_seconds{trigger="polling"}``: how late a due poll of a connector trigger
started, against the real local events API (its 202 answers ask to come back in 15 s)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.services.test_connector_triggers import _drive, _flow, _host, _setup, service  # noqa: F401
from tether import telemetry
from tether.hosting import ConnectorTriggers
from tether.secrets import KeyRing
from tether.services import create_flow
from tether.store import utcnow


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.from_keys(KeyRing.generate_key())


@pytest.fixture
def metrics() -> Iterator[None]:
    telemetry.enable_metrics()
    yield
    telemetry.disable_metrics()


def _lag(trigger: str) -> tuple[float, float]:
    """(count, sum) of the lag histogram for ``trigger``."""
    found = {"count": 0.0, "sum": 0.0}
    for family in text_string_to_metric_families(telemetry.render_metrics().decode()):
        for sample in family.samples:
            if sample.labels.get("trigger") == trigger and sample.name.endswith(("_count", "_sum")):
                found[sample.name.rsplit("_", 1)[1]] = sample.value
    return found["count"], found["sum"]


def test_a_late_poll_is_observed_with_its_lag(db, admin, team, service, ring, metrics) -> None:  # noqa: F811
    _api, host = service
    connection = _setup(db, admin, team, host, ring)
    trigger = {
        "type": "ApiConnection",
        "recurrence": {"frequency": "Minute", "interval": 1},
        "inputs": {"host": _host(), "method": "get", "path": "/items"},
    }
    create_flow(db, admin, team, _flow(trigger), name="lagging", connections={"events": connection})
    now = utcnow()

    async def steps(triggers: ConnectorTriggers) -> None:
        await triggers.tick(now)  # due at once: establishes state, next poll in 15 s (Retry-After)
        assert _lag("polling") == (1.0, 0.0)
        await triggers.tick(now + timedelta(seconds=20))  # 5 s after it was due
        count, total = _lag("polling")
        assert count == 2.0 and total == pytest.approx(5.0, abs=0.01)

    _drive(db, ring, steps)
