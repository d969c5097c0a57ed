"""Environments and their members."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from tether import services
from tether.api._deps import CurrentPrincipal, Db
from tether.api._paging import Page, paged, paging
from tether.api.routes.connections import Keys

router = APIRouter(tags=["environments"])


class EnvironmentRequest(BaseModel):
    name: str = Field(description="A short name used in URLs, e.g. 'sales-dev'.")
    display_name: str | None = None


class VariableRequest(BaseModel):
    value: str = Field(description="The value flows read with appSetting('NAME') (or parameters('NAME')).")
    secure: bool = Field(
        default=False, description="Encrypt it at rest and never show it back (keys, passwords)."
    )


class MemberRequest(BaseModel):
    username: str
    role: Literal["admin", "maker", "user"]


@router.get("/environments", summary="List the environments you are a member of")
def list_environments(db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())) -> dict[str, Any]:
    return paged(services.list_environments(db, principal), page, asdict)


@router.post("/environments", status_code=status.HTTP_201_CREATED, summary="Create an environment (admins)")
def create_environment(body: EnvironmentRequest, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.create_environment(db, principal, body.name, display_name=body.display_name))


@router.get("/environments/{env}", summary="Get an environment")
def get_environment(env: str, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.get_environment(db, principal, env))


@router.get("/environments/{env}/members", summary="List an environment's members")
def list_members(
    env: str, db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())
) -> dict[str, Any]:
    return paged(services.list_members(db, principal, env), page, asdict)


@router.put("/environments/{env}/members", summary="Add a member or change their role (environment admins)")
def add_member(env: str, body: MemberRequest, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.add_member(db, principal, env, body.username, body.role))


@router.delete(
    "/environments/{env}/members/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member (environment admins)",
)
def remove_member(env: str, username: str, db: Db, principal: CurrentPrincipal) -> None:
    services.remove_member(db, principal, env, username)


@router.get("/environments/{env}/variables", summary="List an environment's variables (secure values hidden)")
def list_variables(
    env: str, db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())
) -> dict[str, Any]:
    return paged(services.list_environment_variables(db, principal, env), page, asdict)


@router.put(
    "/environments/{env}/variables/{name}", summary="Set an environment variable (environment admins)"
)
def set_variable(
    env: str, name: str, body: VariableRequest, db: Db, principal: CurrentPrincipal, keys: Keys
) -> dict[str, Any]:
    variable = services.set_environment_variable(
        db, principal, env, name, body.value, secure=body.secure, keyring=keys
    )
    return asdict(variable)


@router.delete(
    "/environments/{env}/variables/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an environment variable (environment admins)",
)
def delete_variable(env: str, name: str, db: Db, principal: CurrentPrincipal) -> None:
    services.delete_environment_variable(db, principal, env, name)
