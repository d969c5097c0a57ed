"""Governance for admins: the custom-connector inventory (auth types, redirect modes, creators)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query

from tether import services
from tether.api._deps import CurrentPrincipal, Db

router = APIRouter(tags=["admin"])

_AUTH = Query(None, alias="authType", description="none, apiKey, basic or oauth2.")
_MODE = Query(None, alias="redirectMode", description="Global, GlobalPerConnector or Direct.")
_CREATOR = Query(None, description="A creator's user name or email.")
_SKIP = Query(0, ge=0, description="How many matching connectors to skip.")
_TOP = Query(100, ge=1, le=500, description="At most this many connectors.")


def _page(page: services.InventoryPage) -> dict[str, Any]:
    return {
        "items": [asdict(item) for item in page.items],
        "total": page.total,
        "skip": page.skip,
        "top": page.top,
    }


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
    skip: int = _SKIP,
    top: int = _TOP,
) -> dict[str, Any]:
    page = services.list_connector_inventory(
        db,
        principal,
        env,
        auth_type=auth_type,
        redirect_mode=redirect_mode,
        creator=creator,
        skip=skip,
        top=top,
    )
    return _page(page)


@router.get("/admin/connectors", summary="Every environment's custom connectors (platform admins)")
def inventory(
    db: Db,
    principal: CurrentPrincipal,
    auth_type: str | None = _AUTH,
    redirect_mode: str | None = _MODE,
    creator: str | None = _CREATOR,
    skip: int = _SKIP,
    top: int = _TOP,
) -> dict[str, Any]:
    page = services.list_connector_inventory(
        db,
        principal,
        None,
        auth_type=auth_type,
        redirect_mode=redirect_mode,
        creator=creator,
        skip=skip,
        top=top,
    )
    return _page(page)
