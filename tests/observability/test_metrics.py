"""``/metrics`` on a real server: behind its bearer token, parsed by the Prometheus client's own
parser, counting requests per route template, invokes per connector and status, runs per flow
and status, and how late Recurrence triggers fire; off (404) when no token is configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.observability.conftest import ENV, METRICS_TOKEN, Server, wait_for
from tether.api import create_app
from tether.config import load_settings
from tether.store import Database

INVOKE_ROUTE = "/api/v1/environments/{env}/connections/{connection}/invoke/{operation_id}"


def _scrape(server: Server) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Samples by name, each as (labels, value), parsed with prometheus_client's parser."""
    answer = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def _value(samples: dict[str, Any], name: str, **labels: str) -> float:
    return sum(v for found, v in samples.get(name, []) if all(found.get(k) == x for k, x in labels.items()))


def test_metrics_need_the_token(server: Server) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        refused = httpx.get(f"{server.url}/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["content-type"] == "application/problem+json"
        assert "tether_" not in refused.text


def test_requests_and_invokes_are_counted_per_route_template_and_connector(server: Server) -> None:
    before = _scrape(server)
    for item in ("1", "2", "3"):
        answer = server.client.post(
            f"{ENV}/connections/{server.connection}/invoke/GetItem", json={"item": item}
        )
        assert answer.status_code == 200, answer.text
    unauthorized = server.client.post(f"{ENV}/connections/{server.connection}/invoke/Unauthorized")
    assert unauthorized.json()["status"] == 401  # the upstream's status, answered in a 200
    assert server.client.get("/api/v1/no/such/path/secret-looking-segment").status_code == 404
    after = _scrape(server)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("tether_http_requests_total", method="POST", route=INVOKE_ROUTE, status="200") == 4
    assert grew("tether_http_request_duration_seconds_count", method="POST", route=INVOKE_ROUTE) == 4
    assert (
        grew("tether_http_request_duration_seconds_bucket", method="POST", route=INVOKE_ROUTE, le="+Inf") == 4
    )
    assert grew("tether_invokes_total", connector=server.connector_id, status="200") == 3
    assert grew("tether_invokes_total", connector=server.connector_id, status="401") == 1
    assert grew("tether_http_requests_total", route="unmatched", status="404") == 1
    routes = {labels.get("route") for labels, _v in after["tether_http_requests_total"]}
    assert not any("secret-looking-segment" in (r or "") or server.connection in (r or "") for r in routes)
    assert "tether_queue_depth" in after  # 0 in the embedded mode: nothing queues


def test_runs_per_flow_and_status_and_trigger_lag(server: Server) -> None:
    compose = {"type": "Compose", "inputs": "@triggerBody()"}
    manual = {"triggers": {"manual": {"type": "Request", "kind": "Http"}}, "actions": {"C": compose}}
    created = server.client.post(f"{ENV}/flows", json={"name": "counted", "definition": manual})
    assert created.status_code == 201, created.text
    flow_id = created.json()["id"]
    run = server.client.post(f"{ENV}/flows/counted/runs", json={"body": {"n": 1}}).json()["id"]
    wait_for(
        lambda: _value(_scrape(server), "tether_flow_runs_total", flow=flow_id, status="Succeeded") >= 1,
        f"run {run} counted as Succeeded",
    )
    every_second = {
        "triggers": {"tick": {"type": "Recurrence", "recurrence": {"frequency": "Second", "interval": 1}}},
        "actions": {"C": {"type": "Compose", "inputs": 1}},
    }
    ticking = server.client.post(f"{ENV}/flows", json={"name": "ticking", "definition": every_second})
    assert ticking.status_code == 201, ticking.text
    try:
        wait_for(
            lambda: _value(_scrape(server), "tether_trigger_lag_seconds_count", trigger="recurrence") >= 1,
            "a Recurrence tick's lag to be observed",
            timeout=30,
        )
    finally:
        server.client.post(f"{ENV}/flows/ticking/disable").raise_for_status()


def test_metrics_are_off_without_a_token(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home", admin_password="metrics-off-pw")
    database = Database(settings.database_url)  # never opened: the answer comes from the router
    try:
        client = TestClient(create_app(settings, database))  # no lifespan: nothing else starts
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert answer.status_code == 404 and "tether_" not in answer.text
        assert answer.headers["x-request-id"]
    finally:
        database.close()
