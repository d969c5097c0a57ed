"""``tether.AsyncClient``: the same API as :class:`~tether.sdk.Client`, for asyncio programs.

Kept as a mirror of ``_client.py`` method for method (httpx does the same); the parts that
are not I/O (paths, models, argument mapping, backoff) are shared modules.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import httpx

from tether.sdk import _paths as paths
from tether.sdk._arguments import invoke_arguments, needs_schema
from tether.sdk._client import DEFAULT_ENVIRONMENT, DEFAULT_TIMEOUT
from tether.sdk._errors import RunTimeout, error_from_response, unreachable
from tether.sdk._login import resolve_login
from tether.sdk._models import ConnectionInfo, Connector, Flow, InvokeResult, Operation, Run
from tether.sdk._polling import DEFAULT_RUN_TIMEOUT, backoff

__all__ = ["AsyncClient", "AsyncConnection"]


class AsyncClient:
    """A logged-in asyncio client of one Tether server and environment.

    Example::

        async with tether.AsyncClient("http://127.0.0.1:8000", token="tth_…") as client:
            sentiment = await client.connection(connection_id)
            result = await sentiment.call("Sentiment", documents=[{"id": "1", "text": "I love it"}])
            run = await client.run_flow("nightly-report", body={"day": "2026-12-01"})
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        environment: str = DEFAULT_ENVIRONMENT,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        login = resolve_login(base_url, token)
        self.base_url = login.base_url
        self.environment = environment
        self._http = httpx.AsyncClient(
            base_url=login.base_url + paths.API_PREFIX,
            headers={"Authorization": f"Bearer {login.token}"},
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"AsyncClient({self.base_url!r}, environment={self.environment!r})"

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call (``path`` below ``/api/v1``): its JSON answer, or the error it reports."""
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise unreachable(self.base_url, exc) from exc
        if response.status_code >= 400:
            raise error_from_response(response)
        return response.json() if response.content else None

    async def me(self) -> dict[str, Any]:
        """Who the token belongs to: ``{"id", "username", "is_admin"}``."""
        found: dict[str, Any] = await self.request("GET", "/me")
        return found

    async def connectors(self) -> list[Connector]:
        """The environment's connectors you may see."""
        data = await self.request("GET", paths.environment(self.environment) + "/connectors")
        return [Connector.from_json(item) for item in data["items"]]

    async def connections(self) -> list[ConnectionInfo]:
        """Your connections in the environment (those shared with you included)."""
        data = await self.request("GET", paths.environment(self.environment) + "/connections")
        return [ConnectionInfo.from_json(item) for item in data["items"]]

    async def connection(self, connection: str) -> AsyncConnection:
        """A connection by id (see ``connections()``), to list and call its operations."""
        data = await self.request("GET", paths.connection(self.environment, connection))
        return AsyncConnection(self, ConnectionInfo.from_json(data))

    async def flows(self) -> list[Flow]:
        """The environment's flows you may see."""
        data = await self.request("GET", paths.environment(self.environment) + "/flows")
        return [Flow.from_json(item) for item in data["items"]]

    async def run_flow(
        self,
        flow: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_RUN_TIMEOUT,
    ) -> Run:
        """Start a run of ``flow`` with ``body``; with ``wait``, return it ended (see ``Client.run_flow``)."""
        payload = {"body": body, "headers": dict(headers or {})}
        data = await self.request("POST", paths.flow(self.environment, flow) + "/runs", json=payload)
        started = Run.from_json(data)
        return await self.wait_for_run(flow, started.id, timeout=timeout) if wait else started

    async def get_run(self, flow: str, run_id: str) -> Run:
        """A run of ``flow`` with its action history."""
        return Run.from_json(await self.request("GET", paths.run(self.environment, flow, run_id)))

    async def cancel_run(self, flow: str, run_id: str) -> Run:
        """Ask a waiting or running run to stop (it ends Cancelled)."""
        path = paths.run(self.environment, flow, run_id) + "/cancel"
        return Run.from_json(await self.request("POST", path))

    async def wait_for_run(self, flow: str, run_id: str, *, timeout: float = DEFAULT_RUN_TIMEOUT) -> Run:
        """Poll the run (quickly at first, then every 2 s) until it ends or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        for pause in backoff():
            run = await self.get_run(flow, run_id)
            left = deadline - time.monotonic()
            if run.done:
                return run
            if left <= 0:
                raise RunTimeout(
                    f"run {run_id} of flow {flow!r} is still {run.status} after {timeout:g} s; it goes on: "
                    f"read it later with get_run({flow!r}, {run_id!r})",
                    run_id=run_id,
                    status=run.status,
                )
            await asyncio.sleep(min(pause, left))
        raise AssertionError("unreachable: backoff() never ends")  # pragma: no cover


class AsyncConnection:
    """One of your connections, for asyncio programs (see :class:`~tether.sdk.Connection`)."""

    def __init__(self, client: AsyncClient, info: ConnectionInfo) -> None:
        self.client = client
        self.info = info
        self.id = info.id
        self._operations: dict[str, Operation] = {}

    def __repr__(self) -> str:
        return (
            f"AsyncConnection({self.info.display_name!r}, connector={self.info.connector!r}, id={self.id!r})"
        )

    async def operations(self) -> list[Operation]:
        """The operations you can call through this connection (internal ones are not listed)."""
        data = await self.client.request("GET", paths.operations(self.id))
        found = [Operation.from_json(item) for item in data["items"]]
        self._operations = {op.id: op for op in found}
        return found

    async def operation(self, operation_id: str) -> Operation:
        """One operation, with its input schema (read once, then kept)."""
        if operation_id not in self._operations:
            path = f"{paths.operations(self.id)}/{paths.segment(operation_id)}"
            self._operations[operation_id] = Operation.from_json(await self.client.request("GET", path))
        return self._operations[operation_id]

    async def invoke(self, operation_id: str, arguments: Mapping[str, Any] | None = None) -> InvokeResult:
        """Call ``operation_id`` with ``arguments`` exactly as the invoke endpoint takes them."""
        path = paths.invoke(self.info.environment or self.client.environment, self.id, operation_id)
        return InvokeResult.from_json(await self.client.request("POST", path, json=dict(arguments or {})))

    async def call(self, operation_id: str, /, **arguments: Any) -> InvokeResult:
        """Call ``operation_id``; parameters by name, the body as ``body=`` or as its fields."""
        if needs_schema(arguments):
            arguments = invoke_arguments(await self.operation(operation_id), arguments)
        return await self.invoke(operation_id, arguments)
