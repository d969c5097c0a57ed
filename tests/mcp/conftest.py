"""MCP sessions with the official SDK's own client, over stdio and streamable HTTP, against a real server.

``tenant`` is the live server of tests/_agents_kit.py (``tether serve``'s app, so ``/mcp`` is
mounted). ``open_session(transport, token)`` gives an initialized ``ClientSession``: over
``stdio`` it spawns ``tether mcp`` on the server's home (the SDK's ``stdio_client`` terminates
and waits for the process when the session closes); over ``http`` it speaks streamable HTTP to
``/mcp`` with the token as a bearer header.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from mcp import ClientSession, StdioServerParameters, stdio_client
from tests._agents_kit import Tenant, live_tenant

TETHER = str(Path(sys.executable).parent / "tether")
OpenSession = Callable[[str, str], AbstractAsyncContextManager[ClientSession]]


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    yield from live_tenant(tmp_path_factory.mktemp("mcp-home"))


@pytest.fixture
def open_session(tenant: Tenant) -> OpenSession:
    @asynccontextmanager
    async def opened(transport: str, token: str) -> AsyncIterator[ClientSession]:
        if transport == "stdio":
            params = StdioServerParameters(
                command=TETHER, args=["mcp"], env={"TETHER_HOME": str(tenant.home), "TETHER_TOKEN": token}
            )
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                yield session
            return
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            create_mcp_http_client(headers=headers) as http,
            streamable_http_client(f"{tenant.url}/mcp", http_client=http) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session

    return opened
