"""The flow templates that ship with Tether (read by ``tether flow create --template``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends

from tether import services
from tether.api._deps import CurrentPrincipal
from tether.api._paging import Page, paged, paging

router = APIRouter(tags=["flows"])


@router.get("/flow-templates", summary="List the shipped flow templates")
def list_templates(principal: CurrentPrincipal, page: Page = Depends(paging())) -> dict[str, Any]:
    return paged(
        services.list_flow_templates(),
        page,
        lambda t: {k: v for k, v in asdict(t).items() if k != "definition"},
    )


@router.get("/flow-templates/{name}", summary="A shipped flow template with its definition")
def get_template(name: str, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.flow_template(name))
