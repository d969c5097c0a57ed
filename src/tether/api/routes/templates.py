"""The flow templates that ship with Tether (read by ``tether flow create --template``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from tether import services
from tether.api._deps import CurrentPrincipal

router = APIRouter(tags=["flows"])


@router.get("/flow-templates", summary="List the shipped flow templates")
def list_templates(principal: CurrentPrincipal) -> dict[str, Any]:
    return {
        "items": [
            {k: v for k, v in asdict(t).items() if k != "definition"} for t in services.list_flow_templates()
        ]
    }


@router.get("/flow-templates/{name}", summary="A shipped flow template with its definition")
def get_template(name: str, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.flow_template(name))
