"""The run page's model, from real runs made through the services (real HTTP backend, SQLite)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.flows.engine._support import Backend
from tether.flows.engine import REDACTED, EngineServices, VirtualClock
from tether.hosting import advance_run
from tether.portal._flow_picture import flow_picture, render_flow_picture
from tether.portal._run_view import definition_path, run_view
from tether.services import (
    Principal,
    create_environment,
    create_flow,
    get_run,
    set_environment_settings,
    start_run,
)
from tether.store import Database, Users


@pytest.fixture
def backend() -> str:
    """The view only rearranges what the services answer: one database is enough."""
    return "sqlite"


@pytest.fixture(scope="module")
def web() -> Any:
    server = Backend()
    yield server
    server.close()


@pytest.fixture
def admin(db: Database) -> Principal:
    with db.session() as s:
        user = Users(s).add("root", password_hash=None, display_name="Root", is_admin=True)
        return Principal(user_id=user.id, username=user.username, is_admin=True)


@pytest.fixture
def team(db: Database, admin: Principal) -> str:
    name = create_environment(db, admin, "team", display_name="Team").name
    set_environment_settings(db, admin, name, network_allow=["127.0.0.1"])  # the backend is local
    return name


def _definition(url: str) -> dict[str, Any]:
    return {
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"schema": {"type": "object"}}}},
        "actions": {
            "Each": {
                "type": "Foreach",
                "foreach": "@triggerBody()?['items']",
                "operationOptions": "Sequential",
                "actions": {
                    "Call": {
                        "type": "Http",
                        "inputs": {
                            "method": "POST",
                            "uri": f"{url}/echo/item",
                            "body": {"item": "@item()"},
                            "headers": {"Authorization": "Bearer top-secret"},
                        },
                    }
                },
            },
            "Check": {
                "type": "If",
                "runAfter": {"Each": ["Succeeded"]},
                "expression": {"equals": ["@triggerBody()?['fail']", True]},
                "actions": {
                    "Break": {"type": "Http", "inputs": {"method": "GET", "uri": f"{url}/status/500"}}
                },
                "else": {"actions": {"Fine": {"type": "Compose", "inputs": "ok"}}},
            },
        },
    }


def _advance(db: Database, run_id: str) -> None:
    async def go() -> None:
        services = EngineServices(clock=VirtualClock())
        try:
            await advance_run(db, run_id, services, instance="test")
        finally:
            await services.aclose()

    # In a thread of its own: the browser tests' Playwright (sync API) keeps an event loop running
    # in this one for the whole session.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, go()).result()


def test_a_successful_run_nests_loop_iterations_with_masked_inputs(db, admin, team, web: Backend) -> None:
    create_flow(db, admin, team, _definition(web.url), name="f")
    run = start_run(db, admin, team, "f", body={"items": ["a", "b", "c"]})
    _advance(db, run.id)
    view = run_view(get_run(db, admin, team, "f", run.id))
    assert view.detail.run.status == "Succeeded" and view.failed is None
    assert [a.name for a in view.actions] == ["Each", "Check"]
    each, check = view.actions
    assert [it.index for it in each.iterations] == [0, 1, 2]
    assert all(it.status == "Succeeded" for it in each.iterations)
    second = each.iteration(1)
    assert second is not None
    (call,) = second.actions
    assert call.path == "Each#1/Call" and call.anchor == "action-Each-i1--Call"
    assert call.inputs["body"] == {"item": "b"}
    assert call.inputs["headers"]["Authorization"] == REDACTED  # masked by the services, shown as is
    assert call.outputs["body"]["body"] == {"item": "b"}
    assert call.duration_ms is not None and call.duration_ms >= 0
    assert [c.path for c in check.children] == ["Check/Fine"]
    assert view.find("Each#2/Call") is not None and view.find("Each#9/Call") is None
    assert view.statuses == {
        "Each": "Succeeded",
        "Each/Call": "Succeeded",
        "Check": "Succeeded",
        "Check/Fine": "Succeeded",
    }
    html = render_flow_picture(flow_picture(_definition(web.url)), statuses=view.statuses)
    assert 'fp-status-succeeded" data-path="Each/Call"' in html
    assert view.link_for("Each/Call") == "#action-Each-i0--Call" and view.link_for("Nope") is None


def test_a_failed_run_points_at_the_inner_action_and_its_error(db, admin, team, web: Backend) -> None:
    create_flow(db, admin, team, _definition(web.url), name="f")
    run = start_run(db, admin, team, "f", body={"items": ["a"], "fail": True})
    _advance(db, run.id)
    view = run_view(get_run(db, admin, team, "f", run.id))
    assert view.detail.run.status == "Failed"
    assert view.failed is not None and view.failed.path == "Check/Break"  # not the If around it
    assert view.failed.status == "Failed" and view.failed.outputs["statusCode"] == 500
    assert view.failed.error is not None and view.failed.error["code"]
    assert view.statuses["Check"] == "Failed" and view.statuses["Check/Break"] == "Failed"


def test_definition_path_drops_iterations() -> None:
    assert definition_path("Outer#3/Inner#0/Send") == "Outer/Inner/Send"
    assert definition_path("Top") == "Top"
