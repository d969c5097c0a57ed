"""``tether.Client``: Tether's API from a Python program, synchronously (httpx underneath)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from tether.sdk import _paths as paths
from tether.sdk._arguments import invoke_arguments, needs_schema
from tether.sdk._errors import RunTimeout, error_from_response, unreachable
from tether.sdk._login import resolve_login
from tether.sdk._models import ConnectionInfo, Connector, Flow, InvokeResult, Operation, Run
from tether.sdk._polling import DEFAULT_RUN_TIMEOUT, backoff

__all__ = ["DEFAULT_ENVIRONMENT", "DEFAULT_TIMEOUT", "Client", "Connection"]

DEFAULT_ENVIRONMENT = "default"
# The server gives an upstream call 120 s before it answers 504 itself; wait a little longer.
DEFAULT_TIMEOUT = httpx.Timeout(150.0, connect=5.0)


class Client:
    """A logged-in client of one Tether server and environment.

    ``base_url`` and ``token`` default to ``TETHER_URL``/``TETHER_TOKEN``, then to what
    ``tether login`` saved. Every failure the server reports is raised as a
    :class:`~tether.sdk.ApiError` subclass carrying its ``status`` and ``code``.

    Example::

        import tether

        with tether.Client("http://127.0.0.1:8000", token="tth_…") as client:
            sentiment = client.connection(connection_id)
            result = sentiment.call("Sentiment", documents=[{"id": "1", "text": "I love it"}])
            print(result.body["documents"][0]["score"])
            run = client.run_flow("nightly-report", body={"day": "2026-12-01"})
            print(run.status, run.outputs)
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        environment: str = DEFAULT_ENVIRONMENT,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        login = resolve_login(base_url, token)
        self.base_url = login.base_url
        self.environment = environment
        self._http = httpx.Client(
            base_url=login.base_url + paths.API_PREFIX,
            headers={"Authorization": f"Bearer {login.token}"},
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"Client({self.base_url!r}, environment={self.environment!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call (``path`` below ``/api/v1``): its JSON answer, or the error it reports."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise unreachable(self.base_url, exc) from exc
        if response.status_code >= 400:
            raise error_from_response(response)
        return response.json() if response.content else None

    def me(self) -> dict[str, Any]:
        """Who the token belongs to: ``{"id", "username", "is_admin"}``."""
        found: dict[str, Any] = self.request("GET", "/me")
        return found

    def connectors(self) -> list[Connector]:
        """The environment's connectors you may see."""
        items = self.request("GET", paths.environment(self.environment) + "/connectors")["items"]
        return [Connector.from_json(item) for item in items]

    def connections(self) -> list[ConnectionInfo]:
        """Your connections in the environment (those shared with you included)."""
        items = self.request("GET", paths.environment(self.environment) + "/connections")["items"]
        return [ConnectionInfo.from_json(item) for item in items]

    def connection(self, connection: str) -> Connection:
        """A connection by id (see ``connections()``), to list and call its operations."""
        data = self.request("GET", paths.connection(self.environment, connection))
        return Connection(self, ConnectionInfo.from_json(data))

    def flows(self) -> list[Flow]:
        """The environment's flows you may see."""
        items = self.request("GET", paths.environment(self.environment) + "/flows")["items"]
        return [Flow.from_json(item) for item in items]

    def run_flow(
        self,
        flow: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_RUN_TIMEOUT,
    ) -> Run:
        """Start a run of ``flow`` (a Request or manual trigger) with ``body``.

        With ``wait`` (the default) it returns the finished run, its actions included, and
        raises :class:`~tether.sdk.RunTimeout` if it is still going after ``timeout`` seconds
        (the run goes on). ``wait=False`` returns at once with the run just queued.
        """
        payload = {"body": body, "headers": dict(headers or {})}
        started = Run.from_json(
            self.request("POST", paths.flow(self.environment, flow) + "/runs", json=payload)
        )
        return self.wait_for_run(flow, started.id, timeout=timeout) if wait else started

    def get_run(self, flow: str, run_id: str) -> Run:
        """A run of ``flow`` with its action history."""
        return Run.from_json(self.request("GET", paths.run(self.environment, flow, run_id)))

    def cancel_run(self, flow: str, run_id: str) -> Run:
        """Ask a waiting or running run to stop (it ends Cancelled)."""
        return Run.from_json(self.request("POST", paths.run(self.environment, flow, run_id) + "/cancel"))

    def wait_for_run(self, flow: str, run_id: str, *, timeout: float = DEFAULT_RUN_TIMEOUT) -> Run:
        """Poll the run (quickly at first, then every 2 s) until it ends or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        for pause in backoff():
            run = self.get_run(flow, run_id)
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
            time.sleep(min(pause, left))
        raise AssertionError("unreachable: backoff() never ends")  # pragma: no cover


class Connection:
    """One of your connections: list its operations and call them.

    Example::

        result = connection.call("Sentiment", documents=[{"id": "1", "text": "Great!"}])
        result.raise_for_status()
    """

    def __init__(self, client: Client, info: ConnectionInfo) -> None:
        self.client = client
        self.info = info
        self.id = info.id
        self._operations: dict[str, Operation] = {}

    def __repr__(self) -> str:
        return f"Connection({self.info.display_name!r}, connector={self.info.connector!r}, id={self.id!r})"

    def operations(self) -> list[Operation]:
        """The operations you can call through this connection (internal ones are not listed)."""
        items = self.client.request("GET", paths.operations(self.id))["items"]
        found = [Operation.from_json(item) for item in items]
        self._operations = {op.id: op for op in found}
        return found

    def operation(self, operation_id: str) -> Operation:
        """One operation, with its input schema (read once, then kept)."""
        if operation_id not in self._operations:
            data = self.client.request("GET", f"{paths.operations(self.id)}/{paths.segment(operation_id)}")
            self._operations[operation_id] = Operation.from_json(data)
        return self._operations[operation_id]

    def invoke(self, operation_id: str, arguments: Mapping[str, Any] | None = None) -> InvokeResult:
        """Call ``operation_id`` with ``arguments`` exactly as the invoke endpoint takes them."""
        path = paths.invoke(self.info.environment or self.client.environment, self.id, operation_id)
        return InvokeResult.from_json(self.client.request("POST", path, json=dict(arguments or {})))

    def call(self, operation_id: str, /, **arguments: Any) -> InvokeResult:
        """Call ``operation_id``; parameters by name, the body as ``body=`` or as its fields."""
        if needs_schema(arguments):
            arguments = invoke_arguments(self.operation(operation_id), arguments)
        return self.invoke(operation_id, arguments)
