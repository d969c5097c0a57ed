"""Connector pages: the list (search and filters), detail with revisions, the side-by-side diff
of two revisions, rollback, download (paconn zip) and delete."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tether import services
from tether.definition import ICON_FILE, package_from_files
from tether.errors import InputError, PermissionDenied, PreconditionFailed, TetherError
from tether.portal._deps import Db, Env, SignedIn
from tether.portal._diff import side_by_side
from tether.portal._routing import PortalRoute
from tether.portal._stale import Stale, etag_of, posted_etag
from tether.portal._summaries import AUTH_LABELS, UNREADABLE, ConnectorSummary, SummaryCache, summarize
from tether.portal._templates import render
from tether.services import ConnectorInfo, EnvironmentInfo, Principal
from tether.store import Database

__all__ = ["connector_summary", "connector_url", "router"]

router = APIRouter(route_class=PortalRoute, include_in_schema=False)
PAGE_SIZE = 60


def _cache(request: Request) -> SummaryCache:
    state = request.app.state
    if getattr(state, "portal_summaries", None) is None:
        state.portal_summaries = SummaryCache()
    cache: SummaryCache = state.portal_summaries
    return cache


def _directory(request: Request, db: Database) -> services.ConnectorDirectory:
    state = request.app.state
    if getattr(state, "portal_directory", None) is None:
        state.portal_directory = services.ConnectorDirectory(db)
    directory: services.ConnectorDirectory = state.portal_directory
    return directory


def connector_summary(
    request: Request, db: Database, principal: Principal, env: str, info: ConnectorInfo
) -> ConnectorSummary:
    """The (cached) summary of the connector's current revision; blank for callers who cannot read files."""
    cache = _cache(request)
    key = (info.id, info.current_revision)
    found = cache.get(key)
    if found is None:
        try:
            found = summarize(services.get_revision_files(db, principal, env, info.id, info.current_revision))
        except PermissionDenied:
            return UNREADABLE
        cache.put(key, found)
    return found


def connector_url(env: EnvironmentInfo | str, name: str) -> str:
    env_name = env if isinstance(env, str) else env.name
    return f"/e/{quote(env_name, safe='')}/connectors/{quote(name, safe='')}"


@router.get("/e/{env}/connectors")
def list_connectors(
    request: Request,
    env: Env,
    db: Db,
    principal: SignedIn,
    q: str = "",
    auth: str = "",
    owner: str = "",
    page: int = 1,
) -> Response:
    connectors = _directory(request, db).list(principal, env.name)
    owners = sorted({info.created_by for info in connectors if info.created_by})
    needle = q.strip().lower()
    chosen = [info for info in connectors if not owner or info.created_by == owner]

    def summary(info: ConnectorInfo) -> ConnectorSummary:
        return connector_summary(request, db, principal, env.name, info)

    if needle or auth:
        # Description and auth type live in the packages: these filters summarise every connector
        # (once per revision, then cached); the plain list only summarises the page it shows.
        chosen = [
            info
            for info in chosen
            if (not auth or auth in summary(info).auth_types)
            and (
                not needle
                or needle in info.name.lower()
                or needle in info.display_name.lower()
                or needle in summary(info).description.lower()
            )
        ]
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = [(info, summary(info)) for info in chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]

    return render(
        request,
        "connectors/list.html",
        title="Connectors",
        section="connectors",
        rows=shown,
        total=len(connectors),
        matched=len(chosen),
        q=q,
        auth=auth,
        owner=owner,
        owners=owners,
        auth_labels=AUTH_LABELS,
        page=page,
        pages=pages,
        connector_url=connector_url,
    )


@router.get("/e/{env}/connectors/{connector}/icon")
def icon(env: Env, connector: str, db: Db, principal: SignedIn, revision: int | None = None) -> Response:
    files = services.get_revision_files(db, principal, env.name, connector, revision)
    data = files.get(ICON_FILE)
    if data is None:
        return Response(status_code=404)
    media = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    # Private: the icon belongs to a connector only some users may see.
    return Response(data, media_type=media, headers={"Cache-Control": "private, max-age=300"})


@router.get("/e/{env}/connectors/{connector}")
def detail(request: Request, env: Env, connector: str, db: Db, principal: SignedIn) -> Response:
    return _detail_page(request, env, connector, db, principal, message=request.query_params.get("done"))


def _detail_page(
    request: Request,
    env: EnvironmentInfo,
    connector: str,
    db: Database,
    principal: Principal,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The connector's page; its rollback and delete forms carry its ETag (``stale``: the banner)."""
    info = services.get_connector(db, principal, env.name, connector)
    revisions = services.list_revisions(db, principal, env.name, connector)
    summary = connector_summary(request, db, principal, env.name, info)
    extra["etag"] = extra.get("etag") or etag_of(info)
    return render(
        request,
        "connectors/detail.html",
        status=status,
        title=info.display_name,
        section="connectors",
        info=info,
        summary=summary,
        revisions=list(reversed(revisions)),
        url=connector_url(env, info.name),
        **extra,
    )


def _stale_detail(
    request: Request,
    env: EnvironmentInfo,
    connector: str,
    db: Database,
    principal: Principal,
    exc: PreconditionFailed,
) -> Response:
    stale = Stale.from_error(exc, reload_url=connector_url(env, connector))
    return _detail_page(request, env, connector, db, principal, status=412, stale=stale)


@router.get("/e/{env}/connectors/{connector}/diff")
def diff(
    request: Request, env: Env, connector: str, db: Db, principal: SignedIn, left: int = 0, right: int = 0
) -> Response:
    info = services.get_connector(db, principal, env.name, connector)
    right = right or info.current_revision
    left = left or max(1, right - 1)
    old = services.get_revision_files(db, principal, env.name, connector, left)
    new = services.get_revision_files(db, principal, env.name, connector, right)
    files = []
    for name in sorted(set(old) | set(new)):
        if name == ICON_FILE:
            changed = old.get(name) != new.get(name)
            files.append({"name": name, "binary": True, "changed": changed, "rows": []})
            continue
        rows = side_by_side(_text(name, old.get(name)), _text(name, new.get(name)))
        files.append(
            {"name": name, "binary": False, "changed": any(r.kind != "same" for r in rows), "rows": rows}
        )
    revisions = services.list_revisions(db, principal, env.name, connector)
    return render(
        request,
        "connectors/diff.html",
        title=f"{info.display_name}: revision {left} ↔ {right}",
        section="connectors",
        info=info,
        left=left,
        right=right,
        files=files,
        revisions=revisions,
        url=connector_url(env, info.name),
    )


def _text(name: str, raw: bytes | None) -> str:
    """The file as lines; JSON re-indented (key order kept) so a one-line upload still diffs by line."""
    if raw is None:
        return ""
    text = raw.decode("utf-8", errors="replace")
    if name.endswith(".json"):
        with contextlib.suppress(ValueError):  # not JSON: shown as uploaded, still diffed by line
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    return text


@router.post("/e/{env}/connectors/{connector}/rollback")
def rollback(
    request: Request,
    env: Env,
    connector: str,
    db: Db,
    principal: SignedIn,
    revision: Annotated[str, Form()] = "",
    etag: Annotated[str, Form()] = "",
) -> Response:
    if not revision.isdigit():
        raise InputError("Choose the revision to restore.")
    try:
        info = services.rollback_connector(
            db, principal, env.name, connector, int(revision), if_match=posted_etag(etag)
        )
    except PreconditionFailed as exc:
        return _stale_detail(request, env, connector, db, principal, exc)
    done = quote(f"Revision {revision} restored as revision {info.current_revision}.")
    return RedirectResponse(f"{connector_url(env, info.name)}?done={done}", status_code=303)


@router.get("/e/{env}/connectors/{connector}/download")
def download(env: Env, connector: str, db: Db, principal: SignedIn, revision: int | None = None) -> Response:
    info = services.get_connector(db, principal, env.name, connector)
    files = services.get_revision_files(db, principal, env.name, connector, revision)
    archive = package_from_files(files, source=info.name).to_zip()
    filename = f"{info.name}-r{revision or info.current_revision}.zip"
    return Response(
        archive,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/e/{env}/connectors/{connector}/delete")
def delete(
    request: Request,
    env: Env,
    connector: str,
    db: Db,
    principal: SignedIn,
    force: Annotated[str, Form()] = "",
    etag: Annotated[str, Form()] = "",
) -> Response:
    loaded = posted_etag(etag)
    try:
        services.delete_connector(db, principal, env.name, connector, force=force == "yes", if_match=loaded)
    except PreconditionFailed as exc:
        return _stale_detail(request, env, connector, db, principal, exc)
    except TetherError as exc:
        if exc.status != 409:
            raise
        # The connector is unchanged: the form asking for force keeps the ETag it was loaded with.
        return _detail_page(
            request,
            env,
            connector,
            db,
            principal,
            status=409,
            error=exc.message,
            confirm_force=True,
            etag=loaded,
        )
    return RedirectResponse(f"/e/{quote(env.name, safe='')}/connectors", status_code=303)
