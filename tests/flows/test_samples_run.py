"""Acceptance: real Logic Apps / Power Automate definitions from ../shared/samples/flows RUN.

The samples whose actions are all built in run end to end on the engine. Their Http actions are
pointed at a local test server (the URI in the sample is replaced by the server's ``/echo``), and
ApiConnection/OpenApiConnection actions go through a fake ConnectorCaller that answers a canned
body and records every call — there is no real connector behind them in these tests. Samples left
out use actions Tether does not have (JavaScriptCode, Workflow, Xslt, ServiceProvider) or
webhook/polling triggers that belong to another issue.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests._paths import SHARED
from tests.flows.engine._support import Backend, RecordingConnector, run
from tether.flows import load_flow, validate_flow
from tether.flows.engine import EngineServices, VirtualClock

SAMPLES = SHARED / "samples" / "flows"
_URIS = ("@appsetting('httpuri')", "http://localhost:54335", "https://pokeapi.co", "http://uri.com")
CONNECTIONS = {
    "$connections": {
        "powerbi-andrewga": {"connectionId": "conn-pbi"},
        "office365users": {"connectionId": "conn-users"},
        "office365": {"connectionId": "conn-mail"},
        "shared_commondataserviceforapps": {"connectionId": "conn-dv"},
    }
}


class GoalsConnector(RecordingConnector):
    """Answers ux-ComplexConditionals' Power BI calls like the service would: a check-in reads back as
    it was written (the sample verifies exactly that). Every other call gets the canned answer."""

    async def call(
        self,
        connection_name: str,
        method: str,
        path: str,
        queries: Any,
        headers: Any,
        body: Any,
        idempotency_key: str,
    ) -> Any:
        answer = await super().call(connection_name, method, path, queries, headers, body, idempotency_key)
        if method == "POST" and path.endswith("/goalValues"):
            self.checkin = body
        if method == "GET" and "goalValues(" in path:
            return (
                200,
                {},
                {
                    "value": self.checkin["value"],
                    "status": self.checkin["status"],
                    "notes": [{"body": self.checkin["note"]}],
                },
            )
        return answer


@pytest.fixture(scope="module")
def backend() -> Any:
    server = Backend()
    yield server
    server.close()


def _load(name: str, backend: Backend) -> Any:
    text = (SAMPLES / f"{name}.json").read_text()
    for uri in _URIS:
        text = text.replace(uri, f"{backend.url}/echo")
    return json.loads(text)


@pytest.mark.parametrize(
    ("name", "body", "http_calls", "connector_calls", "check"),
    [
        pytest.param(
            "lat-try-catch",
            None,
            0,
            0,
            {"Catch": "Skipped", "Try/Business_Logic": "Succeeded"},
            id="lat-try-catch",
        ),
        pytest.param(
            "logicapps-testframework-http-action",
            {"hello": "world"},
            1,
            0,
            {"HTTP": "Succeeded"},
            id="testframework-http-action",
        ),
        pytest.param(
            "ux-ConsumptionWorkflowParameters",
            None,
            1,
            0,
            {"Condition/APP_SERVICE": "Succeeded"},
            id="ux-ConsumptionWorkflowParameters",
        ),
        pytest.param("ux-MonitoringViewConditional", None, 1, 0, {}, id="ux-MonitoringViewConditional"),
        pytest.param("ux-AllScopeNodes", None, 0, 0, {}, id="ux-AllScopeNodes"),
        pytest.param("ux-UnicodeKeys", None, 0, 0, {}, id="ux-UnicodeKeys"),
        pytest.param("ux-ComplexConditionals", None, 0, 3, {}, id="ux-ComplexConditionals"),
        pytest.param("pnp-IsItPatchTuesday", None, 0, 0, {}, id="pnp-IsItPatchTuesday"),
        pytest.param(
            "pnp-AggregateUtilityFlow",
            {"text": json.dumps([{"n": 2}, {"n": 5}]), "text_1": "n", "text_2": "Sum"},
            0,
            0,
            {},
            id="pnp-AggregateUtilityFlow",
        ),
        pytest.param("logicapps-daily-reminders", None, 0, 2, {}, id="logicapps-daily-reminders"),
    ],
)
def test_sample_runs(
    backend: Backend, name: str, body: Any, http_calls: int, connector_calls: int, check: dict[str, str]
) -> None:
    document = _load(name, backend)
    assert [i for i in validate_flow(load_flow(document)) if i.code != "flow/unsupported-trigger"] == []
    connector = GoalsConnector()
    before = len(backend.requests)
    result = asyncio.run(
        run(
            document,
            body,
            parameters=CONNECTIONS,
            run_id=f"sample-{name}",
            services=EngineServices(clock=VirtualClock(), connectors=connector),
        )
    )
    failed = {p: r.error for p, r in result.journal.state.records.items() if r.status == "Failed"}
    assert result.status == "Succeeded", failed
    assert len(backend.requests) - before == http_calls
    assert len(connector.calls) == connector_calls
    for path, status in check.items():
        assert result.action(path).status == status


def test_aggregate_utility_flow_answers_the_sum(backend: Backend) -> None:
    document = _load("pnp-AggregateUtilityFlow", backend)
    body = {"text": json.dumps([{"n": 2}, {"n": 5}]), "text_1": "n", "text_2": "Sum"}
    result = asyncio.run(run(document, body))
    assert result.outcome.response == {"statusCode": 200, "headers": {}, "body": {"result": "7"}}


def test_try_catch_catches_a_failure(backend: Backend) -> None:
    document = _load("lat-try-catch", backend)
    document["actions"]["Try"]["actions"]["Business_Logic"]["inputs"] = "@div(1, 0)"
    result = asyncio.run(run(document))
    assert result.status == "Failed"  # the Catch scope ends with Terminate Failed, carrying the errors
    assert result.outcome.error["code"] == "500"
    assert "Business_Logic" in result.outcome.error["message"]
    assert result.action("Catch/Terminate").status == "Succeeded"


def test_complex_conditionals_calls_the_connector_with_mapped_connections(backend: Backend) -> None:
    connector = GoalsConnector()
    asyncio.run(
        run(
            _load("ux-ComplexConditionals", backend),
            parameters=CONNECTIONS,
            services=EngineServices(clock=VirtualClock(), connectors=connector),
        )
    )
    assert {c["connection"] for c in connector.calls} == {"conn-pbi"}
    assert connector.calls[0]["method"] == "POST" and connector.calls[0]["path"].endswith("/goals")
