"""Connectors: upload (files or a zip), update, list, get, delete, revisions, download,
roll back and validate.

Uploads are multipart: either one ``package`` zip, or the paconn files as separate parts
named ``apiDefinition``, ``apiProperties``, ``icon`` and ``script`` (paconn's settings keys).
An update with a zip replaces the whole package; an update with parts replaces only those
files and keeps the rest of the current revision, so sending a new definition alone never
drops the connector's apiProperties.
Packages are read leniently and linted before they are stored, in upload worker processes
with a time and memory limit (``_upload_workers.py``), never on the event loop; every upload
route's request body is capped before it is read. Unreadable input is refused
(with file, line and column); lint findings do not block saving — as in Power Platform's
editor, a connector can be saved while its author fixes it — but the answer lists them.
"""

from __future__ import annotations

import functools
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tether import services
from tether.api._deps import AppSettings, CurrentPrincipal, Db, IfMatch, set_etag
from tether.api._paging import Page, paged, paging
from tether.api.routes._importing import UploadRead, read_archive, read_package, read_upload, run_importer
from tether.api.routes.connections import Keys
from tether.config import Settings
from tether.definition import (
    DEFINITION_FILE,
    ICON_FILE,
    PROPERTIES_FILE,
    SCRIPT_FILE,
    package_from_files,
)
from tether.definition.lint import PROFILES
from tether.errors import InputError
from tether.services import Principal
from tether.store import Database

router = APIRouter(tags=["connectors"])

_PART_NAMES = {
    "apiDefinition": DEFINITION_FILE,
    "apiProperties": PROPERTIES_FILE,
    "icon": ICON_FILE,
    "script": SCRIPT_FILE,
}
Upload = Annotated[UploadFile | None, File()]


class RollbackRequest(BaseModel):
    revision: int = Field(ge=1, description="The revision whose files become the new current revision.")


@router.get("/environments/{env}/connectors", summary="List connectors")
def list_connectors(
    env: str,
    db: Db,
    principal: CurrentPrincipal,
    page: Page = Depends(paging()),
    builtin: bool = Query(False, description="Also list the connectors that ship with Tether."),
) -> dict[str, Any]:
    return paged(services.list_connectors(db, principal, env, include_builtin=builtin), page, asdict)


# The connector's own OAuth app, for corpus connectors that ship a placeholder (paconn's --secret).
ClientIdForm = Annotated[str | None, Form(description="OAuth client id for every OAuth parameter")]
ClientSecretForm = Annotated[str | None, Form(description="OAuth client secret (stored as uploaded ones)")]


@router.post(
    "/environments/{env}/connectors", status_code=status.HTTP_201_CREATED, summary="Create a connector"
)
async def create_connector(
    env: str,
    request: Request,
    db: Db,
    principal: CurrentPrincipal,
    settings: AppSettings,
    keys: Keys,
    package: Upload = None,
    apiDefinition: Upload = None,
    apiProperties: Upload = None,
    icon: Upload = None,
    script: Upload = None,
    name: Annotated[str | None, Form()] = None,
    note: Annotated[str | None, Form()] = None,
    client_id: ClientIdForm = None,
    client_secret: ClientSecretForm = None,
) -> dict[str, Any]:
    parts = {"apiDefinition": apiDefinition, "apiProperties": apiProperties, "icon": icon, "script": script}
    read = await _read_package(request, package, await _read_parts(package, parts))
    # Storing writes the database: in a thread, so the event loop (and /health) never waits on it.
    connector = await run_in_threadpool(
        functools.partial(
            services.create_connector, db, principal, env, read.package, name=name, note=note,
            client_id=client_id, client_secret=client_secret, keyring=keys,
        )
    )  # fmt: skip
    oauth = await run_in_threadpool(_oauth, db, principal, env, connector.id, settings)
    return {**_with_findings(connector, read), "oauth": oauth}


@router.post(
    "/environments/{env}/connectors/import",
    status_code=status.HTTP_201_CREATED,
    summary="Create a connector from another API description",
    description="format: openapi | postman | wsdl (file), curl (command), sample (request + optional "
    "response files). The answer holds the connector, the import report and lint findings.",
)
async def import_connector(
    env: str,
    http_request: Request,
    db: Db,
    principal: CurrentPrincipal,
    keys: Keys,
    format: Annotated[str, Form(description="openapi, postman, wsdl, curl or sample")],
    file: Upload = None,
    command: Annotated[str | None, Form(description="the cURL command, for format=curl")] = None,
    request: Upload = None,
    response: Upload = None,
    name: Annotated[str | None, Form()] = None,
    fix: Annotated[bool, Form()] = False,
    mode: Annotated[str, Form(description="wsdl: soap-to-rest or passthrough")] = "soap-to-rest",
    keep_duplicates: Annotated[
        bool,
        Form(description="postman: one action per request, not one merged per method and path"),
    ] = False,
) -> dict[str, Any]:
    await run_in_threadpool(services.get_environment, db, principal, env)  # 404 before any work for outsiders
    result = await run_importer(
        http_request,
        format,
        file=file,
        command=command,
        sample_request=request,
        sample_response=response,
        fix=fix,
        mode=mode,
        keep_duplicates=keep_duplicates,
    )
    connector = await run_in_threadpool(
        functools.partial(
            services.create_connector, db, principal, env, result.package, name=name, keyring=keys
        )
    )
    return {**_with_findings(connector, result), "report": result.report}


@router.post("/environments/{env}/connectors/validate", summary="Validate a package without storing it")
async def validate_connector(
    env: str,
    request: Request,
    db: Db,
    principal: CurrentPrincipal,
    package: Upload = None,
    apiDefinition: Upload = None,
    apiProperties: Upload = None,
    profile: Annotated[str, Form()] = "custom",
) -> dict[str, Any]:
    # Membership check (validation is a maker tool too), in a thread like every database read here.
    await run_in_threadpool(services.get_environment, db, principal, env)
    if profile not in PROFILES:
        raise InputError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    files = await _read_parts(package, {"apiDefinition": apiDefinition, "apiProperties": apiProperties})
    read = await _read_package(request, package, files, profile=profile)
    return {"profile": profile, "findings": read.findings}


@router.get("/environments/{env}/connectors/{connector}", summary="Get a connector")
def get_connector(
    env: str, connector: str, db: Db, principal: CurrentPrincipal, settings: AppSettings, response: Response
) -> dict[str, Any]:
    info = services.get_connector(db, principal, env, connector)
    set_etag(response, info.id, info.updated_at)
    return {**asdict(info), "oauth": _oauth(db, principal, env, info.id, settings)}


@router.put("/environments/{env}/connectors/{connector}", summary="Update a connector (adds a revision)")
async def update_connector(
    env: str,
    connector: str,
    request: Request,
    db: Db,
    principal: CurrentPrincipal,
    settings: AppSettings,
    keys: Keys,
    response: Response,
    if_match: IfMatch = None,
    package: Upload = None,
    apiDefinition: Upload = None,
    apiProperties: Upload = None,
    icon: Upload = None,
    script: Upload = None,
    note: Annotated[str | None, Form()] = None,
    client_id: ClientIdForm = None,
    client_secret: ClientSecretForm = None,
) -> dict[str, Any]:
    parts = {"apiDefinition": apiDefinition, "apiProperties": apiProperties, "icon": icon, "script": script}
    only_oauth_app = package is None and not any(parts.values()) and (client_id or client_secret)
    files = {} if only_oauth_app else await _read_parts(package, parts)
    if package is None:
        current = await run_in_threadpool(services.get_revision_files, db, principal, env, connector)
        files = {**current, **files}
    read = await _read_package(request, package, files)
    updated = await run_in_threadpool(
        functools.partial(
            services.update_connector, db, principal, env, connector, read.package, note=note or None,
            client_id=client_id, client_secret=client_secret, keyring=keys, if_match=if_match,
        )
    )  # fmt: skip
    set_etag(response, updated.id, updated.updated_at)
    oauth = await run_in_threadpool(_oauth, db, principal, env, updated.id, settings)
    return {**_with_findings(updated, read), "oauth": oauth}


@router.delete(
    "/environments/{env}/connectors/{connector}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a connector and its revisions",
)
def delete_connector(
    env: str,
    connector: str,
    db: Db,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
    force: bool = Query(False, description="Delete even if it has connections (they go with it)."),
) -> None:
    services.delete_connector(db, principal, env, connector, force=force, if_match=if_match)


@router.get("/environments/{env}/connectors/{connector}/revisions", summary="List a connector's revisions")
def list_revisions(
    env: str, connector: str, db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())
) -> dict[str, Any]:
    return paged(services.list_revisions(db, principal, env, connector), page, asdict)


@router.get(
    "/environments/{env}/connectors/{connector}/download",
    summary="Download a revision as a zip (paconn layout)",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def download_connector(
    env: str, connector: str, db: Db, principal: CurrentPrincipal, revision: int | None = None
) -> Response:
    info = services.get_connector(db, principal, env, connector)
    files = services.get_revision_files(db, principal, env, connector, revision)
    archive = package_from_files(files, source=info.name).to_zip()
    filename = f"{info.name}-r{revision or info.current_revision}.zip"
    return Response(
        archive,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/environments/{env}/connectors/{connector}/rollback", summary="Restore an earlier revision")
def rollback_connector(
    env: str,
    connector: str,
    body: RollbackRequest,
    db: Db,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    info = services.rollback_connector(db, principal, env, connector, body.revision, if_match=if_match)
    set_etag(response, info.id, info.updated_at)
    return asdict(info)


def _oauth(
    db: Database, principal: Principal, env: str, connector: str, settings: Settings
) -> dict[str, Any] | None:
    """The redirect URL an OAuth connector's app must register, shown after every save."""
    found = services.connector_oauth(db, principal, env, connector, public_url=settings.public_url)
    return asdict(found) if found is not None else None


def _with_findings(connector: Any, read: UploadRead) -> dict[str, Any]:
    """The saved connector plus what lint said about it (in the upload worker), so the author
    sees problems at once."""
    return {**asdict(connector), "findings": read.findings}


async def _read_parts(package: UploadFile | None, parts: dict[str, UploadFile | None]) -> dict[str, bytes]:
    """The uploaded paconn parts' bytes (empty when a zip is sent), each under its byte cap."""
    if package is not None:
        return {}
    files = {_PART_NAMES[key]: await read_upload(part) for key, part in parts.items() if part is not None}
    if not files:
        raise InputError(
            "no files in the request; send a 'package' zip or the parts "
            "apiDefinition, apiProperties, icon, script"
        )
    return files


async def _read_package(
    request: Request, package: UploadFile | None, files: dict[str, bytes], *, profile: str = "custom"
) -> UploadRead:
    if package is not None:
        archive = await read_archive(package)
        return await read_package(request, archive=archive, archive_name=package.filename, profile=profile)
    return await read_package(request, files=files, profile=profile)
