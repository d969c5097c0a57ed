"""The operations listing through a real ``tether serve``: the tutorial's Sentiment, a big corpus connector.

The API runs in a uvicorn thread on a loopback port and is called over HTTP, as an app or an agent
calls it; the sentiment service is the example's real one. The input schema an operation is listed
with must be exactly what invoke accepts: the test fills it and calls Sentiment with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from tether import services
from tether.api import create_app, serve_in_thread
from tether.config import load_settings
from tether.definition import DEFINITION_FILE, load_package, package_from_files
from tether.examples.sentiment.service import create_service
from tether.store import Database, migrate

PASSWORD = "operations-admin-password"
SENTIMENT_KEY = "operations-sentiment-key"
CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "powerplatform"
KANBANIZE = CORPUS / "certified-connectors" / "Kanbanize"
ENV = "/api/v1/environments/default"


@dataclass
class Served:
    client: httpx.Client
    admin: dict[str, str]
    sentiment: str  # connection id
    kanbanize: str  # connection id

    def as_new_user(self, name: str) -> dict[str, str]:
        answer = self.client.post(
            "/api/v1/users", json={"username": name, "password": PASSWORD}, headers=self.admin
        )
        assert answer.status_code == 201, answer.text
        answer = self.client.put(
            f"{ENV}/members", json={"username": name, "role": "maker"}, headers=self.admin
        )
        assert answer.status_code == 200, answer.text
        token = self.client.post("/api/v1/tokens", json={"name": "t"}, auth=(name, PASSWORD)).json()["token"]
        return {"Authorization": f"Bearer {token}"}


def _connect(
    client: httpx.Client, headers: dict[str, str], files: dict[str, bytes], values: dict[str, str]
) -> str:
    package = package_from_files(files)
    upload = {"package": ("c.zip", package.to_zip(), "application/zip")}
    connector = client.post(f"{ENV}/connectors", files=upload, headers=headers)
    assert connector.status_code == 201, connector.text
    body = {"connector": connector.json()["id"], "parameters": values}
    connection = client.post(f"{ENV}/connections", json=body, headers=headers)
    assert connection.status_code == 201, connection.text
    return str(connection.json()["id"])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from tether.cli.demo import EXAMPLE_CONNECTOR

    settings = load_settings(home=tmp_path_factory.mktemp("operations-home"), admin_password=PASSWORD)
    database = Database(settings.database_url)
    migrate(database)
    services.bootstrap(database, settings)
    with (
        serve_in_thread(create_service(SENTIMENT_KEY)) as sentiment_url,  # type: ignore[arg-type]
        serve_in_thread(create_app(settings, database)) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        token = client.post("/api/v1/tokens", json={"name": "t"}, auth=("admin", PASSWORD)).json()["token"]
        admin = {"Authorization": f"Bearer {token}"}
        allowed = client.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}, headers=admin)
        assert allowed.status_code == 200, allowed.text
        files = dict(load_package(EXAMPLE_CONNECTOR).files)
        definition = json.loads(files[DEFINITION_FILE])
        definition["host"] = sentiment_url.removeprefix("http://")
        files[DEFINITION_FILE] = json.dumps(definition).encode()
        files.pop("settings.json", None)
        sentiment = _connect(client, admin, files, {"api_key": SENTIMENT_KEY})
        kanbanize_files = dict(load_package(KANBANIZE).files)
        kanbanize = _connect(client, admin, kanbanize_files, {"api_key": "k-123", "subdomain": "acme"})
        yield Served(client=client, admin=admin, sentiment=sentiment, kanbanize=kanbanize)
    database.close()


def _instance(schema: dict[str, Any]) -> Any:
    """A value for ``schema`` built from its defaults and required properties (the Sentiment shapes)."""
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: _instance(props[name]) for name in schema.get("required", [])}
    if kind == "array":
        return [_instance(schema["items"])]
    return "I love this, it is wonderful!" if kind == "string" else 1


def test_sentiment_is_listed_with_its_schemas_and_called_with_them(served: Served) -> None:
    answer = served.client.get(f"{ENV}/connections/{served.sentiment}/operations", headers=served.admin)
    assert answer.status_code == 200, answer.text
    [operation] = answer.json()["items"]
    assert operation["operation_id"] == "Sentiment"
    assert (operation["kind"], operation["summary"], operation["visibility"]) == (
        "action",
        "Detect sentiment",
        "important",
    )
    assert operation["description"].startswith("Returns a numeric score")
    schema = operation["input_schema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    # One argument, the body, under the name invoke takes; the API key header is the connection's.
    assert list(schema["properties"]) == ["body"] and schema["required"] == ["body"]
    body = schema["properties"]["body"]
    assert body["title"] == "Documents"
    item = body["properties"]["documents"]["items"]
    assert item["required"] == ["id", "text"]
    assert item["properties"]["language"] == {
        "type": "string", "x-ms-summary": "Language", "description": "ISO 639-1 code, e.g. en.",
        "default": "en", "title": "Language",
    }  # fmt: skip
    output = operation["output_schema"]
    assert output["properties"]["documents"]["items"]["properties"]["score"]["type"] == "number"

    arguments = _instance(schema)
    jsonschema.validate(arguments, schema)
    called = served.client.post(
        f"{ENV}/connections/{served.sentiment}/invoke/Sentiment", json=arguments, headers=served.admin
    )
    assert called.status_code == 200, called.text
    result = called.json()["body"]
    jsonschema.validate(result, output)
    assert result["documents"][0]["score"] > 0.5


def test_one_operation_by_id_with_and_without_the_environment(served: Served) -> None:
    listed = served.client.get(
        f"{ENV}/connections/{served.sentiment}/operations", headers=served.admin
    ).json()
    by_env = served.client.get(
        f"{ENV}/connections/{served.sentiment}/operations/Sentiment", headers=served.admin
    )
    by_id = served.client.get(
        f"/api/v1/connections/{served.sentiment}/operations/Sentiment", headers=served.admin
    )
    all_by_id = served.client.get(f"/api/v1/connections/{served.sentiment}/operations", headers=served.admin)
    assert by_env.status_code == by_id.status_code == all_by_id.status_code == 200
    assert by_env.json() == by_id.json() == listed["items"][0] == all_by_id.json()["items"][0]


def test_a_big_corpus_connector_hides_internal_operations_and_parameters(served: Served) -> None:
    answer = served.client.get(f"/api/v1/connections/{served.kanbanize}/operations", headers=served.admin)
    assert answer.status_code == 200, answer.text
    items = {op["operation_id"]: op for op in answer.json()["items"]}
    definition = json.loads((KANBANIZE / DEFINITION_FILE).read_text("utf-8-sig"))
    declared = [op for item in definition["paths"].values() for op in item.values() if "operationId" in op]
    internal = {op["operationId"] for op in declared if op.get("x-ms-visibility") == "internal"}
    assert len(internal) == 13 and not internal & set(items)
    assert set(items) == {op["operationId"] for op in declared} - internal
    for op in items.values():
        jsonschema.Draft202012Validator.check_schema(op["input_schema"])

    # Content-Type and Accept are internal in some operations (hidden, defaults filled), advanced in others.
    assert not {"Content-Type", "Accept"} & set(items["BlockUnblockCard"]["input_schema"]["properties"])
    content_type = items["MoveCard"]["input_schema"]["properties"]["Content-Type"]
    assert (content_type["default"], content_type["x-ms-visibility"]) == ("application/json", "advanced")
    assert "Content-Type" not in items["MoveCard"]["input_schema"].get("required", [])
    workflows = items["GetWorkflows"]["input_schema"]
    assert workflows["required"] == ["board_id"]
    assert workflows["properties"]["board_id"]["title"] == "Board ID"
    assert workflows["properties"]["board_id"]["x-ms-dynamic-values"]["operationId"] == "GetBoards"
    state = items["GetAllCards_V2"]["input_schema"]["properties"]["state"]
    assert (state["enum"], state["default"]) == (["active", "archived", "discarded"], "active")
    hook = items["CardHook"]
    assert (hook["kind"], hook["trigger"]) == ("trigger", "single")
    assert set(hook["output_schema"]["properties"]) == {"company", "event", "user_id", "board_id", "card_id"}
    block = items["BlockCard"]["input_schema"]
    assert block["required"] == ["board_id", "card_id", "body"]
    reason = block["properties"]["body"]["properties"]["block_reason"]["properties"]["reason_id"]
    assert reason["x-ms-dynamic-values"]["parameters"] == {"board_id": {"parameter": "board_id"}}


def test_unknown_and_internal_operations_are_not_found(served: Served) -> None:
    for name in ("DeleteWebhook", "NoSuchOperation"):
        answer = served.client.get(
            f"/api/v1/connections/{served.kanbanize}/operations/{name}", headers=served.admin
        )
        assert answer.status_code == 404, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert f"has no operation '{name}'" in answer.json()["detail"]


def test_only_those_who_may_use_the_connection_see_its_operations(served: Served) -> None:
    other = served.as_new_user("grace")
    url = f"/api/v1/connections/{served.sentiment}/operations"
    refused = served.client.get(url, headers=other)
    assert refused.status_code == 404, refused.text
    assert (
        served.client.get(f"{ENV}/connections/{served.sentiment}/operations", headers=other).status_code
        == 404
    )
    assert served.client.get(url).status_code == 401
    shared = served.client.put(
        f"{ENV}/connections/{served.sentiment}/access",
        json={"grantee": "user:grace", "permission": "use"},
        headers=served.admin,
    )
    assert shared.status_code == 200, shared.text
    allowed = served.client.get(url, headers=other)
    assert allowed.status_code == 200, allowed.text
    assert [op["operation_id"] for op in allowed.json()["items"]] == ["Sentiment"]
