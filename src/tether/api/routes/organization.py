"""Sharing (access of connectors, connections and flows), groups, users and the audit log."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field

from tether import services
from tether.api._deps import CurrentPrincipal, Db
from tether.api._paging import Page, paged, paging
from tether.errors import NotFound

router = APIRouter(tags=["organization"])

_KINDS = {"connectors": "connector", "connections": "connection", "flows": "flow", "gateways": "gateway"}


class ShareRequest(BaseModel):
    grantee: str = Field(
        description="'user:NAME' (or just NAME), 'group:NAME', or 'everyone' in the environment."
    )
    permission: Literal["edit", "use", "run"] = Field(
        description=(
            "Connectors and gateways: edit (co-owner) or use. Connections: use. "
            "Flows: edit (co-owner) or run."
        )
    )


class GroupRequest(BaseModel):
    name: str = Field(description="A short name, e.g. 'sales'.")
    display_name: str | None = None


class GroupRoleRequest(BaseModel):
    group: str
    role: Literal["admin", "maker", "user"]


def _access(info: services.AccessInfo) -> dict[str, Any]:
    return asdict(info)


def _kind(collection: str) -> str:
    kind = _KINDS.get(collection)
    if kind is None:
        raise NotFound(f"No such collection {collection!r}: use connectors, connections, flows or gateways.")
    return kind


@router.get(
    "/environments/{env}/{collection}/{resource}/access",
    summary="Who may do what with a connector, connection or flow (its owner and grants)",
)
def get_access(
    env: str, collection: str, resource: str, db: Db, principal: CurrentPrincipal
) -> dict[str, Any]:
    return _access(services.resource_access(db, principal, env, _kind(collection), resource))


@router.put(
    "/environments/{env}/{collection}/{resource}/access",
    summary="Share a connector (edit/use), connection (use) or flow (edit/run) with users, groups, everyone",
)
def share(
    env: str, collection: str, resource: str, body: ShareRequest, db: Db, principal: CurrentPrincipal
) -> dict[str, Any]:
    info = services.share_resource(
        db, principal, env, _kind(collection), resource, body.grantee, body.permission
    )
    return _access(info)


@router.delete(
    "/environments/{env}/{collection}/{resource}/access/{grantee}",
    summary="Stop sharing with a grantee (effective on the next call)",
)
def unshare(
    env: str, collection: str, resource: str, grantee: str, db: Db, principal: CurrentPrincipal
) -> dict[str, Any]:
    return _access(services.unshare_resource(db, principal, env, _kind(collection), resource, grantee))


@router.get(
    "/environments/{env}/audit", summary="The environment's audit log, newest first (environment admins)"
)
def environment_audit(
    env: str,
    db: Db,
    principal: CurrentPrincipal,
    action: str | None = Query(
        None, description="An action, or a family ending with '.' such as 'connector.'"
    ),
    actor: str | None = Query(None, description="A user name."),
    target: str | None = Query(None, description="'connector:<id>', 'connection:<id>', 'flow:<id>'…"),
    since: datetime | None = None,
    until: datetime | None = None,
    page: Page = Depends(paging(default=100, maximum=1000)),
) -> dict[str, Any]:
    entries = services.list_audit(
        db,
        principal,
        env,
        action=action,
        actor=actor,
        target=target,
        since=since,
        until=until,
        limit=page.end,
    )
    return paged(entries, page, asdict)


@router.get("/audit", summary="The whole audit log, every environment and none (platform admins)")
def audit(
    db: Db,
    principal: CurrentPrincipal,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: Page = Depends(paging(default=100, maximum=1000)),
) -> dict[str, Any]:
    entries = services.list_audit(
        db,
        principal,
        None,
        action=action,
        actor=actor,
        target=target,
        since=since,
        until=until,
        limit=page.end,
    )
    return paged(entries, page, asdict)


@router.get("/users", summary="List users (platform admins)")
def list_users(db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())) -> dict[str, Any]:
    return paged(services.list_users(db, principal), page, asdict)


@router.get("/groups", summary="List groups and their members (platform admins)")
def list_groups(db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())) -> dict[str, Any]:
    return paged(services.list_groups(db, principal), page, asdict)


@router.post("/groups", status_code=status.HTTP_201_CREATED, summary="Create a group (platform admins)")
def create_group(body: GroupRequest, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.create_group(db, principal, body.name, display_name=body.display_name))


@router.delete(
    "/groups/{group}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a group (platform admins)"
)
def delete_group(group: str, db: Db, principal: CurrentPrincipal) -> None:
    services.delete_group(db, principal, group)


@router.put("/groups/{group}/members/{username}", summary="Add a user to a group (platform admins)")
def add_group_member(group: str, username: str, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.add_group_member(db, principal, group, username))


@router.delete("/groups/{group}/members/{username}", summary="Remove a user from a group (platform admins)")
def remove_group_member(group: str, username: str, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.remove_group_member(db, principal, group, username))


@router.get("/environments/{env}/groups", summary="Groups holding a role in the environment")
def environment_groups(
    env: str, db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())
) -> dict[str, Any]:
    return paged(services.list_groups(db, principal, env), page, asdict)


@router.put(
    "/environments/{env}/groups", summary="Give a group a role in the environment (environment admins)"
)
def set_group_role(env: str, body: GroupRoleRequest, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.set_group_role(db, principal, env, body.group, body.role))


@router.delete(
    "/environments/{env}/groups/{group}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take a group's role in the environment away (environment admins)",
)
def remove_group_role(env: str, group: str, db: Db, principal: CurrentPrincipal) -> None:
    services.set_group_role(db, principal, env, group, None)
