"""tether.Client and tether.AsyncClient against a real server: listing, calls, errors, flows."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import tether
from tests._agents_kit import Tenant
from tether.api import free_port
from tether.errors import NotFound
from tether.sdk import (
    InvalidRequest,
    NotFoundError,
    NotLoggedIn,
    RunTimeout,
    ServerUnreachable,
    Unauthenticated,
    UpstreamStatus,
)

DOCUMENTS = [{"id": "1", "text": "I love this, it is wonderful!"}, {"id": "2", "text": "Awful. I hate it."}]


def test_lists_connectors_connections_and_operations(tenant: Tenant) -> None:
    with tether.Client(tenant.url, token=tenant.ada_token) as client:
        assert client.me()["username"] == "ada"
        assert {c.name for c in client.connectors()} >= {"sentiment", "intranet"}
        connections = {c.display_name: c for c in client.connections()}
        assert connections["Sentiment"].id == tenant.sentiment_connection
        assert connections["Sentiment"].connected
        sentiment = client.connection(tenant.sentiment_connection)
        operations = {op.id: op for op in sentiment.operations()}
        assert operations["Sentiment"].kind == "action"
        assert "body" in operations["Sentiment"].input_schema["properties"]


def test_call_with_body_fields_scores_texts(tenant: Tenant) -> None:
    with tether.Client(tenant.url, token=tenant.ada_token) as client:
        sentiment = client.connection(tenant.sentiment_connection)
        result = sentiment.call("Sentiment", documents=DOCUMENTS).raise_for_status()
        exact = sentiment.invoke("Sentiment", {"body": {"documents": DOCUMENTS}})
    scores = {d["id"]: d["score"] for d in result.body["documents"]}
    assert scores["1"] > 0.5 > scores["2"]
    assert exact.body == result.body
    assert tenant.ada_token not in repr(client)


def test_async_client_calls_and_runs(tenant: Tenant) -> None:
    async def go() -> tuple[float, int]:
        async with tether.AsyncClient(tenant.url, token=tenant.ada_token) as client:
            sentiment = await client.connection(tenant.sentiment_connection)
            result = await sentiment.call("Sentiment", documents=DOCUMENTS[:1])
            run = await client.run_flow("double", {"n": 4})
            return result.body["documents"][0]["score"], run.response["body"]["n"]

    score, doubled = asyncio.run(go())
    assert score > 0.5
    assert doubled == 8


def test_errors_carry_the_servers_code_and_status(tenant: Tenant) -> None:
    with tether.Client(tenant.url, token=tenant.ada_token) as client:
        with pytest.raises(NotFoundError) as missing:
            client.connection("no-such-connection")
        assert (missing.value.status, missing.value.code) == (404, "not-found")
        assert isinstance(missing.value, NotFound)  # catchable as Tether's own NotFound too
        with pytest.raises(InvalidRequest) as wrong:
            client.connection(tenant.sentiment_connection).invoke("Sentiment", {"colour": "blue"})
        assert wrong.value.status in (400, 422) and wrong.value.code != "api-error"
        assert "colour" in wrong.value.message
        # The intranet connector's host is refused by the SSRF guard: an error, not a result.
        with pytest.raises(tether.sdk.ApiError) as refused:
            client.connection(tenant.intranet_connection).call("Lookup", documents=DOCUMENTS)
        assert refused.value.code == "destination-refused"
    with tether.Client(tenant.url, token="tth_not-a-token") as client, pytest.raises(Unauthenticated) as who:
        client.connections()
    assert who.value.status == 401
    # bob has no connection: ada's is hidden from him.
    with tether.Client(tenant.url, token=tenant.bob_token) as client:
        assert client.connections() == []
        with pytest.raises(NotFoundError):
            client.connection(tenant.sentiment_connection)


def test_upstream_error_status_is_a_result_until_raised(tenant: Tenant) -> None:
    with tether.Client(tenant.url, token=tenant.ada_token) as client:
        too_many = [{"id": str(i), "text": "fine"} for i in range(1001)]  # the service takes 1000
        result = client.connection(tenant.sentiment_connection).call("Sentiment", documents=too_many)
    assert result.status == 400 and not result.ok
    with pytest.raises(UpstreamStatus) as raised:
        result.raise_for_status()
    assert raised.value.result is result


def test_flow_run_and_watch(tenant: Tenant) -> None:
    with tether.Client(tenant.url, token=tenant.ada_token) as client:
        assert {f.name for f in client.flows()} == {"double", "slow"}
        run = client.run_flow("double", {"n": 21})
        assert run.succeeded and run.done
        assert run.response is not None and run.response["body"] == {"n": 42}
        assert run.action("Double").outputs == 42
        queued = client.run_flow("double", {"n": 1}, wait=False)
        assert client.wait_for_run("double", queued.id, timeout=30).succeeded
        assert client.get_run("double", queued.id).id == queued.id


def test_watch_gives_up_at_its_timeout(tenant: Tenant) -> None:
    with tether.Client(tenant.url, token=tenant.ada_token) as client:
        queued = client.run_flow("slow", wait=False)
        with pytest.raises(RunTimeout) as late:
            client.wait_for_run("slow", queued.id, timeout=0.2)
        assert late.value.run_id == queued.id
        ended = client.wait_for_run("slow", queued.id, timeout=60)
    assert ended.status == "Failed" and ended.action("Nap").status == "TimedOut"


def test_login_from_the_cli_s_saved_credentials(tenant: Tenant, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TETHER_URL", raising=False)
    monkeypatch.delenv("TETHER_TOKEN", raising=False)
    monkeypatch.setenv("TETHER_HOME", str(tmp_path))
    with pytest.raises(NotLoggedIn, match="tether login"):
        tether.Client()
    (tmp_path / "credentials.json").write_text(json.dumps({"server": tenant.url, "token": tenant.ada_token}))
    with tether.Client() as client:
        assert client.me()["username"] == "ada"


def test_unreachable_server_says_so() -> None:
    url = f"http://127.0.0.1:{free_port('127.0.0.1')}"
    with tether.Client(url, token="tth_x") as client, pytest.raises(ServerUnreachable, match="tether serve"):
        client.connectors()
