"""A polling trigger that starts failing is one ``trigger.failed`` event, not one per poll."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.services._triggers_kit import EventsApi, events_package
from tests.services.test_connector_triggers import _drive, _flow, _host
from tether.api import serve_in_thread
from tether.hosting import ConnectorTriggers
from tether.secrets import KeyRing
from tether.services import create_connection, create_connector, create_flow, list_events
from tether.store import utcnow


@pytest.fixture(scope="module")
def refused_host() -> Iterator[str]:
    api = EventsApi()
    with serve_in_thread(api.app()) as url:  # type: ignore[arg-type]
        yield url.removeprefix("http://")


def test_a_failing_poll_is_one_trigger_failed_event(db, admin, team, refused_host: str) -> None:
    ring = KeyRing.from_keys(KeyRing.generate_key())
    # No network_allow: the environment's policy refuses the loopback API, so every poll fails.
    connector = create_connector(db, admin, team, events_package(refused_host))
    connection = create_connection(db, admin, team, connector.id, {}, keyring=ring, public_url="http://x").id
    trigger = {
        "type": "ApiConnection",
        "recurrence": {"frequency": "Second", "interval": 1},
        "inputs": {"host": _host(), "method": "get", "path": "/items"},
    }
    create_flow(db, admin, team, _flow(trigger), name="refused", connections={"events": connection})
    now = utcnow()

    async def steps(triggers: ConnectorTriggers) -> None:
        for n in range(3):
            assert await triggers.tick(now + timedelta(seconds=2 * n)) == []

    _drive(db, ring, steps)
    events, _more = list_events(db, admin, team, types=["trigger.failed"])
    assert len(events) == 1
    assert events[0].subject["name"] == "refused" and events[0].data["trigger"] == "t"
    assert "refus" in events[0].data["error"] or "blocked" in events[0].data["error"]
