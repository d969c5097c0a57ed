"""The tools one user's agent sees: their connections' operations, their runnable flows, run results.

Built from the services' use cases only (``agent_connections``, ``list_operations``,
``agent_flows``), so an agent lists exactly what its user may call and what the environment
exposes to agents. Each tool keeps its *target* (which connection and operation, which flow):
a tool call is resolved through the catalog, never by parsing a name an agent sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import mcp.types as types

from tether import services
from tether.errors import TetherError
from tether.mcp._backend import Backend, Identity
from tether.mcp._names import assign_names, flow_tool, operation_tool

__all__ = ["RUN_TOOL", "Catalog", "FlowTarget", "OperationTarget", "RunTarget", "build_catalog"]

logger = logging.getLogger("tether.mcp")

RUN_TOOL: Final = "tether_get_run"
MAX_DESCRIPTION: Final = 1_000


@dataclass(frozen=True)
class OperationTarget:
    connection: str
    connection_name: str
    operation_id: str


@dataclass(frozen=True)
class FlowTarget:
    flow: str
    wraps_body: bool  # the trigger's schema is not an object: the tool takes it as ``body``


@dataclass(frozen=True)
class RunTarget:
    """The tool that reads a run's result (status, outputs, each action's status)."""


Target = OperationTarget | FlowTarget | RunTarget


@dataclass(frozen=True)
class Catalog:
    """The tools of one identity, by name."""

    tools: dict[str, tuple[types.Tool, Target]]

    def listing(self) -> list[types.Tool]:
        return [tool for tool, _target in self.tools.values()]


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1].rstrip() + "…"


def _operation_tool(
    name: str, info: services.OperationInfo, connection: services.ConnectionInfo
) -> types.Tool:
    parts = [p.strip().rstrip(".") for p in (info.summary, info.description) if p and p.strip()]
    what = ". ".join(dict.fromkeys(parts)) or info.operation_id
    description = _clip(
        f"{what}. Calls {connection.connector} through the connection {connection.display_name!r}."
    )
    read_only = info.method.upper() in {"GET", "HEAD"}
    return types.Tool(
        name=name,
        title=info.summary or info.operation_id,
        description=description,
        inputSchema=info.input_schema,
        annotations=types.ToolAnnotations(readOnlyHint=read_only, openWorldHint=True),
    )


def _flow_tool(name: str, *, flow: services.FlowInfo) -> tuple[types.Tool, Target]:
    triggers = flow.definition.get("triggers") or {}
    trigger = triggers.get(flow.trigger_name or "") if isinstance(triggers, dict) else None
    trigger = trigger if isinstance(trigger, dict) else {}
    inputs = trigger.get("inputs")
    declared = inputs.get("schema") if isinstance(inputs, dict) else None
    wraps = not (isinstance(declared, dict) and declared.get("type", "object") == "object")
    schema: dict[str, Any]
    if isinstance(declared, dict) and not wraps:
        schema = declared
    else:  # no schema, or not an object: the body goes whole under "body"
        schema = {"type": "object", "properties": {"body": declared if isinstance(declared, dict) else {}}}
    about = trigger.get("description")
    description = _clip(
        f"Runs the flow {flow.display_name!r} and answers its response (or its run id and status). "
        + (str(about) if about else "")
    ).strip()
    tool = types.Tool(name=name, title=flow.display_name, description=description, inputSchema=schema)
    return tool, FlowTarget(flow=flow.name, wraps_body=wraps)


def _run_tool() -> types.Tool:
    return types.Tool(
        name=RUN_TOOL,
        title="Read a flow run",
        description="The status, outputs and each action's status of a run of a flow (by the flow's "
        "name and the run id a flow tool answered).",
        inputSchema={
            "type": "object",
            "properties": {
                "flow": {"type": "string", "description": "The flow's name."},
                "run_id": {"type": "string", "description": "The run's id."},
            },
            "required": ["flow", "run_id"],
            "additionalProperties": False,
        },
        annotations=types.ToolAnnotations(readOnlyHint=True),
    )


def _operations_of(
    backend: Backend, identity: Identity, connection: services.ConnectionInfo
) -> list[services.OperationInfo]:
    try:
        return list(
            services.list_operations(
                backend.db,
                identity.principal,
                identity.environment,
                connection.id,
                keyring=backend.keyring,
                runtime=backend.connectors,
            )
        )
    except TetherError as exc:  # a broken or withdrawn connector hides its tools, not everyone's
        logger.warning("MCP: no tools for connection %s: %s", connection.id, exc.message)
        return []


def _collect(backend: Backend, identity: Identity) -> Catalog:
    # Every target by a stable key (its ids), so names are settled once all are known.
    wanted: dict[str, str] = {}
    makers: dict[str, Callable[[str], tuple[types.Tool, Target]]] = {}
    principal, env = identity.principal, identity.environment
    for connection in services.agent_connections(backend.db, principal, env):
        for info in _operations_of(backend, identity, connection):
            if info.kind != "action":
                continue  # triggers are for flows: an agent cannot wait for one to fire
            key = f"op:{connection.id}:{info.operation_id}"
            wanted[key] = operation_tool(connection.display_name, info.operation_id)
            target = OperationTarget(connection.id, connection.display_name, info.operation_id)
            makers[key] = partial(_with_target, _operation_tool, info, connection, target)
    if backend.flows is not None:
        for flow in services.agent_flows(backend.db, principal, env):
            key = f"flow:{flow.id}"
            wanted[key] = flow_tool(flow.name)
            makers[key] = partial(_flow_tool, flow=flow)
    tools = {name: makers[key](name) for key, name in assign_names(wanted).items()}
    if backend.flows is not None:
        tools[RUN_TOOL] = (_run_tool(), RunTarget())
    return Catalog(tools)


def _with_target(
    make: Callable[[str, services.OperationInfo, services.ConnectionInfo], types.Tool],
    info: services.OperationInfo,
    connection: services.ConnectionInfo,
    target: OperationTarget,
    name: str,
) -> tuple[types.Tool, Target]:
    return make(name, info, connection), target


async def build_catalog(backend: Backend, identity: Identity) -> Catalog:
    """The identity's tools (database reads in a worker thread: the event loop never waits on them)."""
    return await asyncio.to_thread(_collect, backend, identity)
