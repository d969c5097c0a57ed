"""Connector actions: ``ApiConnection`` (Logic Apps) and ``OpenApiConnection`` (Power Automate).

The connection is named by an expression over ``$connections`` (``host.connection.name``, usually
``@parameters('$connections')['office365']['connectionId']``) or by a reference name
(``host.connection.referenceName`` / ``host.connectionName``) looked up in ``$connections``. The
call goes through the run's :class:`~tether.flows.engine.ConnectorCaller`, with the same retry
policy, Idempotency-Key and timeout rules as the HTTP action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tether.flows.engine._errors import ActionFailure
from tether.flows.engine._retry import RetryPolicy
from tether.flows.engine._step import Outcome, Step
from tether.flows.engine.actions._http import http_outcome
from tether.flows.engine.actions._registry import action
from tether.flows.engine.actions._retrying import send_with_retries

__all__: list[str] = []


def _connection(step: Step, host: Mapping[str, Any]) -> str:
    connection = host.get("connection")
    if isinstance(connection, Mapping) and connection.get("name"):
        return str(connection["name"])
    reference = (
        connection.get("referenceName") if isinstance(connection, Mapping) else host.get("connectionName")
    )
    if not reference:
        raise ActionFailure(
            "InvalidTemplate",
            "The action names no connection: set host.connection.name or host.connection.referenceName.",
        )
    connections = step.run.spec.parameters.get("$connections")
    entry = connections.get(str(reference)) if isinstance(connections, Mapping) else None
    if isinstance(entry, Mapping) and entry.get("connectionId"):
        return str(entry["connectionId"])
    raise ActionFailure(
        "ConnectionNotFound",
        f"The connection '{reference}' is not mapped: give the flow a "
        f"connection for it (tether flow update --connection {reference}=<connection id>).",
    )


@action("ApiConnection", "OpenApiConnection", side_effects=True)
async def connector_action(step: Step) -> Outcome:
    inputs = step.inputs()
    if not isinstance(inputs, Mapping) or not isinstance(inputs.get("host"), Mapping):
        raise ActionFailure("InvalidTemplate", "A connector action needs inputs with a 'host'.")
    host = inputs["host"]
    connection = _connection(step, host)
    if step.spec.type == "OpenApiConnection":
        method, path = "OPERATION", str(host.get("operationId", ""))
        queries: Mapping[str, Any] = {}
        headers: Mapping[str, str] = {}
        body = inputs.get("parameters") or {}
    else:
        method, path = str(inputs.get("method", "get")).upper(), str(inputs.get("path", "/"))
        queries = inputs.get("queries") or {}
        headers = {str(k): str(v) for k, v in (inputs.get("headers") or {}).items()}
        body = inputs.get("body")
    policy = RetryPolicy.from_definition(inputs.get("retryPolicy"))
    key = step.record.idempotency_key or ""
    caller = step.services.connectors
    status, answer_headers, answer = await send_with_retries(
        step, policy, lambda: caller.call(connection, method, path, queries, headers, body, key)
    )
    return http_outcome(
        status, answer_headers, answer, {k: v for k, v in inputs.items() if k != "retryPolicy"}
    )
