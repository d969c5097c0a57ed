"""Connector triggers end to end against real local services: polling (202/Location/Retry-After) in
the ApiConnection and Power Automate OpenApiConnection shapes, the ``pollingtrigger`` cursor
template, and webhooks (subscribe, event, unsubscribe on delete, a refused subscribe)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.services._triggers_kit import EventsApi, events_package
from tether.api import serve_in_thread
from tether.hosting import ConnectorTriggers, FlowConnectorCaller
from tether.hosting._host import trigger_signing_key
from tether.secrets import KeyRing
from tether.services import (
    ConnectorRunner,
    Principal,
    create_connection,
    create_connector,
    create_flow,
    delete_flow,
    list_runs,
    set_environment_settings,
    set_flow_enabled,
    update_flow,
)
from tether.store import Database, FlowRuns, FlowTriggers, utcnow


@pytest.fixture(scope="module")
def service() -> Iterator[tuple[EventsApi, str]]:
    api = EventsApi()
    with serve_in_thread(api.app()) as url:  # type: ignore[arg-type]
        yield api, url.removeprefix("http://")


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.from_keys(KeyRing.generate_key())


def _flow(trigger: dict[str, Any]) -> dict[str, Any]:
    return {"triggers": {"t": trigger}, "actions": {"A": {"type": "Compose", "inputs": "@triggerBody()"}}}


def _host() -> dict[str, Any]:
    return {"connection": {"name": "@parameters('$connections')['events']['connectionId']"}}


def _setup(db: Database, admin: Principal, team: str, host: str, ring: KeyRing) -> str:
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])
    connector = create_connector(db, admin, team, events_package(host))
    return create_connection(db, admin, team, connector.id, {}, keyring=ring, public_url="http://x").id


def _drive(db: Database, ring: KeyRing, steps: Callable[[ConnectorTriggers], Any]) -> Any:
    submitted: list[str] = []

    async def go() -> Any:
        async with ConnectorRunner() as connectors:
            caller = FlowConnectorCaller(db, runtime=connectors, keyring=ring)
            triggers = ConnectorTriggers(
                db,
                caller,
                instance="one",
                submit=submitted.append,
                signing_key=lambda: trigger_signing_key(db, ring),
                public_url="http://tether.test",
            )
            return await steps(triggers)

    return asyncio.run(go())


def _bodies(db: Database, admin: Principal, team: str, flow: str) -> list[Any]:
    runs = sorted(list_runs(db, admin, team, flow, limit=100), key=lambda r: (r.created_at, r.id))
    with db.session() as session:
        return [FlowRuns(session).get(r.id).trigger["outputs"]["body"] for r in runs]  # type: ignore[union-attr]


def test_polling_fires_each_item_once_and_keeps_state(db, admin, team, service, ring) -> None:
    api, host = service
    connection = _setup(db, admin, team, host, ring)
    trigger = {
        "type": "ApiConnection",
        "recurrence": {"frequency": "Minute", "interval": 1},
        "inputs": {"host": _host(), "method": "get", "path": "/items"},
        "splitOn": "@triggerBody()?['value']",
    }
    create_flow(db, admin, team, _flow(trigger), name="poller", connections={"events": connection})
    now = utcnow()

    async def steps(triggers: ConnectorTriggers) -> None:
        assert await triggers.tick(now) == []  # the first poll establishes state: 202 + Location
        assert await triggers.tick(now + timedelta(seconds=5)) == []  # Retry-After 15 s not yet over
        assert len(await triggers.tick(now + timedelta(seconds=16))) == 0  # no data: 202
        api.items = [{"n": 1}, {"n": 2}]
        assert len(await triggers.tick(now + timedelta(seconds=32))) == 2  # one run per item
        assert await triggers.tick(now + timedelta(seconds=48)) == []  # nothing new, nothing twice
        set_flow_enabled(db, admin, team, "poller", False)
        api.items = [{"n": 3}]
        assert await triggers.tick(now + timedelta(seconds=64)) == []  # disabled: no poll
        set_flow_enabled(db, admin, team, "poller", True)
        assert len(await triggers.tick(now + timedelta(seconds=80))) == 1  # state kept: item 3 only

    _drive(db, ring, steps)
    assert _bodies(db, admin, team, "poller") == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert api.polls[-1] == {"triggerState": "2"}  # the Location from the last 200 answer


def test_changed_inputs_of_several_polling_triggers_reset_their_rows(db, admin, team, service, ring) -> None:
    """Reconciling resets every polling row whose inputs changed (it once popped rows from the dict it
    was iterating, which raised on the next row and stopped every connector trigger of the process)."""
    _api, host = service
    connection = _setup(db, admin, team, host, ring)

    def trigger(path: str) -> dict[str, Any]:
        inputs = {"host": _host(), "method": "get", "path": path}
        return {
            "type": "ApiConnection",
            "recurrence": {"frequency": "Minute", "interval": 1},
            "inputs": inputs,
        }

    for name in ("first", "second", "third"):
        create_flow(db, admin, team, _flow(trigger("/items")), name=name, connections={"events": connection})

    def hashes() -> dict[str, str]:
        with db.session() as session:
            return {row.flow_id: row.inputs_hash for row in FlowTriggers(session).all()}

    async def steps(triggers: ConnectorTriggers) -> None:
        await triggers.reconcile(utcnow())
        before = hashes()
        assert len(before) == 3
        for name in ("first", "second", "third"):
            update_flow(db, admin, team, name, definition=_flow(trigger("/items?changed=1")))
        await triggers.reconcile(utcnow())
        after = hashes()
        assert after.keys() == before.keys()
        assert all(after[flow] != before[flow] for flow in after)

    _drive(db, ring, steps)


def test_polling_trigger_template_sends_the_cursor(db, admin, team, service, ring) -> None:
    api, host = service
    connection = _setup(db, admin, team, host, ring)
    trigger = {
        "type": "ApiConnection",
        "recurrence": {"frequency": "Second", "interval": 30},
        "inputs": {"host": _host(), "method": "get", "path": "/trips"},
    }
    create_flow(db, admin, team, _flow(trigger), name="trips", connections={"events": connection})
    now = utcnow()
    api.filters.clear()
    api.trips = [{"TripId": 1}, {"TripId": 2}]

    async def steps(triggers: ConnectorTriggers) -> None:
        assert len(await triggers.tick(now)) == 1  # trips 2 and 1 in one body
        assert await triggers.tick(now + timedelta(seconds=31)) == []  # none above 2
        api.trips.append({"TripId": 3})
        assert len(await triggers.tick(now + timedelta(seconds=62))) == 1

    _drive(db, ring, steps)
    assert api.filters == [None, "TripId gt 2", "TripId gt 2"]
    bodies = _bodies(db, admin, team, "trips")
    assert bodies == [{"value": [{"TripId": 2}, {"TripId": 1}]}, {"value": [{"TripId": 3}]}]


def test_webhook_subscribes_fires_and_unsubscribes_on_delete(db, admin, team, service, ring) -> None:
    api, host = service
    connection = _setup(db, admin, team, host, ring)
    trigger = {
        "type": "ApiConnectionWebhook",
        "inputs": {"host": _host(), "path": "/hooks", "body": {"callbackUrl": "@{listCallbackUrl()}"}},
    }
    flow = create_flow(db, admin, team, _flow(trigger), name="hooked", connections={"events": connection})
    api.callbacks.clear()
    api.deleted.clear()

    async def steps(triggers: ConnectorTriggers) -> None:
        await triggers.tick()
        await triggers.tick()  # already subscribed: no second subscription
        assert len(api.callbacks) == 1
        url = urlsplit(api.callbacks[0])
        assert url.path == f"/api/v1/flows/{flow.id}/triggers/t/events"
        sig = parse_qs(url.query)["sig"][0]
        from tether.errors import AuthError, ValidationFailed

        with pytest.raises(ValidationFailed):
            await triggers.accept_event(flow.id, "t", sig=sig, headers={}, body={"other": 1})
        with pytest.raises(AuthError):
            await triggers.accept_event(flow.id, "t", sig="forged", headers={}, body={"event": 1})
        run = await triggers.accept_event(flow.id, "t", sig=sig, headers={}, body={"event": "created"})
        assert _bodies(db, admin, team, "hooked") == [{"event": "created"}] and run.status == "Waiting"
        delete_flow(db, admin, team, "hooked")
        await triggers.tick()

    _drive(db, ring, steps)
    assert api.deleted == ["/api/hooks/s1"]


def test_open_api_connection_polling_fires_each_item_once(db, admin, team, service, ring) -> None:
    """Power Automate's shape: the operation by id, the connection by reference name, no path."""
    api, host = service
    connection = _setup(db, admin, team, host, ring)
    trigger = {
        "type": "OpenApiConnection",
        "recurrence": {"frequency": "Minute", "interval": 1},
        "inputs": {
            "host": {
                "connectionName": "shared_events",
                "operationId": "NewItems",
                "apiId": "/providers/Microsoft.PowerApps/apis/shared_events",
            },
            "parameters": {},
        },
    }
    flow = _flow(trigger)
    create_flow(db, admin, team, flow, name="pa-poller", connections={"shared_events": connection})
    api.items, now = [], utcnow()

    async def steps(triggers: ConnectorTriggers) -> None:
        assert await triggers.tick(now) == []  # 202 + Location: state established
        api.items = [{"n": 1}, {"n": 2}]
        assert len(await triggers.tick(now + timedelta(seconds=16))) == 2  # x-ms-trigger batch: one run each
        assert await triggers.tick(now + timedelta(seconds=32)) == []

    _drive(db, ring, steps)
    assert _bodies(db, admin, team, "pa-poller") == [{"n": 1}, {"n": 2}]
    assert api.polls[-1] == {"triggerState": "2"}


def test_a_refused_connector_subscribe_is_recorded_not_fatal(db, admin, team, service, ring) -> None:
    api, host = service
    connection = _setup(db, admin, team, host, ring)
    set_environment_settings(db, admin, team, network_allow=[])  # loopback refused again
    trigger = {
        "type": "ApiConnectionWebhook",
        "inputs": {"host": _host(), "path": "/hooks", "body": {"callbackUrl": "@{listCallbackUrl()}"}},
    }
    flow = create_flow(db, admin, team, _flow(trigger), name="refused", connections={"events": connection})
    api.callbacks.clear()

    async def steps(triggers: ConnectorTriggers) -> None:
        await triggers.tick()  # the pass goes on: the failure is the trigger's state
        await triggers.tick()  # and is not retried at once

    _drive(db, ring, steps)
    with db.session() as session:
        state = FlowTriggers(session).get(flow.id).state  # type: ignore[union-attr]
    assert "network_allow" in state["error"] and "retry_at" in state
    assert api.callbacks == []
