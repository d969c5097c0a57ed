"""A connection's operations, described for apps and agents: the use case behind ``…/operations``.

    list_operations / get_operation ─ may the caller use the connection? (the invoke check)
                                    └ its connector's current revision, compiled (the shared cache)
                                    ⇒ OperationInfo per visible operation: ids, texts, kind, schemas

An app that wants to call a connection should not have to download the connector's package and
read Swagger to learn which arguments to send: the answer here carries, per operation, the one
JSON Schema of the argument object invoke takes (see ``_operation_schemas``) and the schema of
what comes back. The MCP server and the SDK are built on it. Operations marked
``x-ms-visibility: internal`` (helpers for dynamic values, webhook deletion) are not listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tether.definition import Api, Operation
from tether.errors import NotFound
from tether.runtime.compiled import CompiledConnector
from tether.secrets import KeyRing
from tether.services._access import Principal, check, standing
from tether.services._connection_call import check_connector_still_usable, compiled_revision
from tether.services._connector_runner import ConnectorRunner
from tether.services._operation_schemas import body_argument, input_schema, output_schema
from tether.store import Connections, Database

__all__ = ["OperationInfo", "connection_api", "get_operation", "list_operations", "operation_info"]

Kind = Literal["action", "trigger"]


@dataclass(frozen=True)
class OperationInfo:
    """One operation of a connection as a caller sees it.

    ``input_schema`` describes the JSON object of arguments the invoke endpoint takes (parameters
    by name, the body under ``body_argument``); ``output_schema`` the body of a successful answer
    (None when the definition declares none). ``trigger`` is ``single``/``batch`` for triggers.
    """

    operation_id: str
    summary: str | None
    description: str | None
    visibility: str | None
    kind: Kind
    trigger: str | None
    deprecated: bool
    method: str
    path: str
    body_argument: str | None
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None


def list_operations(
    db: Database,
    principal: Principal,
    environment: str | None,
    connection: str,
    *,
    keyring: KeyRing,
    runtime: ConnectorRunner,
) -> list[OperationInfo]:
    """The operations ``principal`` may call through ``connection``, in the definition's order.

    ``environment`` None finds the connection by id wherever it is. The caller must be allowed
    to invoke it (its owner, or Can use through sharing); others are told it is not found.
    """
    compiled = connection_api(db, principal, environment, connection, keyring=keyring, runtime=runtime)
    return list(_described(compiled, runtime))


def get_operation(
    db: Database,
    principal: Principal,
    environment: str | None,
    connection: str,
    operation_id: str,
    *,
    keyring: KeyRing,
    runtime: ConnectorRunner,
) -> OperationInfo:
    """One operation of :func:`list_operations`; an internal or unknown one is ``NotFound``."""
    compiled = connection_api(db, principal, environment, connection, keyring=keyring, runtime=runtime)
    for info in _described(compiled, runtime):
        if info.operation_id == operation_id:
            return info
    raise NotFound(
        f"Connection {connection!r} has no operation {operation_id!r}: list them with "
        f"GET /api/v1/connections/{connection}/operations."
    )


def connection_api(
    db: Database,
    principal: Principal,
    environment: str | None,
    connection: str,
    *,
    keyring: KeyRing,
    runtime: ConnectorRunner,
) -> CompiledConnector:
    """The compiled current revision behind ``connection``, once ``principal`` may invoke it.

    The same decision as a call's (``prepare_for``): owner or Can use, and the owner still allowed
    to use the connector; credentials are not decrypted, a listing does not need them.
    """
    with db.session() as session:
        if environment is None:
            found = Connections(session).get(connection)
            if found is None:
                raise NotFound(f"Connection {connection!r} not found.")
            environment = found.environment_id
        who = standing(session, principal, environment)
        row = Connections(session).find(who.environment.id, connection)
        if row is None:
            raise NotFound(f"Connection {connection!r} not found in environment {who.environment.name!r}.")
        label = f"Connection {connection!r}"
        check(session, who, "connection", "invoke", resource_id=row.id, owner_id=row.owner_id, label=label)
        check_connector_still_usable(session, row, who.environment)
        return compiled_revision(session, row.connector, keyring, runtime.cache)


def operation_info(api: Api, operation: Operation) -> OperationInfo:
    """Describe ``operation`` of ``api`` (pure: the schemas are fresh JSON-safe copies)."""
    return OperationInfo(
        operation_id=operation.operation_id,
        summary=operation.summary,
        description=operation.description,
        visibility=operation.visibility,
        kind="trigger" if operation.trigger is not None else "action",
        trigger=operation.trigger,
        deprecated=operation.deprecated,
        method=operation.method.upper(),
        path=operation.path,
        body_argument=body_argument(operation),
        input_schema=input_schema(api, operation),
        output_schema=output_schema(operation),
    )


def _described(compiled: CompiledConnector, runtime: ConnectorRunner) -> tuple[OperationInfo, ...]:
    api = compiled.api

    def build() -> tuple[OperationInfo, ...]:
        return tuple(operation_info(api, op) for op in api.operations if _listed(api, op))

    found: tuple[OperationInfo, ...] = runtime.operations.get(compiled.connector_id, compiled.revision, build)
    return found


def _listed(api: Api, operation: Operation) -> bool:
    # A duplicate id is reachable only as its first holder (invoke calls that one too).
    first = api.operations_by_id.get(operation.operation_id) is operation
    return first and (operation.visibility or "").lower() != "internal"
