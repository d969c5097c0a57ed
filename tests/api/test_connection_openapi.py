"""A connection's OpenAPI 3.1 document: valid, and a client generated from it calls the API through Tether.

The document is fetched from a real ``tether serve``, checked with openapi-spec-validator, and
given to openapi-python-client (run as its own process into ``tmp_path``); the generated package
is imported and calls Sentiment through the connection with the user's bearer token, against the
example's real sentiment service.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.api._operations_kit import ENV, SENTIMENT_KEY, Served, serve

GENERATION_TIMEOUT_S = 300
PACKAGE = "tether_sentiment_client"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("openapi-home"))


def _document(served: Served, connection: str) -> dict[str, Any]:
    answer = served.client.get(f"/api/v1/connections/{connection}/openapi.json", headers=served.admin)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def test_the_document_is_valid_openapi_3_1_routed_to_invoke(served: Served) -> None:
    document = _document(served, served.sentiment)
    validate(document)  # raises with the offending pointer when invalid
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": str(served.client.base_url).rstrip("/"), "description": "Tether"}]
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert document["security"] == [{"bearerAuth": []}]
    [(path, item)] = document["paths"].items()
    assert path == f"/api/v1/environments/default/connections/{served.sentiment}/invoke/Sentiment"
    post = item["post"]
    assert post["operationId"] == "Sentiment" and post["requestBody"]["required"] is True
    body = post["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["body"]
    assert body["properties"]["documents"]["items"]["properties"]["score"]["type"] == "number"
    assert SENTIMENT_KEY not in json.dumps(document)  # the connection's secret never leaves it
    by_env = served.client.get(f"{ENV}/connections/{served.sentiment}/openapi.json", headers=served.admin)
    assert by_env.json() == document


def test_a_big_corpus_connectors_document_is_valid(served: Served) -> None:
    document = _document(served, served.kanbanize)
    validate(document)
    ids = {item["post"]["operationId"] for item in document["paths"].values()}
    assert len(ids) == len(document["paths"]) == 39 and "GetAllCards_V2" in ids and "DeleteWebhook" not in ids


def test_a_generated_client_calls_sentiment(served: Served, tmp_path: Path) -> None:
    source = tmp_path / "sentiment.json"
    source.write_text(json.dumps(_document(served, served.sentiment)))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"post_hooks": [], "package_name_override": PACKAGE}))
    generated = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(source),
         "--output-path", str(tmp_path / PACKAGE), "--meta", "none", "--config", str(config),
         "--fail-on-warning"],
        capture_output=True, text=True, timeout=GENERATION_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stdout + generated.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        client_module = importlib.import_module(PACKAGE)
        operation = importlib.import_module(f"{PACKAGE}.api.default.sentiment")
        models = importlib.import_module(f"{PACKAGE}.models")
        token = served.admin["Authorization"].removeprefix("Bearer ")
        client = client_module.AuthenticatedClient(base_url=str(served.client.base_url), token=token)
        documents = [
            {"id": "1", "text": "I love this, it is wonderful!"},
            {"id": "2", "text": "Awful. I hate it."},
        ]
        body = models.SentimentBody.from_dict({"body": {"documents": documents}})
        with client:
            answer = operation.sync(client=client, body=body)
            assert answer.status == 200, answer
            scores = {d.id: d.score for d in answer.body.documents}
            assert scores["1"] > 0.5 > scores["2"]
            refused = client_module.AuthenticatedClient(
                base_url=str(served.client.base_url), token="tth_wrong"
            )
            with refused:
                problem = operation.sync(client=refused, body=body)
            assert isinstance(problem, models.Problem) and problem.status == 401
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_only_those_who_may_use_the_connection_get_its_document(served: Served) -> None:
    other = served.as_new_user("hedy")
    answer = served.client.get(f"/api/v1/connections/{served.sentiment}/openapi.json", headers=other)
    assert answer.status_code == 404, answer.text
