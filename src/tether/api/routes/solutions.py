"""Solutions: export connectors, flows and variables as a zip; import one into another environment."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel, Field

from tether import services
from tether.api._deps import CurrentPrincipal, Db
from tether.api.routes.connections import Keys
from tether.errors import InputError

router = APIRouter(tags=["solutions"])

ZIP = "application/zip"


class ExportRequest(BaseModel):
    name: str = Field(default="solution", description="The solution's name (its zip's manifest).")
    connectors: list[str] = Field(default_factory=list, description="Connector names or ids.")
    flows: list[str] = Field(default_factory=list, description="Flow names or ids.")
    variables: list[str] = Field(default_factory=list, description="Environment variable names.")


def _mapping(raw: str | None, field: str) -> dict[str, str]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise InputError(f'\'{field}\' must be a JSON object of names to strings, e.g. {{"mail": "<id>"}}.')
    return {str(k): str(v) for k, v in value.items()}


@router.post(
    "/environments/{env}/solutions/export", summary="Export connectors, flows and variables as a zip"
)
def export_solution(env: str, body: ExportRequest, db: Db, principal: CurrentPrincipal) -> Response:
    content = services.export_solution(
        db,
        principal,
        env,
        name=body.name,
        connectors=body.connectors,
        flows=body.flows,
        variables=body.variables,
    )
    disposition = f'attachment; filename="{body.name}.zip"'
    return Response(content, media_type=ZIP, headers={"Content-Disposition": disposition})


@router.post(
    "/environments/{env}/solutions/import",
    summary="Import a solution zip (or a shipped one), all or nothing, binding its connection references",
)
def import_solution(
    env: str,
    db: Db,
    principal: CurrentPrincipal,
    keys: Keys,
    solution: Annotated[UploadFile | None, File(description="The solution zip.")] = None,
    builtin: Annotated[
        str | None, Form(description="A shipped solution instead: redirect-uri-audit.")
    ] = None,
    connections: Annotated[str | None, Form(description='JSON {"reference": "connection id"}.')] = None,
    variables: Annotated[str | None, Form(description='JSON {"NAME": "value"}.')] = None,
) -> dict[str, Any]:
    if (solution is None) == (builtin is None):
        raise InputError("Send one of: a 'solution' zip file, or 'builtin' with a shipped solution's name.")
    content = services.builtin_solution(builtin) if builtin else solution.file.read()  # type: ignore[union-attr]
    report = services.import_solution(
        db,
        principal,
        env,
        content,
        connections=_mapping(connections, "connections"),
        variables=_mapping(variables, "variables"),
        keyring=keys,
    )
    return asdict(report)


@router.get("/solutions/builtin/{name}", summary="Download a solution that ships with Tether")
def shipped_solution(name: str, principal: CurrentPrincipal) -> Response:
    disposition = f'attachment; filename="{name}.zip"'
    return Response(
        services.builtin_solution(name), media_type=ZIP, headers={"Content-Disposition": disposition}
    )
