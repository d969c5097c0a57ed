"""Governance for admins: the custom-connector inventory (auth types, redirect modes, creators)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Query

from tether import services
from tether.api._deps import CurrentPrincipal, Db
from tether.api._paging import Page, page_answer, paging

router = APIRouter(tags=["admin"])

_AUTH = Query(None, alias="authType", description="none, apiKey, basic or oauth2.")
_MODE = Query(None, alias="redirectMode", description="Global, GlobalPerConnector or Direct.")
_CREATOR = Query(None, description="A creator's user name or email.")
_PAGING = paging(default=100, maximum=500)


def _page(found: services.InventoryPage, page: Page) -> dict[str, Any]:
    """The shared list answer (``items``, ``next``, ``next_cursor``) and how many match in all."""
    more = found.total > page.offset + len(found.items)
    return {**page_answer([asdict(item) for item in found.items], page, more=more), "total": found.total}


@router.get(
    "/environments/{env}/admin/connectors",
    summary="The environment's custom connectors with auth types and redirect modes (environment admins)",
)
def environment_inventory(
    env: str,
    db: Db,
    principal: CurrentPrincipal,
    auth_type: str | None = _AUTH,
    redirect_mode: str | None = _MODE,
    creator: str | None = _CREATOR,
    page: Page = Depends(_PAGING),
) -> dict[str, Any]:
    found = services.list_connector_inventory(
        db,
        principal,
        env,
        auth_type=auth_type,
        redirect_mode=redirect_mode,
        creator=creator,
        skip=page.offset,
        top=page.limit,
    )
    return _page(found, page)


@router.get("/admin/connectors", summary="Every environment's custom connectors (platform admins)")
def inventory(
    db: Db,
    principal: CurrentPrincipal,
    auth_type: str | None = _AUTH,
    redirect_mode: str | None = _MODE,
    creator: str | None = _CREATOR,
    page: Page = Depends(_PAGING),
) -> dict[str, Any]:
    found = services.list_connector_inventory(
        db,
        principal,
        None,
        auth_type=auth_type,
        redirect_mode=redirect_mode,
        creator=creator,
        skip=page.offset,
        top=page.limit,
    )
    return _page(found, page)
