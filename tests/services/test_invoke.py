"""invoke_operation and the flows' connector caller against real local HTTP services.

The echo service and the sentiment example run in uvicorn threads on loopback ports; the
environment's network policy has to allow loopback for the calls to reach them, as it would
for any private API.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.services._invoke_kit import (
    KEY,
    PASSWORD,
    REWRITE_SCRIPT,
    SET_HEADER,
    UNAUTHENTICATED,
    echo_app,
    echo_package,
    values_for,
)
from tether.api import serve_in_thread
from tether.definition import load_package, package_from_files
from tether.errors import NotFound, ValidationFailed
from tether.examples.sentiment.service import create_service
from tether.hosting import FlowConnectorCaller
from tether.runtime import DestinationRefused, RateLimit, RateLimited, Runtime
from tether.secrets import KeyRing
from tether.services import (
    ConnectionNeedsAttention,
    ConnectorRunner,
    Principal,
    create_connection,
    create_connector,
    get_connection,
    get_environment_settings,
    invoke_operation,
    set_environment_settings,
    update_connector,
)
from tether.services._network import check_network_allow, network_policy
from tether.store import Database

PUBLIC_URL = "http://127.0.0.1:8765"
SENTIMENT_KEY = "sentiment-test-key"


@pytest.fixture(scope="module")
def echo_host() -> Iterator[str]:
    with serve_in_thread(echo_app()) as url:  # type: ignore[arg-type]
        yield url.removeprefix("http://")


@pytest.fixture(scope="module")
def sentiment_host() -> Iterator[str]:
    with serve_in_thread(create_service(SENTIMENT_KEY)) as url:  # type: ignore[arg-type]
        yield url.removeprefix("http://")


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.from_keys(KeyRing.generate_key())


@pytest.fixture
def maker(make_user: Callable[..., Principal], team: str) -> Principal:
    return make_user("ada", environment=team, role="maker")


def allow_loopback(db: Database, admin: Principal, team: str) -> None:
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])


def connect(
    db: Database, who: Principal, team: str, package: Any, ring: KeyRing, values: dict[str, str]
) -> str:
    connector = create_connector(db, who, team, package)
    return create_connection(db, who, team, connector.id, values, keyring=ring, public_url=PUBLIC_URL).id


def invoke(
    db: Database,
    who: Principal,
    team: str,
    connection: str,
    operation: str,
    arguments: Any = None,
    *,
    ring: KeyRing,
) -> Any:
    async def go() -> Any:
        async with ConnectorRunner() as connectors:
            return await invoke_operation(
                db, who, team, connection, operation, arguments or {}, runtime=connectors, keyring=ring
            )

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("auth", "operation", "arguments", "check"),
    [
        pytest.param("header", "GetItem", {"item": "a b", "q": "x"}, {"saw_key": True, "item": "a b"},
                     id="key-header"),
        pytest.param("query", "GetItem", {"item": "7"}, {"saw_key": True, "query": {}}, id="key-query"),
        pytest.param("basic", "PostItem", {"item": "7", "body": {"n": 1}}, {"basic": "ada", "body": {"n": 1}},
                     id="basic"),
        pytest.param("none", "GetLatest", {}, {"path": "/api/echo/latest", "saw_key": False}, id="no-auth"),
    ],
)  # fmt: skip
def test_invoke_applies_the_connections_credentials(
    db: Database, admin: Principal, maker: Principal, team: str, ring: KeyRing, echo_host: str,
    auth: str, operation: str, arguments: dict[str, Any], check: dict[str, Any],
) -> None:  # fmt: skip
    allow_loopback(db, admin, team)
    connection = connect(db, maker, team, echo_package(echo_host, auth), ring, values_for(auth))
    answer = invoke(db, maker, team, connection, operation, arguments, ring=ring)
    assert answer.status == 200, answer.body
    for name, expected in check.items():
        assert answer.body[name] == expected, name
    assert answer.headers["x-echo"] == "1"
    assert "transfer-encoding" not in answer.headers


def test_sentiment_example_scores_texts(
    db: Database, admin: Principal, maker: Principal, team: str, ring: KeyRing, sentiment_host: str
) -> None:
    allow_loopback(db, admin, team)
    files = dict(load_package(_example()).files)
    definition = json.loads(files["apiDefinition.swagger.json"])
    definition["host"] = sentiment_host
    files["apiDefinition.swagger.json"] = json.dumps(definition).encode()
    files.pop("settings.json", None)
    connection = connect(db, maker, team, package_from_files(files), ring, {"api_key": SENTIMENT_KEY})
    documents = [
        {"id": "1", "text": "I love this, it is wonderful!"},
        {"id": "2", "text": "Awful. I hate it."},
    ]
    answer = invoke(db, maker, team, connection, "Sentiment", {"body": {"documents": documents}}, ring=ring)
    assert answer.status == 200
    scores = {d["id"]: d["score"] for d in answer.body["documents"]}
    assert scores["1"] > 0.5 > scores["2"]
    assert answer.warnings == []


def _example() -> Any:
    from tether.cli.demo import EXAMPLE_CONNECTOR

    return EXAMPLE_CONNECTOR


def test_policy_template_is_applied(
    db: Database, admin: Principal, maker: Principal, team: str, ring: KeyRing, echo_host: str
) -> None:
    allow_loopback(db, admin, team)
    package = echo_package(echo_host, "header", policies=[SET_HEADER])
    connection = connect(db, maker, team, package, ring, values_for("header"))
    answer = invoke(db, maker, team, connection, "GetItem", {"item": "1"}, ring=ring)
    assert answer.body["policy"] == "from-policy"


def test_custom_code_rewrites_the_request(
    db: Database, admin: Principal, maker: Principal, team: str, ring: KeyRing, echo_host: str
) -> None:
    allow_loopback(db, admin, team)
    package = echo_package(echo_host, "header", script=REWRITE_SCRIPT)
    connection = connect(db, maker, team, package, ring, values_for("header"))
    answer = invoke(db, maker, team, connection, "PostItem", {"item": "1", "body": {"n": 2}}, ring=ring)
    assert answer.body["scripted"] == "PostItem"
    assert answer.body["body"] == {"n": 2, "rewritten": True}
    assert answer.body["saw_key"] is True  # the script's request still gets the connection's key


def test_loopback_is_refused_until_the_environment_allows_it(
    db: Database, admin: Principal, maker: Principal, team: str, ring: KeyRing, echo_host: str
) -> None:
    connection = connect(db, maker, team, echo_package(echo_host, "none"), ring, {})
    with pytest.raises(DestinationRefused) as refused:
        invoke(db, maker, team, connection, "GetLatest", ring=ring)
    assert refused.value.status == 403
    assert "network_allow" in refused.value.message and f"environment '{team}'" in refused.value.message
    set_environment_settings(db, admin, team, network_allow=["localhost", "127.0.0.0/8"])
    assert invoke(db, maker, team, connection, "GetLatest", ring=ring).status == 200


def test_rate_limit_refuses_beyond_the_budget(
    db: Database, admin: Principal, maker: Principal, team: str, ring: KeyRing, echo_host: str
) -> None:
    allow_loopback(db, admin, team)
    connection = connect(db, maker, team, echo_package(echo_host, "none"), ring, {})

    async def go() -> None:
        async with ConnectorRunner(rate_limit=RateLimit(limit=2, period=60)) as connectors:
            for _ in range(2):
                answer = await invoke_operation(
                    db, maker, team, connection, "GetLatest", {}, runtime=connectors, keyring=ring
                )
                assert answer.status == 200
            with pytest.raises(RateLimited) as limited:
                await invoke_operation(
                    db, maker, team, connection, "GetLatest", {}, runtime=connectors, keyring=ring
                )
            assert limited.value.status == 429 and limited.value.retry_after > 0

    asyncio.run(go())


def test_only_the_owner_may_invoke(
    db: Database, admin: Principal, maker: Principal, team: str, ring: KeyRing, echo_host: str,
    make_user: Callable[..., Principal],
) -> None:  # fmt: skip
    allow_loopback(db, admin, team)
    connection = connect(db, maker, team, echo_package(echo_host, "header"), ring, values_for("header"))
    other = make_user("bob", environment=team, role="maker")
    with pytest.raises(NotFound):
        invoke(db, other, team, connection, "GetLatest", ring=ring)


def test_secrets_stay_out_of_answers_and_logs(
    db: Database, admin: Principal, maker: Principal, team: str, ring: KeyRing, echo_host: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    allow_loopback(db, admin, team)
    connection = connect(db, maker, team, echo_package(echo_host, "query"), ring, values_for("query"))
    with caplog.at_level(logging.DEBUG):
        answer = invoke(db, maker, team, connection, "GetItem", {"item": "1"}, ring=ring)
    assert answer.body["saw_key"] is True
    assert caplog.records, "the runtime logs its calls"
    for text in (caplog.text, repr(answer), json.dumps(answer.body), json.dumps(answer.headers)):
        assert KEY not in text and PASSWORD not in text


def test_unauthenticated_answer_marks_the_connection(
    db: Database, admin: Principal, maker: Principal, team: str, ring: KeyRing, echo_host: str
) -> None:
    allow_loopback(db, admin, team)
    package = echo_package(echo_host, "header", policies=[UNAUTHENTICATED])
    connection = connect(db, maker, team, package, ring, values_for("header"))
    with pytest.raises(ConnectionNeedsAttention) as needs:
        invoke(db, maker, team, connection, "Unauthorized", ring=ring)
    assert needs.value.status == 409
    info = get_connection(db, maker, team, connection)
    assert info.status == "error" and "rejected" in (info.status_reason or "")


def test_revisions_compile_once_each(
    db: Database, admin: Principal, maker: Principal, team: str, ring: KeyRing, echo_host: str
) -> None:
    allow_loopback(db, admin, team)
    package = echo_package(echo_host, "none")
    connector = create_connector(db, maker, team, package)
    connection = create_connection(db, maker, team, connector.id, {}, keyring=ring, public_url=PUBLIC_URL).id

    async def go() -> int:
        async with ConnectorRunner() as connectors:
            for _ in range(3):
                await invoke_operation(
                    db, maker, team, connection, "GetLatest", {}, runtime=connectors, keyring=ring
                )
            update_connector(
                db, maker, team, connector.id, echo_package(echo_host, "none", policies=[SET_HEADER])
            )
            answer = await invoke_operation(
                db, maker, team, connection, "GetItem", {"item": "x"}, runtime=connectors, keyring=ring
            )
            assert answer.body["policy"] == "from-policy"  # the new revision runs
            return connectors.cache.compilations

    assert asyncio.run(go()) == 2


def test_flow_connector_caller_matches_method_and_path(
    db: Database, admin: Principal, maker: Principal, team: str, ring: KeyRing, echo_host: str
) -> None:
    allow_loopback(db, admin, team)
    connection = connect(db, maker, team, echo_package(echo_host, "header"), ring, values_for("header"))

    async def go() -> list[Any]:
        async with ConnectorRunner() as connectors:
            caller = FlowConnectorCaller(
                db, runtime=connectors, keyring=ring, connections={"echo": connection}
            )
            by_path = await caller.call(
                "echo", "GET", "/echo/a%20b", {"q": "1", "extra": "2"}, {"X-Y": "z"}, None, "key-1"
            )
            latest = await caller.call(connection, "get", "/echo/latest", {}, {}, None, "")
            posted = await caller.call(
                "echo", "OPERATION", "PostItem", {}, {}, {"item": "p", "body": {"a": 1}}, ""
            )
            return [by_path, latest, posted]

    (status, headers, body), latest, posted = asyncio.run(go())
    assert status == 200 and headers["x-echo"] == "1"
    assert body["item"] == "a b" and body["query"] == {"q": "1", "extra": "2"}
    assert body["idempotency"] == "key-1" and body["saw_key"] is True
    assert latest[2]["path"] == "/api/echo/latest"  # a literal path beats the {item} template
    assert posted[2]["body"] == {"a": 1}


def test_flow_connector_caller_fails_unknown_paths(
    db: Database, admin: Principal, maker: Principal, team: str, ring: KeyRing, echo_host: str
) -> None:
    from tether.flows.engine import ActionFailure

    allow_loopback(db, admin, team)
    connection = connect(db, maker, team, echo_package(echo_host, "none"), ring, {})

    async def go() -> None:
        async with ConnectorRunner() as connectors:
            caller = FlowConnectorCaller(db, runtime=connectors, keyring=ring)
            await caller.call(connection, "DELETE", "/echo/latest", {}, {}, None, "")

    with pytest.raises(ActionFailure) as failure:
        asyncio.run(go())
    assert failure.value.code == "NotFound" and "it allows GET, POST" in failure.value.message


@pytest.mark.parametrize(
    ("entries", "normalized"),
    [
        pytest.param(["127.0.0.1", "LOCALHOST", "10.0.0.0/8", "::1"],
                     ("127.0.0.1", "localhost", "10.0.0.0/8", "::1"), id="mixed"),
        pytest.param(["*.corp", "api.corp.", "*.corp"], ("*.corp", "api.corp"), id="dedup"),
    ],
)  # fmt: skip
def test_network_allow_is_normalized(entries: list[str], normalized: tuple[str, ...]) -> None:
    assert check_network_allow(entries) == normalized
    policy = network_policy(normalized)
    assert policy.refusal("127.0.0.1") in (None, "loopback")


def test_network_allow_reports_every_bad_entry(db: Database, admin: Principal, team: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        set_environment_settings(db, admin, team, network_allow=["ok.host", "not a host", "http://x/"])
    assert [i["pointer"] for i in failed.value.issues] == ["/network_allow/1", "/network_allow/2"]
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])
    settings = get_environment_settings(db, admin, team)
    assert settings.network_allow == ("127.0.0.1",) and settings.oauth_global_redirect_enforcement is None
    set_environment_settings(db, admin, team, network_allow=None)
    assert get_environment_settings(db, admin, team).network_allow == ()


def test_runtime_given_is_borrowed() -> None:
    async def go() -> bool:
        async with Runtime() as runtime:
            async with ConnectorRunner(runtime):
                pass
            return runtime.client.is_closed

    assert asyncio.run(go()) is False
