"""What AI agents (the MCP server) may use: the rules, in the one place rules live.

An agent acts for one user, with that user's token, so it may use exactly what the user may:
the connections they can invoke (their own, and those shared with them as Can use — not every
connection an environment admin can *see*), and the flows they can run. On top of that an
environment can narrow what agents reach with its ``agent_connectors`` setting (connector
names; unset means all), so an admin can keep, say, the payroll connector away from agents
while people still use it. The check is made again on every call, not only when tools are
listed: a setting changed between the two applies at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tether.errors import PermissionDenied
from tether.secrets import KeyRing
from tether.services._access import RULES, Principal, allows, standing
from tether.services._connection_parts import ConnectionInfo, connection_info
from tether.services._connector_runner import ConnectorRunner
from tether.services._flows import FlowInfo, flow_info
from tether.services._invoke import InvokeAnswer, invoke_operation
from tether.services._read_cache import ReadCache
from tether.services._sharing import readable_ids
from tether.store import Connection, Connections, Database, Environment, Flows, Grants

__all__ = [
    "ON_DEMAND_TRIGGERS",
    "AgentAccess",
    "AgentNotAllowed",
    "agent_connections",
    "agent_flows",
    "agent_invoke",
    "check_agent_connection",
]

# Triggers a caller can start on demand; the others fire on their own (schedules, polls, webhooks).
ON_DEMAND_TRIGGERS = frozenset({"Request", "manual"})
# What the agent check reads: a change to any of them here drops the kept answers at once.
_CHECK_TABLES = ("environment_settings", "connections", "connectors", "environments", "environment_members")


class AgentNotAllowed(PermissionDenied):
    """The environment does not expose this connector to AI agents."""

    code = "agent-not-allowed"


def _exposed(session: Session, environment: Environment) -> frozenset[str] | None:
    found = Connections(session).settings(environment.id)
    names = found.agent_connectors if found is not None else None
    return None if names is None else frozenset(names)


def _usable(session: Session, principal: Principal, environment: str) -> tuple[Environment, list[Connection]]:
    who = standing(session, principal, environment)
    rule = RULES[("connection", "invoke")]
    # One query for every grant reaching the caller (as readable_ids does for list endpoints).
    reachable = Grants(session).reachable(who.environment.id, "connection", who.user_id, who.groups)
    rows = []
    for row in Connections(session).list(who.environment.id):
        held = ["owner"] if row.owner_id == who.user_id else reachable.get(row.id, [])
        if any(allows(rule, who.role, relation) for relation in held):
            rows.append(row)
    return who.environment, rows


def agent_connections(db: Database, principal: Principal, environment: str) -> list[ConnectionInfo]:
    """The connections ``principal``'s agents may call: invocable by them, connector exposed."""
    with db.session() as session:
        env, rows = _usable(session, principal, environment)
        exposed = _exposed(session, env)
        return [connection_info(row, env) for row in rows if exposed is None or row.connector.name in exposed]


def agent_flows(db: Database, principal: Principal, environment: str) -> list[FlowInfo]:
    """Enabled flows ``principal`` may run whose trigger starts on demand (Request or manual)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        rows = [f for f in Flows(session).list(who.environment.id) if f.enabled]
        runnable = readable_ids(session, who, "flow", [(f.id, f.created_by) for f in rows])
        infos = [flow_info(f, who.environment) for f in rows if f.id in runnable]
        return [f for f in infos if f.trigger_type in ON_DEMAND_TRIGGERS]


def check_agent_connection(db: Database, principal: Principal, environment: str, connection: str) -> None:
    """Raise :class:`AgentNotAllowed` if the environment keeps this connection's connector from agents."""
    with db.session() as session:
        who = standing(session, principal, environment)
        row = Connections(session).find(who.environment.id, connection)
        exposed = _exposed(session, who.environment)
        if row is None or exposed is None or row.connector.name in exposed:
            return  # unknown connections are invoke's to report (as "not found")
        raise AgentNotAllowed(
            f"Environment {who.environment.name!r} does not let AI agents use connector "
            f"{row.connector.name!r}; an environment admin can add it to the environment's "
            "agent_connectors setting (PUT /api/v1/environments/{env}/settings).",
            detail={"connector": row.connector.name},
        )


class AgentAccess:
    """:func:`check_agent_connection` with the hot path answered from memory.

    Every tool call checks the environment's agent setting; reading it (environment, connection,
    connector, settings) costs a database round trip and a worker thread per call. Allowances are
    kept as the invoke path keeps its facts (:class:`ReadCache`: dropped at once by a write here,
    after 2 s for a write by another process); a refusal is always decided afresh.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._allowed: ReadCache[bool] = ReadCache(db, _CHECK_TABLES)

    async def check(self, principal: Principal, environment: str, connection: str) -> None:
        def read() -> tuple[bool, float | None]:
            check_agent_connection(self._db, principal, environment, connection)
            return True, None

        await self._allowed.read_through((principal.user_id, environment, connection), read)


async def agent_invoke(
    db: Database,
    principal: Principal,
    environment: str,
    connection: str,
    operation_id: str,
    arguments: Mapping[str, Any],
    *,
    runtime: ConnectorRunner,
    keyring: KeyRing,
    access: AgentAccess | None = None,
) -> InvokeAnswer:
    """``invoke_operation`` for an agent: the environment's agent setting first, then every usual rule."""
    await (access or AgentAccess(db)).check(principal, environment, connection)
    return await invoke_operation(
        db, principal, environment, connection, operation_id, arguments, runtime=runtime, keyring=keyring
    )
