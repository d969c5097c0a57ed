"""The HttpWebhook trigger against a real local service: subscribe with the signed callback URL,
events become runs, the declared unsubscribe on update/disable/delete, and the SSRF guard."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from tests.services._triggers_kit import EventsApi, http_webhook
from tether.api import serve_in_thread
from tether.errors import AuthError, Conflict
from tether.hosting import ConnectorTriggers, FlowConnectorCaller
from tether.hosting._host import trigger_signing_key
from tether.secrets import KeyRing
from tether.services import (
    ConnectorRunner,
    create_flow,
    delete_flow,
    list_runs,
    rotate_keys,
    set_environment_settings,
    set_environment_variable,
    set_flow_enabled,
    update_flow,
)
from tether.store import Database, FlowRuns, FlowTriggers, utcnow


@pytest.fixture(scope="module")
def service() -> Iterator[tuple[EventsApi, str]]:
    api = EventsApi()
    with serve_in_thread(api.app()) as url:  # type: ignore[arg-type]
        yield api, url


@pytest.fixture
def events(service: tuple[EventsApi, str]) -> tuple[EventsApi, str]:
    api, url = service
    api.plain.clear()
    api.unsubscribe_status = 200
    return api, url


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.from_keys(KeyRing.generate_key())


def _flow(trigger: dict[str, Any]) -> dict[str, Any]:
    return {"triggers": {"hook": trigger}, "actions": {"A": {"type": "Compose", "inputs": "@triggerBody()"}}}


def _drive(db: Database, ring: KeyRing, steps: Callable[[ConnectorTriggers], Any]) -> Any:
    async def go() -> Any:
        async with ConnectorRunner() as connectors:
            triggers = ConnectorTriggers(
                db,
                FlowConnectorCaller(db, runtime=connectors, keyring=ring),
                instance="one",
                submit=lambda _run: None,
                signing_key=lambda: trigger_signing_key(db, ring),
                public_url="http://tether.test",
            )
            return await steps(triggers)

    return asyncio.run(go())


def _state(db: Database, flow_id: str) -> dict[str, Any] | None:
    with db.session() as session:
        row = FlowTriggers(session).get(flow_id)
        return dict(row.state) if row is not None else None


def test_http_webhook_subscribes_fires_and_unsubscribes(db, admin, team, events, ring) -> None:
    api, url = events
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])
    flow = create_flow(db, admin, team, _flow(http_webhook(url)), name="hooked")

    async def steps(triggers: ConnectorTriggers) -> None:
        await triggers.tick()
        await triggers.tick()  # subscribed: not again
        assert api.plain_calls() == [("subscribe", "orders")]
        sent = api.plain[0]
        assert sent["query"] == {"v": "1"} and sent["authorization"].startswith("Basic ")
        callback = urlsplit(sent["body"]["callbackUrl"])
        assert callback.path == f"/api/v1/flows/{flow.id}/triggers/hook/events"
        sig = parse_qs(callback.query)["sig"][0]
        with pytest.raises(AuthError):
            await triggers.accept_event(flow.id, "hook", sig=sig[:-2], headers={}, body={"n": 1})
        headers = {"X-Event": "created", "Authorization": "Bearer not-for-the-run"}
        run = await triggers.accept_event(flow.id, "hook", sig=sig, headers=headers, body={"n": 1})
        assert run.status == "Waiting" and len(list_runs(db, admin, team, "hooked")) == 1
        with db.session() as session:
            outputs = FlowRuns(session).get(run.id).trigger["outputs"]  # type: ignore[union-attr]
        assert outputs["body"] == {"n": 1} and outputs["headers"] == {"X-Event": "created"}

        # Changed inputs: the old subscription's own unsubscribe, then a new subscription.
        update_flow(db, admin, team, "hooked", definition=_flow(http_webhook(url, topic="invoices")))
        await triggers.tick()
        assert api.plain_calls()[1:] == [("unsubscribe", "orders"), ("subscribe", "invoices")]
        set_flow_enabled(db, admin, team, "hooked", False)
        await triggers.tick()
        with pytest.raises(Conflict):  # disabled: unsubscribed, events refused
            await triggers.accept_event(flow.id, "hook", sig=sig, headers={}, body={"n": 2})
        set_flow_enabled(db, admin, team, "hooked", True)
        await triggers.tick()
        delete_flow(db, admin, team, "hooked")
        await triggers.tick()

    _drive(db, ring, steps)
    assert api.plain_calls()[3:] == [
        ("unsubscribe", "invoices"),  # disabled
        ("subscribe", "invoices"),  # enabled again
        ("unsubscribe", "invoices"),  # deleted
    ]
    assert _state(db, flow.id) is None


def _stored(db: Database, flow_id: str) -> str:
    """The row's ``state`` column as the database holds it (no ORM in between)."""
    with db.session() as session:
        query = text("SELECT state FROM flow_triggers WHERE flow_id = :id")
        return str(session.execute(query, {"id": flow_id}).scalar_one())


_HEADER_KEY = "hook-key-0f9e8d"


@pytest.mark.parametrize(
    ("authentication", "expected"),
    [
        pytest.param(
            {"type": "Basic", "username": "hook", "password": "unsub-pa55word"},
            "Basic " + base64.b64encode(b"hook:unsub-pa55word").decode(),
            id="basic",
        ),
        pytest.param({"type": "Raw", "value": "Token raw-v4lue-7c1d"}, "Token raw-v4lue-7c1d", id="raw"),
    ],
)
def test_stored_unsubscribe_is_encrypted_and_still_sent(
    db, admin, team, events, ring, caplog, authentication, expected
) -> None:
    api, url = events
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])
    trigger = http_webhook(url, authentication=authentication, headers={"X-Hook-Key": _HEADER_KEY})
    flow = create_flow(db, admin, team, _flow(trigger), name="sealed")
    secret = authentication.get("password") or authentication["value"]
    caplog.set_level(logging.DEBUG)

    async def steps(triggers: ConnectorTriggers) -> None:
        await triggers.tick()
        stored = _stored(db, flow.id)
        assert "subscribed" in stored
        assert secret not in stored and _HEADER_KEY not in stored and "s3cret" not in stored
        call = ring.decrypt_json((_state(db, flow.id) or {})["unsubscribe"])
        assert call["authentication"] == authentication and call["headers"] == {"X-Hook-Key": _HEADER_KEY}
        delete_flow(db, admin, team, "sealed")
        await triggers.tick()

    _drive(db, ring, steps)
    assert api.plain_calls() == [("subscribe", "orders"), ("unsubscribe", "orders")]
    assert (api.plain[1]["authorization"], api.plain[1]["key"]) == (expected, _HEADER_KEY)
    assert _state(db, flow.id) is None
    # The transport logged both calls (headers at DEBUG), with every credential masked.
    assert "/plain/unsubscribe" in caplog.text
    assert not [s for s in (secret, _HEADER_KEY, "s3cret") if s in caplog.text]


def test_key_rotation_reencrypts_stored_unsubscribe_calls(db, admin, team, events, ring) -> None:
    api, url = events
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])
    raw = {"type": "Raw", "value": "Token rotated-9a8b"}
    flows = [
        create_flow(
            db, admin, team, _flow(http_webhook(url, topic=f"t{n}", authentication=raw)), name=f"f{n}"
        )
        for n in range(3)
    ]
    _drive(db, ring, lambda triggers: triggers.tick())
    with db.session() as session:
        # A row from before the unsubscribe call was encrypted: rotation encrypts it too.
        legacy = FlowTriggers(session).get(flows[0].id)
        legacy.state = {**legacy.state, "unsubscribe": ring.decrypt_json(legacy.state["unsubscribe"])}
    assert "rotated-9a8b" in _stored(db, flows[0].id)

    result = rotate_keys(db, admin, ring, batch_size=2)
    assert (result.keys, result.reencrypted) == (2, 3)  # the callback signing key, two calls
    for flow in flows:
        token = (_state(db, flow.id) or {})["unsubscribe"]
        assert ring.is_current(token) and ring.decrypt_json(token)["authentication"] == raw
        assert "rotated-9a8b" not in _stored(db, flow.id)

    for flow in flows:
        delete_flow(db, admin, team, flow.name)
    _drive(db, ring, lambda triggers: triggers.tick())
    unsubscribes = [c for c in api.plain if c["action"] == "unsubscribe"]
    assert sorted(c["body"]["topic"] for c in unsubscribes) == ["t0", "t1", "t2"]
    assert {c["authorization"] for c in unsubscribes} == {"Token rotated-9a8b"}


def test_http_webhook_without_unsubscribe_is_forgotten(db, admin, team, events, ring) -> None:
    api, url = events
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])
    flow = create_flow(db, admin, team, _flow(http_webhook(url, unsubscribe=False)), name="once")

    async def steps(triggers: ConnectorTriggers) -> None:
        await triggers.tick()
        assert _state(db, flow.id) == {"subscribed": True, "unsubscribe": None}
        delete_flow(db, admin, team, "once")
        await triggers.tick()

    _drive(db, ring, steps)
    assert api.plain_calls() == [("subscribe", "orders")]
    assert _state(db, flow.id) is None


def test_failed_unsubscribe_is_retried_then_given_up(db, admin, team, events, ring) -> None:
    api, url = events
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])
    flow = create_flow(db, admin, team, _flow(http_webhook(url)), name="stubborn")
    api.unsubscribe_status = 400  # not retried by the transport; the trigger tries again next pass

    async def steps(triggers: ConnectorTriggers) -> None:
        await triggers.tick()
        delete_flow(db, admin, team, "stubborn")
        for _attempt in range(7):
            await triggers.tick()

    _drive(db, ring, steps)
    assert [action for action, _topic in api.plain_calls()] == ["subscribe"] + ["unsubscribe"] * 6
    assert _state(db, flow.id) is None


def test_http_webhook_obeys_the_environment_network_policy(db, admin, team, events, ring) -> None:
    api, url = events
    flow = create_flow(db, admin, team, _flow(http_webhook(url)), name="guarded")
    now = utcnow()

    async def steps(triggers: ConnectorTriggers) -> None:
        await triggers.tick(now)
        state = _state(db, flow.id) or {}
        assert "refusing to connect to 127.0.0.1: loopback" in state["error"]
        await triggers.tick(now + timedelta(seconds=5))  # waits before trying again
        assert _state(db, flow.id) == state
        set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])
        await triggers.tick(now + timedelta(minutes=2))

    _drive(db, ring, steps)
    assert api.plain_calls() == [("subscribe", "orders")]  # nothing reached the service while refused
    assert (_state(db, flow.id) or {}).get("subscribed") is True


def test_trigger_inputs_read_environment_variables(db, admin, team, events, ring) -> None:
    """Issue 13: a Standard definition's trigger reads its endpoint and key with appsetting()."""
    api, url = events
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])
    set_environment_variable(db, admin, team, "Hooks.BaseUrl", url)
    set_environment_variable(db, admin, team, "Hooks.Password", "env-pa55", secure=True, keyring=ring)
    trigger = http_webhook("@{appsetting('Hooks.BaseUrl')}", unsubscribe=False)
    trigger["inputs"]["subscribe"]["authentication"]["password"] = "@appsetting('Hooks.Password')"
    create_flow(db, admin, team, _flow(trigger), name="from-env")

    async def steps(triggers: ConnectorTriggers) -> None:
        await triggers.tick()

    _drive(db, ring, steps)
    assert api.plain_calls() == [("subscribe", "orders")]
    assert api.plain[0]["authorization"] == "Basic " + base64.b64encode(b"hook:env-pa55").decode()
