"""Flow and run use cases on both databases: permissions, durable runs, resume, cancel, resubmit, purge."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.flows.engine._support import Backend
from tests.services._connections_kit import api_key_package
from tether.errors import AuthError, Conflict, InputError, NotFound, PermissionDenied, ValidationFailed
from tether.flows.engine import REDACTED, EngineServices, SimulatedCrash, VirtualClock
from tether.hosting import advance_run
from tether.hosting._journal import DbJournal
from tether.secrets import KeyRing
from tether.services import (
    callback_url,
    cancel_run,
    create_connection,
    create_connector,
    create_environment,
    create_flow,
    delete_flow,
    get_flow,
    get_run,
    invoke_trigger,
    list_flows,
    list_runs,
    purge_runs,
    resubmit_run,
    set_environment_settings,
    set_flow_enabled,
    share_resource,
    start_run,
    update_flow,
)
from tether.store import FlowRuns, utcnow

KEY = b"k" * 32


@pytest.fixture(scope="module")
def web() -> Any:
    server = Backend()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _loopback_allowed(db, admin, team) -> None:
    """The flows here call local services: the environment must allow loopback (the SSRF guard)."""
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])


def _flow(uri: str = "http://127.0.0.1:9/") -> dict[str, Any]:
    return {
        "triggers": {
            "manual": {
                "type": "Request",
                "kind": "Http",
                "inputs": {"schema": {"type": "object"}},
                "operationOptions": "EnableSchemaValidation",
            }
        },
        "actions": {
            "Init": {
                "type": "InitializeVariable",
                "inputs": {"variables": [{"name": "n", "type": "integer", "value": 0}]},
            },
            "Call": {
                "type": "Http",
                "runAfter": {"Init": []},
                "inputs": {
                    "method": "POST",
                    "uri": uri,
                    "body": "@triggerBody()",
                    "headers": {"Authorization": "Bearer top-secret"},
                },
            },
            "Inc": {"type": "IncrementVariable", "runAfter": {"Call": []}, "inputs": {"name": "n"}},
            "Second": {
                "type": "Http",
                "runAfter": {"Inc": []},
                "inputs": {"method": "POST", "uri": uri + "2"},
            },
            "Answer": {
                "type": "Response",
                "runAfter": {"Second": []},
                "inputs": {"statusCode": 201, "body": {"n": "@variables('n')"}},
            },
        },
    }


def _advance(db: Any, run_id: str, **options: Any) -> Any:
    async def go() -> Any:
        services = EngineServices(clock=VirtualClock())
        try:
            return await advance_run(
                db, run_id, services, instance=options.pop("instance", "test"), **options
            )
        finally:
            await services.aclose()

    return asyncio.run(go())


def test_permissions_and_crud(db, team, make_user) -> None:
    maker = make_user("mia", environment=team, role="maker")
    user = make_user("uma", environment=team, role="user")
    outsider = make_user("olga")
    flow = create_flow(db, maker, team, _flow(), name="orders")
    assert (flow.name, flow.trigger_type, flow.enabled, flow.version) == ("orders", "Request", True, 1)
    with pytest.raises(PermissionDenied):
        create_flow(db, user, team, _flow(), name="mine")
    with pytest.raises(NotFound):  # someone else's unshared flow is not even visible
        set_flow_enabled(db, user, team, "orders", False)
    with pytest.raises(NotFound):
        list_flows(db, outsider, team)
    with pytest.raises(Conflict):
        create_flow(db, maker, team, _flow(), name="orders")
    assert list_flows(db, user, team) == []  # not shared yet
    with pytest.raises(NotFound):
        start_run(db, user, team, "orders", body={})
    share_resource(db, maker, team, "flow", "orders", "user:uma", "run")
    assert [f.name for f in list_flows(db, user, team)] == ["orders"]
    run = start_run(db, user, team, "orders", body={"a": 1})  # run-only users may run flows
    with pytest.raises(PermissionDenied):
        list_runs(db, user, team, "orders")  # but not read their history
    assert run.status == "Waiting" and run.started_by == "uma"
    updated = update_flow(db, maker, team, "orders", display_name="Orders")
    assert (updated.display_name, updated.version) == ("Orders", 2)
    assert set_flow_enabled(db, maker, team, "orders", False).enabled is False
    with pytest.raises(PermissionDenied):
        delete_flow(db, user, team, "orders")
    delete_flow(db, maker, team, "orders")
    with pytest.raises(NotFound):
        get_flow(db, maker, team, "orders")


@pytest.mark.parametrize(
    ("definition", "error"),
    [
        pytest.param({"triggers": {}, "actions": {"A": {"type": "Nope"}}}, ValidationFailed, id="invalid"),
        pytest.param(
            {
                "triggers": {"t": {"type": "Request"}},
                "actions": {"A": {"type": "Compose", "runAfter": {"Missing": []}}},
            },
            ValidationFailed,
            id="unknown-run-after",
        ),
        pytest.param({"actions": {}}, InputError, id="no-trigger"),
    ],
)
def test_create_refuses_bad_definitions(db, team, admin, definition: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        create_flow(db, admin, team, definition, name="bad")


def test_connections_must_exist_in_the_environment(db, team, admin) -> None:
    with pytest.raises(InputError, match="not one of your connections in environment"):
        create_flow(db, admin, team, _flow(), name="f", connections={"sql": str(uuid.uuid4())})


def test_a_flow_cannot_borrow_a_colleagues_connection(db, team, make_user, tmp_path) -> None:
    """A flow acts with its connections' credentials: only their owner may put them in a flow."""
    owner = make_user("owner", environment=team, role="maker")
    other = make_user("other", environment=team, role="maker")
    ring = KeyRing.from_keys(KeyRing.generate_key())
    create_connector(db, owner, team, api_key_package(), name="keyed")
    connection = create_connection(
        db, owner, team, "keyed", {"api_key": "owner-secret"}, keyring=ring, public_url="http://127.0.0.1:1"
    )
    with pytest.raises(InputError, match="a flow can use only connections you own"):
        create_flow(db, other, team, _flow(), name="borrowed", connections={"api": connection.id})
    created = create_flow(db, owner, team, _flow(), name="mine", connections={"api": connection.id})
    assert created.connections == {"api": connection.id}


def test_a_run_is_journaled_with_secrets_redacted(db, team, admin, web: Backend) -> None:
    create_flow(db, admin, team, _flow(f"{web.url}/echo/ok"), name="f")
    run = start_run(db, admin, team, "f", body={"order": 7}, headers={"Authorization": "Bearer caller"})
    outcome = _advance(db, run.id)
    assert outcome.status == "Succeeded"
    detail = get_run(db, admin, team, "f", run.id)
    assert detail.run.status == "Succeeded" and detail.run.ended_at is not None
    assert detail.run.response == {"statusCode": 201, "headers": {}, "body": {"n": 1}}
    assert [a.path for a in detail.actions] == ["Init", "Call", "Inc", "Second", "Answer"]
    call = detail.actions[1]
    assert call.inputs["headers"]["Authorization"] == REDACTED
    assert call.outputs["body"]["body"] == {"order": 7}
    assert detail.trigger["outputs"]["headers"]["Authorization"] == REDACTED
    assert _advance(db, run.id) is None  # a finished run is not advanced again


class CrashingJournal(DbJournal):
    """Simulates the process dying right after ``Second`` was sent, before its result was committed."""

    async def finished(self, record, state) -> None:  # type: ignore[no-untyped-def]
        if record.path == "Second":
            raise SimulatedCrash("killed")
        await super().finished(record, state)


def test_resume_from_the_database_after_a_crash(db, team, admin, web: Backend) -> None:
    key = uuid.uuid4().hex[:8]
    create_flow(db, admin, team, _flow(f"{web.url}/echo/{key}/"), name="f")
    run = start_run(db, admin, team, "f", body={})
    with pytest.raises(SimulatedCrash):
        _advance(db, run.id, instance="worker-1", journal_factory=CrashingJournal)
    detail = get_run(db, admin, team, "f", run.id)
    assert detail.run.status == "Running"
    assert {a.path: a.status for a in detail.actions}["Second"] == "Running"
    # Another process takes over once the dead one's claim has expired.
    assert _advance(db, run.id, instance="worker-2") is None  # the claim is still alive
    with db.session() as session:
        FlowRuns(session).set_state(run.id, claimed_until=utcnow() - timedelta(seconds=1))
    outcome = _advance(db, run.id, instance="worker-2")
    assert outcome.status == "Succeeded"
    sent = [r for r in web.requests if r.path.startswith(f"/echo/{key}/")]
    assert [r.path for r in sent] == [f"/echo/{key}/", f"/echo/{key}/2", f"/echo/{key}/2"]
    assert sent[1].headers["Idempotency-Key"] == sent[2].headers["Idempotency-Key"]
    detail = get_run(db, admin, team, "f", run.id)
    assert detail.run.response["body"] == {"n": 1}  # the increment before the crash was not repeated
    assert [a.status for a in detail.actions] == ["Succeeded"] * 5


def test_cancel_resubmit_and_list(db, team, admin, make_user, web: Backend) -> None:
    user = make_user("uma", environment=team, role="user")
    create_flow(db, admin, team, _flow(f"{web.url}/echo/c"), name="f")
    share_resource(db, admin, team, "flow", "f", "user:uma", "edit")  # a co-owner cancels and resubmits
    waiting = start_run(db, user, team, "f", body={"x": 1})
    cancelled = cancel_run(db, user, team, "f", waiting.id)
    assert cancelled.status == "Cancelled"
    with pytest.raises(Conflict):
        cancel_run(db, user, team, "f", waiting.id)
    again = resubmit_run(db, user, team, "f", waiting.id)
    assert again.resubmitted_from == waiting.id
    assert get_run(db, user, team, "f", again.id).trigger["outputs"]["body"] == {"x": 1}

    class CancelAfterInit(DbJournal):
        async def finished(self, record, state) -> None:  # type: ignore[no-untyped-def]
            await super().finished(record, state)
            if record.path == "Init":
                await asyncio.to_thread(cancel_run, db, user, team, "f", again.id)
                self._checked_at = 0.0  # check the database at once (it throttles to 1/s)

    outcome = _advance(db, again.id, journal_factory=CancelAfterInit)
    assert outcome.status == "Cancelled"
    assert [a.path for a in get_run(db, user, team, "f", again.id).actions] == ["Init"]
    assert [r.status for r in list_runs(db, user, team, "f")] == ["Cancelled", "Cancelled"]
    assert [r.id for r in list_runs(db, user, team, "f", status="Cancelled", limit=1)] == [again.id]


def test_purge_keeps_recent_runs(db, team, admin) -> None:
    create_flow(db, admin, team, _flow(), name="f")
    old, recent = (start_run(db, admin, team, "f", body={}).id for _ in range(2))
    with db.session() as session:
        FlowRuns(session).set_state(old, status="Succeeded", ended_at=utcnow() - timedelta(days=31))
        FlowRuns(session).set_state(recent, status="Succeeded", ended_at=utcnow() - timedelta(days=29))
    assert purge_runs(db) == 1
    assert [r.id for r in list_runs(db, admin, team, "f")] == [recent]
    assert purge_runs(db, older_than=timedelta(days=1)) == 1


def test_request_trigger_signature(db, team, admin) -> None:
    flow = create_flow(db, admin, team, _flow(), name="f")
    url = callback_url(db, admin, team, "f", key=KEY, public_url="http://tether.test")
    sig = url.split("sig=")[1]
    assert url.startswith(f"http://tether.test/api/v1/flows/{flow.id}/triggers/manual/invoke?sig=")
    run, answers = invoke_trigger(
        db, flow.id, "manual", sig=sig, key=KEY, method="POST", headers={}, queries={}, body={"a": 1}
    )
    assert answers is True and run.status == "Waiting"
    for bad in (None, "", sig[:-1] + ("A" if sig[-1] != "A" else "B")):
        with pytest.raises(AuthError):
            invoke_trigger(
                db, flow.id, "manual", sig=bad, key=KEY, method="POST", headers={}, queries={}, body={}
            )
    with pytest.raises(InputError, match="does not match the trigger's schema"):
        invoke_trigger(
            db, flow.id, "manual", sig=sig, key=KEY, method="POST", headers={}, queries={}, body=[1]
        )
    set_flow_enabled(db, admin, team, "f", False)
    with pytest.raises(Conflict):
        invoke_trigger(
            db, flow.id, "manual", sig=sig, key=KEY, method="POST", headers={}, queries={}, body={}
        )


def test_the_http_action_obeys_the_environments_network_policy(db, admin, web: Backend) -> None:
    """The SSRF guard: an Http action may reach loopback only where the environment allows it."""
    closed = create_environment(db, admin, "closed", display_name="Closed").name
    create_flow(db, admin, closed, _flow(f"{web.url}/echo/guarded"), name="f")
    refused = start_run(db, admin, closed, "f", body={})
    assert _advance(db, refused.id).status == "Failed"
    call = {a.path: a for a in get_run(db, admin, closed, "f", refused.id).actions}["Call"]
    assert call.status == "Failed" and call.code == "DestinationRefused"
    assert "loopback" in call.error["message"] and "network_allow" in call.error["message"]
    set_environment_settings(db, admin, closed, network_allow=["127.0.0.1"])
    allowed = start_run(db, admin, closed, "f", body={})
    assert _advance(db, allowed.id).status == "Succeeded"  # the change applies to the next run
