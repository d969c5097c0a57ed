"""A polling trigger that starts failing is one ``trigger.failed`` event, not one per poll."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from tests.services._triggers_kit import EventsApi, events_package
from tests.services.test_connector_triggers import _drive, _flow, _host
from tether.api import serve_in_thread
from tether.hosting import ConnectorTriggers
from tether.secrets import KeyRing
from tether.services import create_connection, create_connector, create_flow, list_events
from tether.store import FlowTriggers, utcnow


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


def test_a_refused_webhook_subscribe_is_one_trigger_failed_event(db, admin, team, refused_host: str) -> None:
    ring = KeyRing.from_keys(KeyRing.generate_key())
    connector = create_connector(db, admin, team, events_package(refused_host))
    connection = create_connection(db, admin, team, connector.id, {}, keyring=ring, public_url="http://x").id
    trigger = {
        "type": "ApiConnectionWebhook",
        "inputs": {"host": _host(), "path": "/hooks", "body": {"callbackUrl": "@{listCallbackUrl()}"}},
    }
    flow = create_flow(
        db, admin, team, _flow(trigger), name="unsubscribed", connections={"events": connection}
    )
    now = utcnow()

    async def steps(triggers: ConnectorTriggers) -> None:
        await triggers.tick(now)
        await triggers.tick(now + timedelta(minutes=2))  # retried after a minute: refused again

    _drive(db, ring, steps)
    with db.session() as session:  # the second attempt happened (its retry time is after it)
        state = FlowTriggers(session).get(flow.id).state  # type: ignore[union-attr]
    assert datetime.fromisoformat(state["retry_at"].replace("Z", "+00:00")) > now + timedelta(minutes=2)
    events, _more = list_events(db, admin, team, types=["trigger.failed"])
    assert [e.subject["name"] for e in events] == ["unsubscribed"]
    assert "network_allow" in events[0].data["error"]
