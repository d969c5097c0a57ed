"""Tether for Admins: the admin inventory, environments and connections, answered in process.

The operations are the service use cases themselves, called as the acting user (the caller, or a
flow's connection owner), so a maker running them meets the same ``PermissionDenied`` as at the
API. Shapes follow Power Apps for Admins loosely (``{"value": [...]}``, camelCase fields).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from tether.errors import PermissionDenied
from tether.services._access import require_role, standing
from tether.services._admin_inventory import MAX_PAGE, ConnectorInventoryItem, list_connector_inventory
from tether.services._builtin_call import BuiltinAnswer, BuiltinCall
from tether.store import Connections, Environments

__all__ = ["get_admin_connections", "get_admin_connectors", "get_admin_environments"]

# ``environment`` value meaning every environment (platform admins).
ALL_ENVIRONMENTS = "*"


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def connector_json(item: ConnectorInventoryItem) -> dict[str, Any]:
    """One inventory row in the connector's response shape."""
    return {
        "id": item.id,
        "name": item.name,
        "displayName": item.display_name,
        "environment": item.environment,
        "createdBy": {
            "userName": item.creator,
            "displayName": item.creator_name,
            "email": item.creator_email,
        },
        "createdTime": _time(item.created_at),
        "lastModifiedTime": _time(item.updated_at),
        "authTypes": list(item.auth_types),
        "oauthParameters": [
            {
                "parameterSet": p.parameter_set,
                "parameter": p.parameter,
                "identityProvider": p.identity_provider,
                "redirectMode": p.redirect_mode,
            }
            for p in item.oauth_parameters
        ],
        # Distinct modes over every OAuth parameter: what a flow's Filter array tests with contains().
        "redirectModes": sorted({p.redirect_mode for p in item.oauth_parameters}),
        "connectionCount": item.connection_count,
        "lastUsedTime": _time(item.last_used_at),
        "certification": item.certification,
    }


async def get_admin_connectors(call: BuiltinCall) -> BuiltinAnswer:
    """Get Custom Connectors as Admin: the connection's environment by default, ``*`` for all."""
    args = call.arguments
    environment = str(args.get("environment") or call.prepared.environment)
    items: list[dict[str, Any]] = []
    skip = 0
    while True:  # every page: a flow filters the whole list
        page = await asyncio.to_thread(
            list_connector_inventory,
            call.db,
            call.actor,
            None if environment == ALL_ENVIRONMENTS else environment,
            auth_type=args.get("authType") or None,
            redirect_mode=args.get("redirectMode") or None,
            creator=args.get("creator") or None,
            skip=skip,
            top=MAX_PAGE,
        )
        items += [connector_json(item) for item in page.items]
        skip += MAX_PAGE
        if skip >= page.total:
            return BuiltinAnswer(200, {"value": items})


async def get_admin_environments(call: BuiltinCall) -> BuiltinAnswer:
    """List Environments as Admin: those the actor administers (all for a platform admin)."""

    def read() -> list[dict[str, Any]]:
        with call.db.session() as session:
            rows = (
                [(env, "admin") for env in Environments(session).list()]
                if call.actor.is_admin
                else list(Environments(session).for_user(call.actor.user_id))
            )
            return [
                {
                    "id": env.id,
                    "name": env.name,
                    "displayName": env.display_name,
                    "createdTime": _time(env.created_at),
                }
                for env, role in rows
                if role == "admin"
            ]

    found = await asyncio.to_thread(read)
    if not found:
        raise PermissionDenied(f"{call.actor.username!r} administers no environment.")
    return BuiltinAnswer(200, {"value": found})


async def get_admin_connections(call: BuiltinCall) -> BuiltinAnswer:
    """List Connections as Admin: every connection of one environment, never a credential."""
    environment = str(call.arguments.get("environment") or call.prepared.environment)

    def read() -> list[dict[str, Any]]:
        with call.db.session() as session:
            who = standing(session, call.actor, environment)
            require_role(who.role, "admin", action="list every connection")
            return [
                {
                    "id": row.id,
                    "displayName": row.display_name,
                    "connector": row.connector.name,
                    "owner": row.owner.username,
                    "status": row.status,
                    "createdTime": _time(row.created_at),
                    "lastUsedTime": None,
                }
                for row in Connections(session).list(who.environment.id)
            ]

    return BuiltinAnswer(200, {"value": await asyncio.to_thread(read)})
