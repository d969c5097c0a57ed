"""Acceptance 4 in the browser: a flow with a Request trigger, a condition and an Http action runs;
its run page shows each action's inputs and outputs; a failing run shows the failed action's error;
resubmit starts a new run. Plus axe on the run page, and the flow editor's findings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.flows.engine._support import Backend
from tests.portal.conftest import Portal
from tether import services

SECRET_HEADER = "Bearer flow-secret-5c1e9a7b"
RUN_DEADLINE_MS = 60_000  # a busy CI machine: the run page follows the run until it ends


@pytest.fixture(scope="module")
def web() -> Iterator[Backend]:
    server = Backend()
    yield server
    server.close()


@pytest.fixture(scope="module")
def runs_env(portal: Portal) -> str:
    """An environment of its own whose flows may call the loopback backend (the SSRF guard)."""
    admin = portal.admin
    services.create_environment(portal.db, admin, "runs", display_name="Runs")
    services.set_environment_settings(portal.db, admin, "runs", network_allow=["127.0.0.1"])
    return "runs"


def definition(web: Backend) -> dict[str, Any]:
    return {
        "triggers": {
            "manual": {
                "type": "Request",
                "kind": "Http",
                "inputs": {"schema": {"type": "object", "properties": {"n": {"type": "integer"}}}},
            }
        },
        "actions": {
            "Check": {
                "type": "If",
                "expression": {"and": [{"greater": ["@triggerBody()?['n']", 0]}]},
                "actions": {
                    "Call": {
                        "type": "Http",
                        "inputs": {
                            "method": "POST",
                            "uri": f"{web.url}/echo/portal",
                            "headers": {"Authorization": SECRET_HEADER},
                            "body": {"n": "@triggerBody()?['n']", "note": "hello from the portal"},
                        },
                    }
                },
                "else": {
                    "actions": {
                        "Break": {
                            "type": "Http",
                            "inputs": {
                                "method": "GET",
                                "uri": f"{web.url}/status/500",
                                "retryPolicy": {"type": "fixed", "count": 1, "interval": "PT1S"},
                            },
                        }
                    }
                },
            }
        },
    }


def _wait_for_end(page: Any) -> str:
    status = page.locator("#run-status")
    status.filter(has_text=re.compile("^(Succeeded|Failed|Cancelled)$")).wait_for(timeout=RUN_DEADLINE_MS)
    return status.inner_text()


def test_flow_run_page_failure_and_resubmit(
    page, portal: Portal, web: Backend, runs_env: str, axe_violations
) -> None:
    maker = portal.user("flow-maker", environment=runs_env)
    page.context.add_cookies([portal.session_cookie(maker)])

    # Create it in the JSON editor; a broken definition first shows findings with their pointer.
    page.goto(f"/e/{runs_env}/flows/new")
    page.fill("#flow-name", "orders")
    page.fill("#flow-definition", '{"triggers": {}, "actions": {"A": {"type": "Teleport"}}}')
    page.click("button[value=save]")
    findings = page.locator("#findings")
    assert "/actions/A/type" in findings.inner_text() and "Teleport" in findings.inner_text()
    page.fill("#flow-definition", json.dumps(definition(web), indent=2))
    page.click("button[value=save]")
    page.wait_for_url(re.compile(f"/e/{runs_env}/flows/orders$"))
    picture = page.locator(".flow-picture")
    assert picture.locator('[data-path="Check/Call"]').count() == 1
    assert picture.locator('[data-path="Check/Break"]').count() == 1
    assert "/api/v1/flows/" in page.locator("#callback-url").inner_text()  # the Request trigger's URL

    # A run that succeeds: every action with its inputs and outputs.
    page.fill("#run-body", '{"n": 2}')
    page.click("text=Run now")
    page.wait_for_url(re.compile("/runs/"))
    assert _wait_for_end(page) == "Succeeded"
    call = page.locator("#action-Check--Call")
    assert "Succeeded" in call.inner_text()
    inputs = call.locator("details.io", has_text="Inputs").inner_text()
    outputs = call.locator("details.io", has_text="Outputs").inner_text()
    assert "hello from the portal" in inputs and "/echo/portal" in inputs
    assert '"statusCode": 200' in outputs and '"note": "hello from the portal"' in outputs
    assert SECRET_HEADER not in page.content()  # masked by the services before storage
    assert "Check" in page.locator("#action-Check").inner_text()
    assert axe_violations(page) == []

    # A run that fails: the failed action and its error on top, the retry counted.
    page.goto(f"/e/{runs_env}/flows/orders")
    page.fill("#run-body", '{"n": 0}')
    page.click("text=Run now")
    page.wait_for_url(re.compile("/runs/"))
    assert _wait_for_end(page) == "Failed"
    failed_url = page.url
    failure = page.locator("#failed-action").inner_text()
    assert "Break" in failure and "500" in failure
    brk = page.locator("#action-Check--Break")
    assert brk.locator("dd.retries").inner_text() == "1"
    assert axe_violations(page) == []

    # Resubmit: a new run, linked to the first, with the same trigger body (so it fails the same way).
    page.click("text=Resubmit")
    page.wait_for_url(lambda url: "/runs/" in url and url != failed_url)
    assert _wait_for_end(page) == "Failed"
    old_id = failed_url.rsplit("/", 1)[-1]
    assert old_id in page.locator("dl.facts").first.inner_text()  # "Resubmitted from"
    runs = services.list_runs(portal.db, maker, runs_env, "orders")
    assert len(runs) == 3 and runs[0].resubmitted_from == old_id

    # The history lists all three, newest first.
    page.goto(f"/e/{runs_env}/flows/orders")
    rows = page.locator("table.runs tbody tr")
    assert rows.count() == 3 and "resubmitted" in rows.first.inner_text()


def test_loop_iterations_are_browsable(page, portal: Portal, web: Backend, runs_env: str) -> None:
    maker = portal.user("loop-maker", environment=runs_env)
    loop = {
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"schema": {}}}},
        "actions": {
            "Each": {
                "type": "Foreach",
                "foreach": "@triggerBody()?['items']",
                "operationOptions": "Sequential",
                "actions": {
                    "Send": {
                        "type": "Http",
                        "inputs": {
                            "method": "POST",
                            "uri": f"{web.url}/echo/item",
                            "body": {"item": "@item()"},
                        },
                    }
                },
            }
        },
    }
    services.create_flow(portal.db, maker, runs_env, loop, name="loop")
    page.context.add_cookies([portal.session_cookie(maker)])
    page.goto(f"/e/{runs_env}/flows/loop")
    page.fill("#run-body", '{"items": ["apple", "pear", "plum"]}')
    page.click("text=Run now")
    assert _wait_for_end(page) == "Succeeded"
    each = page.locator("#action-Each")
    assert (
        "Iteration 1 of 3" in each.inner_text()
        and "apple" in page.locator("#action-Each-i0--Send").inner_text()
    )
    each.get_by_role("link", name="Iteration 3: Succeeded").click()
    page.wait_for_url(re.compile(r"it\.Each=2"))
    assert "plum" in page.locator("#action-Each-i2--Send").inner_text()
    assert page.locator("#action-Each-i0--Send").count() == 0


def test_disable_enable_and_cancel_a_run(page, portal: Portal, runs_env: str) -> None:
    maker = portal.user("cancel-maker", environment=runs_env)
    slow = {
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"schema": {}}}},
        "actions": {
            "Pause": {"type": "Wait", "inputs": {"interval": {"count": 4, "unit": "Second"}}},
            "After": {"type": "Compose", "runAfter": {"Pause": []}, "inputs": "never reached"},
        },
    }
    services.create_flow(portal.db, maker, runs_env, slow, name="slow")
    page.context.add_cookies([portal.session_cookie(maker)])
    page.goto(f"/e/{runs_env}/flows/slow")
    page.click("button:has-text('Disable')")
    assert "Disabled" in page.locator(".page-head").inner_text()
    page.click("button:has-text('Enable')")
    assert "Enabled" in page.locator(".page-head").inner_text()
    page.click("text=Run now")
    page.wait_for_url(re.compile("/runs/"))
    page.click("button:has-text('Cancel run')")
    assert _wait_for_end(page) == "Cancelled"
    assert page.locator("#action-After").count() == 0  # the action after the one in flight never ran
