"""Running a tool: the services' invoke path for operations, the flow runtime for flows.

Nothing here decides who may do what: ``agent_invoke`` (the environment's agent setting, then
everything ``invoke_operation`` checks: sharing, policies, script, rate limit, network policy and
the SSRF guard), ``start_run`` and ``get_run`` do, as they do for the API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final

import mcp.types as types

from tether import services
from tether.errors import InputError, TetherError
from tether.mcp._backend import Backend, Identity
from tether.mcp._catalog import FlowTarget, OperationTarget, RunTarget
from tether.mcp._results import error_result, json_result, unexpected_result

__all__ = ["FLOW_TOOL_TIMEOUT", "call_target"]

# How long a flow tool waits for the run's answer before it returns the run id to read later.
FLOW_TOOL_TIMEOUT: Final = 60.0


async def _operation(
    backend: Backend, who: Identity, target: OperationTarget, arguments: Mapping[str, Any], max_chars: int
) -> types.CallToolResult:
    answer = await services.agent_invoke(
        backend.db,
        who.principal,
        who.environment,
        target.connection,
        target.operation_id,
        arguments,
        runtime=backend.connectors,
        keyring=backend.keyring,
        access=backend.access,
    )
    # Upstream headers stay out: they cost context and may carry cookies; the type says enough.
    result = {"status": answer.status, "content_type": answer.content_type or None, "body": answer.body}
    if answer.warnings:
        result["warnings"] = answer.warnings
    return json_result(result, is_error=answer.status >= 400, max_chars=max_chars)


async def _flow(
    backend: Backend, who: Identity, target: FlowTarget, arguments: Mapping[str, Any], max_chars: int
) -> types.CallToolResult:
    flows = backend.flows
    if flows is None:  # the catalog offers no flow tool then; a stale name gets a clear answer
        raise InputError("flows do not run in this MCP server; call the flow through 'tether serve'")
    body = arguments.get("body") if target.wraps_body else dict(arguments)
    run = await asyncio.to_thread(
        services.start_run,
        backend.db,
        who.principal,
        who.environment,
        target.flow,
        body=body,
        keyring=backend.keyring,
    )
    future = flows.expect_response(run.id)
    flows.submit(run.id)
    response = await flows.wait_response(run.id, future, timeout=FLOW_TOOL_TIMEOUT)
    result: dict[str, Any] = {"run_id": run.id, "flow": target.flow}
    try:
        detail = await asyncio.to_thread(
            services.get_run, backend.db, who.principal, who.environment, target.flow, run.id,
            keyring=backend.keyring,
        )  # fmt: skip
        result.update(status=detail.run.status, error=detail.run.error, outputs=detail.run.outputs)
    except TetherError:
        pass  # Can run without Can edit: run history is not theirs to read; the response still is
    if response is not None:
        result["response"] = {"status": response.get("statusCode"), "body": response.get("body")}
    failed = result.get("status") == "Failed"
    return json_result(result, is_error=failed, max_chars=max_chars)


async def _run(
    backend: Backend, who: Identity, arguments: Mapping[str, Any], max_chars: int
) -> types.CallToolResult:
    flow, run_id = arguments.get("flow"), arguments.get("run_id")
    if not isinstance(flow, str) or not isinstance(run_id, str):
        raise InputError("give 'flow' (the flow's name) and 'run_id' (the id a flow tool answered)")
    detail = await asyncio.to_thread(
        services.get_run, backend.db, who.principal, who.environment, flow, run_id, keyring=backend.keyring
    )
    actions = [{"name": a.name, "status": a.status, "error": a.error} for a in detail.actions]
    run = detail.run
    summary = {"run_id": run.id, "status": run.status, "error": run.error, "outputs": run.outputs,
               "response": run.response, "actions": actions}  # fmt: skip
    return json_result(summary, max_chars=max_chars)


async def call_target(
    backend: Backend,
    who: Identity,
    tool: str,
    target: OperationTarget | FlowTarget | RunTarget,
    arguments: Mapping[str, Any],
    *,
    max_chars: int,
) -> types.CallToolResult:
    """Run one tool call; every failure becomes an ``isError`` result, never a protocol error."""
    try:
        if isinstance(target, OperationTarget):
            return await _operation(backend, who, target, arguments, max_chars)
        if isinstance(target, FlowTarget):
            return await _flow(backend, who, target, arguments, max_chars)
        return await _run(backend, who, arguments, max_chars)
    except TetherError as exc:
        return error_result(exc)
    except Exception as exc:  # a bug must not end the agent's session
        return unexpected_result(tool, exc)
