"""Spans of an invoke (API → services → runtime → outbound call) and of a flow run (run → action →
the connector call), collected with the SDK's in-memory exporter from a real server: in order,
one trace, and not one secret, header value, query value or body in any attribute."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.observability.conftest import ENV, Server, attribute_text, child_of, wait_for
from tests.services._invoke_kit import KEY

QUERY_VALUE = "private-query-value-77"
BODY_VALUE = "private-body-value-88"
INVOKE_ROUTE = "/api/v1/environments/{env}/connections/{connection}/invoke/{operation_id}"


def _chain(spans: InMemorySpanExporter, root_name: str, match: dict[str, Any]) -> Any:
    def root() -> Any:
        for s in spans.get_finished_spans():
            if s.name.startswith(root_name) and all(
                (s.attributes or {}).get(k) == v for k, v in match.items()
            ):
                return s
        return None

    return wait_for(root, f"the {root_name!r} span with {match}")


def test_an_invoke_is_one_trace_from_request_to_outbound_call_without_secrets(
    server: Server, spans: InMemorySpanExporter
) -> None:
    spans.clear()
    answer = server.client.post(
        f"{ENV}/connections/{server.connection}/invoke/GetItem",
        json={"item": "42", "q": QUERY_VALUE},
        headers={"X-Request-Id": "trace-invoke-1"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["body"]["saw_key"] is True  # the key did travel, in the query
    assert answer.headers["x-request-id"] == "trace-invoke-1"
    request = _chain(spans, "POST ", {"tether.request_id": "trace-invoke-1"})
    finished = list(spans.get_finished_spans())
    call = child_of(request, finished, "services.invoke")
    runtime = child_of(call, finished, "runtime.invoke")
    outbound = child_of(runtime, finished, "GET 127.0.0.1")
    chain = [request, call, runtime, outbound]
    assert len({s.context.trace_id for s in chain if s.context}) == 1
    starts = [s.start_time or 0 for s in chain]
    ends = [s.end_time or 0 for s in chain]
    assert starts == sorted(starts) and ends == sorted(ends, reverse=True), "spans nest in time"
    assert request.name == f"POST {INVOKE_ROUTE}"
    assert request.attributes is not None and request.attributes["http.route"] == INVOKE_ROUTE
    assert request.attributes["http.response.status_code"] == 200
    assert call.attributes is not None and call.attributes["tether.connector_id"] == server.connector_id
    assert call.attributes["tether.operation_id"] == "GetItem"
    assert outbound.attributes is not None and outbound.attributes["http.response.status_code"] == 200
    assert outbound.attributes["server.address"] == "127.0.0.1"
    for s in chain:
        assert s.attributes is not None and s.attributes["tether.request_id"] == "trace-invoke-1"
    text = attribute_text(finished)
    for secret in (KEY, QUERY_VALUE, "Bearer ", server.client.headers["Authorization"].split()[1]):
        assert secret not in text


def test_a_flow_run_is_traced_from_run_to_action_to_the_outbound_call(
    server: Server, spans: InMemorySpanExporter
) -> None:
    action = {
        "type": "ApiConnection",
        "inputs": {
            "host": {"connection": {"name": "@parameters('$connections')['echo']['connectionId']"}},
            "method": "post",
            "path": "/echo/7",
            "queries": {"q": QUERY_VALUE},
            "body": {"note": BODY_VALUE},
        },
    }
    definition = {"triggers": {"manual": {"type": "Request", "kind": "Http"}}, "actions": {"Call": action}}
    flow = {"name": "traced", "definition": definition, "connections": {"echo": server.connection}}
    created = server.client.post(f"{ENV}/flows", json=flow)
    assert created.status_code == 201, created.text
    spans.clear()
    started = server.client.post(f"{ENV}/flows/traced/runs", json={"body": {"n": 1}})
    assert started.status_code in (200, 201, 202), started.text
    run_id = started.json()["id"]

    def ended() -> Any:
        detail = server.client.get(f"{ENV}/flows/traced/runs/{run_id}").json()
        return detail if detail["run"]["status"] in ("Succeeded", "Failed", "Cancelled") else None

    assert wait_for(ended, "the run to end")["run"]["status"] == "Succeeded"
    run = _chain(spans, "flow.run", {"tether.run_id": run_id})
    finished = list(spans.get_finished_spans())
    step = child_of(run, finished, "flow.action")
    call = child_of(step, finished, "services.invoke")
    runtime = child_of(call, finished, "runtime.invoke")
    outbound = child_of(runtime, finished, "POST 127.0.0.1")
    assert run.attributes is not None and run.attributes["tether.run.status"] == "Succeeded"
    assert step.attributes is not None and step.attributes["tether.action"] == "Call"
    assert step.attributes["tether.action.status"] == "Succeeded"
    for s in (step, call, runtime, outbound):
        assert s.attributes is not None and s.attributes["tether.run_id"] == run_id
    text = attribute_text(finished)
    for secret in (KEY, QUERY_VALUE, BODY_VALUE):
        assert secret not in text


def test_a_client_request_id_is_kept_when_sane_and_replaced_when_not(server: Server) -> None:
    kept = server.client.get("/api/v1/health", headers={"X-Request-Id": "lb-0f3a.77:1"})
    assert kept.headers["x-request-id"] == "lb-0f3a.77:1"
    replaced = server.client.get("/api/v1/health", headers={"X-Request-Id": "evil\tline break"})
    assert replaced.headers["x-request-id"] != "evil\tline break"
    assert len(replaced.headers["x-request-id"]) == 32
    fresh = server.client.get("/api/v1/health")
    assert fresh.headers["x-request-id"] != replaced.headers["x-request-id"]
