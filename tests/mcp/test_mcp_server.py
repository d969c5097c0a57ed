"""The MCP server end to end, with the MCP SDK's ClientSession over stdio and streamable HTTP.

ada owns two connections (the tutorial's sentiment connector, served locally, and an
"Intranet" connector whose host the network policy refuses) and the flows ``double`` and
``slow``; bob owns nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import McpError
from typer.testing import CliRunner

from mcp import ClientSession
from tests._agents_kit import ENV, SENTIMENT_KEY, Tenant
from tests.mcp.conftest import OpenSession
from tether.cli import app

TRANSPORTS = [pytest.param("stdio", id="stdio"), pytest.param("http", id="http")]
DOCUMENTS = [{"id": "1", "text": "I love this, it is wonderful!"}, {"id": "2", "text": "Awful. I hate it."}]


def _text(result: Any) -> str:
    return "".join(block.text for block in result.content)


async def _tools(session: Any) -> dict[str, Any]:
    return {tool.name: tool for tool in (await session.list_tools()).tools}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_tools_sentiment_refusals_and_flows(
    transport: str, tenant: Tenant, open_session: OpenSession
) -> None:
    async def go() -> None:
        async with open_session(transport, tenant.ada_token) as session:
            tools = await _tools(session)
            assert {"sentiment__Sentiment", "intranet__Lookup", "flow__double", "tether_get_run"} <= set(
                tools
            )
            for name in tools:
                assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name), name
            sentiment = tools["sentiment__Sentiment"]
            assert "Detect sentiment" in (sentiment.description or "")
            assert "body" in sentiment.inputSchema["properties"]
            assert SENTIMENT_KEY not in json.dumps([t.model_dump() for t in tools.values()])

            scored = await session.call_tool("sentiment__Sentiment", {"body": {"documents": DOCUMENTS}})
            assert not scored.isError, _text(scored)
            answer = json.loads(_text(scored))
            scores = {d["id"]: d["score"] for d in answer["body"]["documents"]}
            assert answer["status"] == 200 and scores["1"] > 0.5 > scores["2"]
            assert SENTIMENT_KEY not in _text(scored)

            # The SSRF guard refuses the intranet host: a tool error the agent can read, not a crash.
            refused = await session.call_tool("intranet__Lookup", {"body": {"documents": DOCUMENTS}})
            assert refused.isError and _text(refused).startswith("destination-refused:")
            # Bad arguments are the runtime's clear message, as a tool error too.
            wrong = await session.call_tool("sentiment__Sentiment", {"colour": "blue"})
            assert wrong.isError and "colour" in _text(wrong)
            # The session is still usable after both: a flow runs, and its run can be read.
            ran = await session.call_tool("flow__double", {"n": 21})
            assert not ran.isError, _text(ran)
            answer = json.loads(_text(ran))
            assert answer["response"] == {"status": 200, "body": {"n": 42}}
            assert answer["status"] == "Succeeded"
            read = await session.call_tool("tether_get_run", {"flow": "double", "run_id": answer["run_id"]})
            detail = json.loads(_text(read))
            assert detail["status"] == "Succeeded"
            assert {a["name"]: a["status"] for a in detail["actions"]} == {
                "Double": "Succeeded",
                "Reply": "Succeeded",
            }

        async with open_session(transport, tenant.bob_token) as session:
            tools = await _tools(session)
            assert not any(name.startswith(("sentiment__", "intranet__")) for name in tools)
            missing = await session.call_tool("sentiment__Sentiment", {"body": {"documents": DOCUMENTS}})
            assert missing.isError

    asyncio.run(go())


def test_large_results_are_cut_with_a_note(tenant: Tenant, open_session: OpenSession) -> None:
    many = [{"id": str(i), "text": "a fine day"} for i in range(900)]  # ~30k characters of answer

    async def go() -> str:
        async with open_session("http", tenant.ada_token) as session:
            result = await session.call_tool("sentiment__Sentiment", {"body": {"documents": many}})
            assert not result.isError
            return _text(result)

    text = asyncio.run(go())
    assert "[truncated by Tether: 20000 of " in text
    assert len(text) < 20_300


def test_the_environment_setting_limits_the_connectors_agents_reach(
    tenant: Tenant, open_session: OpenSession
) -> None:
    admin = tenant.headers(tenant.admin_token)

    def expose(names: list[str] | None) -> None:
        answer = httpx.put(f"{tenant.url}{ENV}/settings", json={"agent_connectors": names}, headers=admin)
        assert answer.status_code == 200, answer.text

    async def go() -> None:
        async with open_session("http", tenant.ada_token) as session:
            assert "sentiment__Sentiment" in await _tools(session)
            expose(["intranet"])
            # Checked on the call, not only when listing: the name listed a moment ago is refused.
            refused = await session.call_tool("sentiment__Sentiment", {"body": {"documents": DOCUMENTS}})
            assert refused.isError and _text(refused).startswith("agent-not-allowed:")
            tools = await _tools(session)
            assert "intranet__Lookup" in tools and "sentiment__Sentiment" not in tools

    try:
        asyncio.run(go())
    finally:
        expose(None)


def test_an_unknown_environment_is_said_not_crashed(tenant: Tenant) -> None:
    async def go() -> None:
        headers = {"Authorization": f"Bearer {tenant.ada_token}"}
        async with (
            create_mcp_http_client(headers=headers) as http,
            streamable_http_client(f"{tenant.url}/mcp?environment=nope", http_client=http) as (
                read,
                write,
                _,
            ),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            with pytest.raises(McpError, match="not-found: Environment 'nope' not found"):
                await session.list_tools()
            result = await session.call_tool("sentiment__Sentiment", {})
            assert result.isError and _text(result).startswith("not-found:")

    asyncio.run(go())


def test_stdio_server_refuses_a_bad_token_in_one_line(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TETHER_HOME", str(tenant.home))
    monkeypatch.delenv("TETHER_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["mcp", "--token", "tth_not-a-token"])
    assert result.exit_code != 0
    assert "token" in result.output.lower() and "Traceback" not in result.output


def test_http_endpoint_needs_a_valid_token(tenant: Tenant) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    for headers in ({}, {"Authorization": "Bearer tth_not-a-token"}):
        answer = httpx.post(f"{tenant.url}/mcp", json=hello, headers=headers)
        assert answer.status_code == 401, answer.text
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert answer.json()["status"] == 401


def test_a_connection_shared_with_can_use_becomes_the_grantees_tool(
    tenant: Tenant, open_session: OpenSession
) -> None:
    access = f"{tenant.url}{ENV}/connections/{tenant.sentiment_connection}/access"
    ada = tenant.headers(tenant.ada_token)

    async def bobs_call() -> tuple[set[str], Any]:
        async with open_session("http", tenant.bob_token) as session:
            tools = set(await _tools(session))
            return tools, await session.call_tool("sentiment__Sentiment", {"body": {"documents": DOCUMENTS}})

    shared = httpx.put(access, json={"grantee": "user:bob", "permission": "use"}, headers=ada)
    assert shared.status_code == 200, shared.text
    try:
        tools, result = asyncio.run(bobs_call())
        assert "sentiment__Sentiment" in tools and "intranet__Lookup" not in tools
        assert not result.isError and json.loads(_text(result))["status"] == 200
    finally:
        httpx.delete(f"{access}/user:bob", headers=ada).raise_for_status()
    tools, result = asyncio.run(bobs_call())
    assert "sentiment__Sentiment" not in tools and result.isError


def test_the_cli_sets_and_clears_the_agent_connectors(tenant: Tenant) -> None:
    where = ["--server", tenant.url, "--token", tenant.admin_token, "--json"]
    runner = CliRunner()
    narrowed = runner.invoke(app, ["env", "settings", "set", "agent_connectors=sentiment, intranet", *where])
    assert narrowed.exit_code == 0, narrowed.output
    assert json.loads(narrowed.output)["agent_connectors"] == ["intranet", "sentiment"]
    cleared = runner.invoke(app, ["env", "settings", "set", "agent_connectors=", *where])
    assert cleared.exit_code == 0, cleared.output
    assert json.loads(cleared.output)["agent_connectors"] is None
