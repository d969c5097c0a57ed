"""Dynamic values and schemas of real corpus connectors, resolved through a real ``tether serve``.

Flotiq, Power Form 7 and ProcessStreet are uploaded as they are in the corpus (only their host
points at ``_dynamic_kit``'s local service). Their dynamic inputs are resolved over HTTP by the
API, which calls the referenced operations through the connection: with its key, under the
environment's network policy, and with answers kept briefly (the clock is the test's).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api._dynamic_kit import (
    FLOTIQ_KEY,
    HITS,
    PF7_KEY,
    PROCESS_STREET_KEY,
    TICKETING_KEY,
    corpus_package,
    dynamic_app,
)
from tether import services
from tether.api import create_app, serve_in_thread
from tether.config import load_settings
from tether.store import Database, migrate

PASSWORD = "dynamic-admin-password"
ENV = "/api/v1/environments/default"
TTL = 60.0


@dataclass
class Served:
    client: httpx.Client
    admin: dict[str, str]
    connections: dict[str, str]
    now: list[float]

    def values(self, name: str, operation: str, body: dict[str, Any], env: str = ENV) -> httpx.Response:
        url = f"{env}/connections/{self.connections[name]}/operations/{operation}/dynamic-values"
        return self.client.post(url, json=body, headers=self.admin)

    def operation(self, name: str, operation: str, **query: str) -> httpx.Response:
        url = f"/api/v1/connections/{self.connections[name]}/operations/{operation}"
        return self.client.get(url, params=query, headers=self.admin)


def _connect(client: httpx.Client, headers: dict[str, str], env: str, package: Any, key: str) -> str:
    upload = {"package": ("c.zip", package.to_zip(), "application/zip")}
    connector = client.post(f"{env}/connectors", files=upload, headers=headers)
    assert connector.status_code == 201, connector.text
    body = {"connector": connector.json()["id"], "parameters": {"api_key": key}}
    connection = client.post(f"{env}/connections", json=body, headers=headers)
    assert connection.status_code == 201, connection.text
    return str(connection.json()["id"])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    settings = load_settings(home=tmp_path_factory.mktemp("dynamic-home"), admin_password=PASSWORD)
    database = Database(settings.database_url)
    migrate(database)
    services.bootstrap(database, settings)
    now = [1000.0]
    app = create_app(settings, database)
    # The app's runtime, with a dynamic cache reading the test's clock; the app closes it when it stops.
    cache = services.DynamicCache(ttl=TTL, clock=lambda: now[0])
    app.state.connector_runner = services.ConnectorRunner(dynamic=cache)
    app.state.connector_runner_owned = True
    with (
        serve_in_thread(dynamic_app()) as upstream,  # type: ignore[arg-type]
        serve_in_thread(app) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        token = client.post("/api/v1/tokens", json={"name": "t"}, auth=("admin", PASSWORD)).json()["token"]
        admin = {"Authorization": f"Bearer {token}"}
        allowed = client.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}, headers=admin)
        assert allowed.status_code == 200, allowed.text
        host = upstream.removeprefix("http://")
        connections = {
            "flotiq": _connect(client, admin, ENV, corpus_package("Flotiq", host), FLOTIQ_KEY),
            "pf7": _connect(client, admin, ENV, corpus_package("Power Form 7", host), PF7_KEY),
            "ps": _connect(client, admin, ENV, corpus_package("ProcessStreet", host), PROCESS_STREET_KEY),
            "te": _connect(client, admin, ENV, corpus_package("Ticketing.events", host), TICKETING_KEY),
        }
        # The same connector in an environment whose network policy keeps loopback closed.
        closed = client.post("/api/v1/environments", json={"name": "closed"}, headers=admin)
        assert closed.status_code == 201, closed.text
        connections["closed"] = _connect(
            client, admin, "/api/v1/environments/closed", corpus_package("Flotiq", host), FLOTIQ_KEY
        )
        yield Served(client=client, admin=admin, connections=connections, now=now)
    database.close()


def test_values_from_a_collection_are_listed_and_kept_briefly(served: Served) -> None:
    path = "/api/v1/internal/contenttype"
    before = HITS[path]
    for _ in range(2):
        answer = served.values("flotiq", "CreateContentObject", {"parameter": "contentTypeId"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["items"] == [
            {"value": "blogpost", "title": "Blog post"},
            {"value": "product", "title": "Product"},
        ]
    assert HITS[path] == before + 1  # the second list came from the cache
    served.now[0] += TTL + 1
    assert served.values("flotiq", "CreateContentObject", {"parameter": "contentTypeId"}).status_code == 200
    assert HITS[path] == before + 2  # expired: asked again


def test_dynamic_properties_are_merged_into_the_input_schema(served: Served) -> None:
    declared = served.operation("flotiq", "CreateContentObject")
    assert declared.status_code == 200, declared.text
    body = declared.json()["input_schema"]["properties"]["body"]
    assert "properties" not in body and "x-ms-dynamic-properties" in body

    resolved = served.operation("flotiq", "CreateContentObject", contentTypeId="blogpost")
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()["input_schema"]["properties"]["body"]
    assert body["description"] == "Dynamic schema of objects in selected CTD"  # the definition's words kept
    assert body["required"] == ["title"]
    assert body["properties"]["title"] == {"type": "string", "x-ms-summary": "Title", "title": "Title"}
    assert "x-ms-dynamic-properties" not in body and "x-ms-dynamic-schema" not in body


def test_values_that_are_the_answer_itself_and_a_referenced_header(served: Served) -> None:
    sites = served.values("pf7", "GetCF7Forms", {"parameter": "WP_SITEURL"})
    assert sites.status_code == 200, sites.text
    assert [item["value"] for item in sites.json()["items"]] == ["example.org", "shop.example"]
    forms = served.values(
        "pf7", "SubmitForm", {"parameter": "form_id", "parameters": {"WP_SITEURL": "example.org"}}
    )
    assert forms.status_code == 200, forms.text
    assert forms.json()["items"] == [{"value": 11, "title": "Contact"}]

    waiting = served.values("pf7", "SubmitForm", {"parameter": "form_id"})
    assert waiting.status_code == 422, waiting.text
    assert "needs the value of 'WP_SITEURL' first" in waiting.json()["detail"]

    resolved = served.operation("pf7", "SubmitForm", WP_SITEURL="example.org", form_id="11")
    assert resolved.status_code == 200, resolved.text
    query = resolved.json()["input_schema"]["properties"]["query"]
    assert query["properties"]["your-name"]["title"] == "Your name"


def test_a_dynamic_list_with_a_body_reference_and_a_nested_dynamic_schema(served: Served) -> None:
    tasks = served.values(
        "ps",
        "CreateTaskStateChangedTrigger",
        {"parameter": "body/taskId", "parameters": {"body": {"workflowId": "w1"}}},
    )
    assert tasks.status_code == 200, tasks.text
    assert tasks.json()["items"] == [
        {"value": "t1", "title": "Sign contract"},
        {"value": "t2", "title": "Get laptop"},
    ]
    resolved = served.operation("ps", "FindWorkflowRuns", workflowId="w1")
    assert resolved.status_code == 200, resolved.text
    fields = resolved.json()["input_schema"]["properties"]["body"]["properties"]["formFields"]
    assert fields["properties"]["Department"]["enum"] == ["Sales", "IT"]


def test_one_dynamic_schema_for_the_body_and_the_answer(served: Served) -> None:
    events = served.values("te", "CreateListItem", {"parameter": "eventID"})
    assert events.status_code == 200, events.text
    assert events.json()["items"] == [
        {"value": 7, "title": "Summer fest"},
        {"value": 8, "title": "Winter gala"},
    ]
    path = "/app/flow/schema/7"
    before = HITS[path]
    resolved = served.operation("te", "CreateListItem", eventID="7")
    assert resolved.status_code == 200, resolved.text
    operation = resolved.json()
    body = operation["input_schema"]["properties"]["dynamicListSchema"]
    assert body["properties"]["email"]["title"] == "Email"
    assert body["description"] == "Details for the selected event."
    assert operation["output_schema"]["properties"]["email"]["title"] == "Email"
    assert HITS[path] == before + 1  # the answer's schema is the body's: asked once


def test_a_missing_value_path_and_a_failing_operation_are_clear_errors(served: Served) -> None:
    broken = served.values(
        "ps",
        "CreateTaskStateChangedTrigger",
        {"parameter": "body/taskId", "parameters": {"body": {"workflowId": "broken"}}},
    )
    assert broken.status_code == 502, broken.text
    problem = broken.json()
    assert problem["type"].endswith("/dynamic-values-failed")
    assert "the answer has no 'tasks' (its itemsPath); it has ['results']" in problem["detail"]

    failing = served.operation("flotiq", "CreateContentObject", contentTypeId="nope")
    assert failing.status_code == 502, failing.text
    assert "'GetContentTypeSchema'" in failing.json()["detail"] and "answered 404" in failing.json()["detail"]

    not_dynamic = served.values("flotiq", "CreateContentObject", {"parameter": "body"})
    assert not_dynamic.status_code == 400, not_dynamic.text
    assert "has no dynamic values" in not_dynamic.json()["detail"]
    unknown = served.values("flotiq", "CreateContentObject", {"parameter": "nope"})
    assert (
        unknown.status_code == 404 and "its inputs are ['body', 'contentTypeId']" in unknown.json()["detail"]
    )


def test_the_environments_network_policy_applies(served: Served) -> None:
    refused = served.values(
        "closed", "CreateContentObject", {"parameter": "contentTypeId"}, env="/api/v1/environments/closed"
    )
    assert refused.status_code == 403, refused.text
    assert "network policy" in refused.json()["detail"]


def test_only_those_who_may_use_the_connection_resolve_its_inputs(served: Served) -> None:
    created = served.client.post(
        "/api/v1/users", json={"username": "ida", "password": PASSWORD}, headers=served.admin
    )
    assert created.status_code == 201, created.text
    member = served.client.put(
        f"{ENV}/members", json={"username": "ida", "role": "maker"}, headers=served.admin
    )
    assert member.status_code == 200, member.text
    token = served.client.post("/api/v1/tokens", json={"name": "t"}, auth=("ida", PASSWORD)).json()["token"]
    other = {"Authorization": f"Bearer {token}"}
    connection = served.connections["flotiq"]
    path = "/api/v1/internal/contenttype"
    before = HITS[path]
    served.now[0] += TTL + 1  # nothing cached: a refusal must come before any call
    values = served.client.post(
        f"{ENV}/connections/{connection}/operations/CreateContentObject/dynamic-values",
        json={"parameter": "contentTypeId"},
        headers=other,
    )
    assert values.status_code == 404, values.text
    schema = served.client.get(
        f"/api/v1/connections/{connection}/operations/CreateContentObject",
        params={"contentTypeId": "blogpost"},
        headers=other,
    )
    assert schema.status_code == 404, schema.text
    assert HITS[path] == before
