"""A connection's operations, with the JSON Schemas of their arguments and answers.

``GET /environments/{env}/connections/{id}/operations`` lists what ``/invoke`` can call through
the connection; ``…/operations/{operationId}`` describes one. The same routes without the
environment (``/connections/{id}/operations``) find the connection by id, as the ``/apim``
pass-through does, for apps and agents that hold only a connection id.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from tether import services
from tether.api._connector_runner import Connectors
from tether.api._deps import CurrentPrincipal, Db
from tether.api.routes.connections import Keys

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get(
    "/environments/{env}/connections/{connection}/operations",
    summary="List the operations you can call through a connection, with their input and output schemas",
)
def list_operations(
    env: str, connection: str, db: Db, principal: CurrentPrincipal, keys: Keys, connectors: Connectors
) -> dict[str, Any]:
    found = services.list_operations(db, principal, env, connection, keyring=keys, runtime=connectors)
    return {"items": [asdict(info) for info in found]}


@router.get(
    "/environments/{env}/connections/{connection}/operations/{operation_id}",
    summary="Describe one operation of a connection",
)
def get_operation(
    env: str,
    connection: str,
    operation_id: str,
    db: Db,
    principal: CurrentPrincipal,
    keys: Keys,
    connectors: Connectors,
) -> dict[str, Any]:
    info = services.get_operation(
        db, principal, env, connection, operation_id, keyring=keys, runtime=connectors
    )
    return asdict(info)


@router.get(
    "/connections/{connection}/operations",
    summary="List a connection's operations (the connection found by id in any of your environments)",
)
def list_operations_by_id(
    connection: str, db: Db, principal: CurrentPrincipal, keys: Keys, connectors: Connectors
) -> dict[str, Any]:
    found = services.list_operations(db, principal, None, connection, keyring=keys, runtime=connectors)
    return {"items": [asdict(info) for info in found]}


@router.get(
    "/connections/{connection}/operations/{operation_id}",
    summary="Describe one operation of a connection (found by id)",
)
def get_operation_by_id(
    connection: str,
    operation_id: str,
    db: Db,
    principal: CurrentPrincipal,
    keys: Keys,
    connectors: Connectors,
) -> dict[str, Any]:
    info = services.get_operation(
        db, principal, None, connection, operation_id, keyring=keys, runtime=connectors
    )
    return asdict(info)
