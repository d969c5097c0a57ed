"""A connection's operations, with the JSON Schemas of their arguments and answers.

``GET /environments/{env}/connections/{id}/operations`` lists what ``/invoke`` can call through
the connection; ``…/operations/{operationId}`` describes one, and with the values of other inputs
in the query (``?contentTypeId=blog``, ``?body/workflowId=w1``) merges the dynamic schemas they
unlock. ``POST …/operations/{operationId}/dynamic-values`` lists an input's choices. The same
routes without the environment (``/connections/{id}/…``) find the connection by id, as the
``/apim`` pass-through does, for apps and agents that hold only a connection id.
``GET …/connections/{id}/openapi.json`` is the connection as an OpenAPI 3.1 document whose
operations are its invoke routes, for generating a client in any language.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, fields
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tether import services
from tether.api._connector_runner import Connectors
from tether.api._deps import AppSettings, CurrentPrincipal, Db
from tether.api.routes.connections import Keys
from tether.config import DEFAULT_PUBLIC_URL, Settings
from tether.secrets import KeyRing
from tether.services import ConnectorRunner, Principal
from tether.store import Database

__all__ = ["router"]

router = APIRouter(tags=["operations"])
_WITH_ENV = "/environments/{env}/connections/{connection}/operations"
_BY_ID = "/connections/{connection}/operations"


class DynamicValuesRequest(BaseModel):
    """Which input's choices to list, and the values of the inputs its extension refers to."""

    parameter: str = Field(description="The input: a parameter name, or a body path such as 'body/taskId'.")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Values of the other inputs, by name (or 'body/…' path)."
    )
    selected: Any = Field(
        default=None, description="x-ms-dynamic-tree: the node (or its value) whose children to list."
    )


def _shallow(info: services.OperationInfo) -> dict[str, Any]:
    """The description's fields, its schemas shared, not deep-copied as ``asdict`` would (5x faster)."""
    return {field.name: getattr(info, field.name) for field in fields(info)}


def _list(
    db: Database,
    principal: Principal,
    env: str | None,
    connection: str,
    keys: KeyRing,
    runtime: ConnectorRunner,
) -> JSONResponse:
    found = services.list_operations(db, principal, env, connection, keyring=keys, runtime=runtime)
    # Plain JSON already: skips FastAPI's re-encoding walk over every schema.
    return JSONResponse({"items": [_shallow(info) for info in found]})


async def _one(
    request: Request,
    db: Database,
    principal: Principal,
    env: str | None,
    connection: str,
    operation_id: str,
    keys: KeyRing,
    runtime: ConnectorRunner,
) -> dict[str, Any]:
    values = dict(request.query_params)
    if not values:
        info = await asyncio.to_thread(
            services.get_operation,
            db,
            principal,
            env,
            connection,
            operation_id,
            keyring=keys,
            runtime=runtime,
        )
    else:
        info = await services.resolve_operation(
            db, principal, env, connection, operation_id, values, keyring=keys, runtime=runtime
        )
    return _shallow(info)


def _openapi(
    request: Request,
    settings: Settings,
    db: Database,
    principal: Principal,
    env: str | None,
    connection: str,
    keys: KeyRing,
    runtime: ConnectorRunner,
) -> dict[str, Any]:
    # The configured public URL when there is one (behind a proxy), else the address the caller used.
    base = settings.public_url if settings.public_url != DEFAULT_PUBLIC_URL else str(request.base_url)
    return services.connection_openapi(
        db, principal, env, connection, base_url=base, keyring=keys, runtime=runtime
    )


async def _values(
    body: DynamicValuesRequest,
    db: Database,
    principal: Principal,
    env: str | None,
    connection: str,
    operation_id: str,
    keys: KeyRing,
    runtime: ConnectorRunner,
) -> dict[str, Any]:
    found = await services.list_dynamic_values(
        db,
        principal,
        env,
        connection,
        operation_id,
        body.parameter,
        body.parameters,
        keyring=keys,
        runtime=runtime,
        **({"selected": body.selected} if "selected" in body.model_fields_set else {}),
    )
    return {"items": [{k: v for k, v in asdict(item).items() if v is not None} for item in found]}


@router.get(_WITH_ENV, summary="List the operations you can call through a connection, with their schemas")
def list_operations(
    env: str, connection: str, db: Db, principal: CurrentPrincipal, keys: Keys, connectors: Connectors
) -> JSONResponse:
    return _list(db, principal, env, connection, keys, connectors)


@router.get(
    _WITH_ENV + "/{operation_id}",
    summary="Describe one operation of a connection (query values resolve its dynamic schemas)",
)
async def get_operation(
    request: Request,
    env: str,
    connection: str,
    operation_id: str,
    db: Db,
    principal: CurrentPrincipal,
    keys: Keys,
    connectors: Connectors,
) -> dict[str, Any]:
    return await _one(request, db, principal, env, connection, operation_id, keys, connectors)


@router.post(_WITH_ENV + "/{operation_id}/dynamic-values", summary="List the choices of an operation's input")
async def dynamic_values(
    body: DynamicValuesRequest,
    env: str,
    connection: str,
    operation_id: str,
    db: Db,
    principal: CurrentPrincipal,
    keys: Keys,
    connectors: Connectors,
) -> dict[str, Any]:
    return await _values(body, db, principal, env, connection, operation_id, keys, connectors)


@router.get(_BY_ID, summary="List a connection's operations (the connection found by id)")
def list_operations_by_id(
    connection: str, db: Db, principal: CurrentPrincipal, keys: Keys, connectors: Connectors
) -> JSONResponse:
    return _list(db, principal, None, connection, keys, connectors)


@router.get(_BY_ID + "/{operation_id}", summary="Describe one operation of a connection (found by id)")
async def get_operation_by_id(
    request: Request,
    connection: str,
    operation_id: str,
    db: Db,
    principal: CurrentPrincipal,
    keys: Keys,
    connectors: Connectors,
) -> dict[str, Any]:
    return await _one(request, db, principal, None, connection, operation_id, keys, connectors)


@router.post(_BY_ID + "/{operation_id}/dynamic-values", summary="List the choices of an input (found by id)")
async def dynamic_values_by_id(
    body: DynamicValuesRequest,
    connection: str,
    operation_id: str,
    db: Db,
    principal: CurrentPrincipal,
    keys: Keys,
    connectors: Connectors,
) -> dict[str, Any]:
    return await _values(body, db, principal, None, connection, operation_id, keys, connectors)


@router.get(
    "/environments/{env}/connections/{connection}/openapi.json",
    summary="The connection as an OpenAPI 3.1 document: generate a client for it in any language",
)
def connection_openapi(
    request: Request,
    env: str,
    connection: str,
    db: Db,
    principal: CurrentPrincipal,
    settings: AppSettings,
    keys: Keys,
    connectors: Connectors,
) -> dict[str, Any]:
    return _openapi(request, settings, db, principal, env, connection, keys, connectors)


@router.get(
    "/connections/{connection}/openapi.json", summary="The connection as an OpenAPI 3.1 document (by id)"
)
def connection_openapi_by_id(
    request: Request,
    connection: str,
    db: Db,
    principal: CurrentPrincipal,
    settings: AppSettings,
    keys: Keys,
    connectors: Connectors,
) -> dict[str, Any]:
    return _openapi(request, settings, db, principal, None, connection, keys, connectors)
