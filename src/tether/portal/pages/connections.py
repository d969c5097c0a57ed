"""Connections: the list, create from a connector's form, OAuth sign-in in the browser, a
connection's page (status and what to do about it, test, edit, sign in again, delete).

OAuth sign-in here is the same consent the CLI's link opens, minus the extra password prompt: the
page calls the consent services as the signed-in user, sets the consent cookie and a return cookie
(both scoped to ``/redirect``), and sends the browser to the provider; the redirect endpoint then
sends it back to the connection's page, which shows ``connected`` or the provider's reason.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tether import services
from tether.config import Settings
from tether.errors import PreconditionFailed, TetherError
from tether.portal._connection_fields import field_controls, keep_posted, posted_secrets, submitted_values
from tether.portal._deps import AppSettings, Db, Env, Keys, SignedIn
from tether.portal._deps import Runtime as ConnectorRuntime
from tether.portal._flow_editing import findings_of
from tether.portal._routing import PortalRoute
from tether.portal._stale import Stale, etag_of, posted_etag
from tether.portal._templates import render
from tether.secrets import KeyRing
from tether.services import CONSENT_COOKIE, CONSENT_RETURN_COOKIE, ConnectionInfo, EnvironmentInfo, Principal
from tether.store import Database

__all__ = ["router"]

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


def _page_of(env: str, connection_id: str) -> str:
    return f"/e/{env}/connections/{connection_id}"


def _is_users_mistake(exc: TetherError) -> bool:
    """A refusal to show on the form (bad values, conflicts); permissions and 404s get their page."""
    return exc.status < 500 and exc.status not in (401, 403, 404)


def _to_provider(consent_url: str, page: str) -> Response:
    """Send the browser on to the sign-in page of the connection's pending consent.

    A same-site GET in between, not a redirect to the provider: the CSP's ``form-action 'self'``
    applies to every redirect that follows a form's POST, so the browser would refuse one.
    """
    consent_id = consent_url.rstrip("/").rsplit("/", 1)[-1]
    return RedirectResponse(f"{page}/sign-in/{quote(consent_id, safe='')}", status_code=303)


@router.get("/e/{env}/connections")
def list_connections(request: Request, env: Env, db: Db, principal: SignedIn) -> Response:
    connections = services.list_connections(db, principal, env.name)
    connectors = services.list_connectors(db, principal, env.name)
    return render(
        request,
        "connections/list.html",
        title="Connections",
        section="connections",
        connections=connections,
        connectors=connectors,
    )


def _new_page(
    request: Request,
    env: EnvironmentInfo,
    db: Database,
    principal: Principal,
    settings: Settings,
    connector: str,
    *,
    chosen: str | None = None,
    display_name: str = "",
    findings: list[Any] | None = None,
    status: int = 200,
) -> Response:
    form = services.connection_form(db, principal, env.name, connector, public_url=settings.public_url)
    sets = [(each, field_controls(each)) for each in form.sets]
    return render(
        request,
        "connections/new.html",
        status=status,
        title=f"Connect to {form.display_name}",
        section="connections",
        form=form,
        sets=sets,
        chosen=chosen or (form.sets[0].name if form.sets else None),
        display_name=display_name,
        findings=findings or [],
    )


@router.get("/e/{env}/connections/new")
def new_connection(
    request: Request, env: Env, db: Db, principal: SignedIn, settings: AppSettings, connector: str = ""
) -> Response:
    if not connector:
        return RedirectResponse(f"/e/{env.name}/connections#new", status_code=303)
    return _new_page(request, env, db, principal, settings, connector)


@router.post("/e/{env}/connections/new")
async def create_connection(
    request: Request, env: Env, db: Db, principal: SignedIn, settings: AppSettings, keys: Keys
) -> Response:
    form = await request.form()
    return await run_in_threadpool(_create, request, env, db, principal, settings, keys, form)


def _create(
    request: Request,
    env: EnvironmentInfo,
    db: Database,
    principal: Principal,
    settings: Settings,
    keys: KeyRing,
    posted: Any,
) -> Response:
    connector = str(posted.get("connector") or "")
    chosen = str(posted.get("parameter_set") or "") or None
    display_name = str(posted.get("display_name") or "").strip()
    form = services.connection_form(db, principal, env.name, connector, public_url=settings.public_url)
    parameter_set = next((s for s in form.sets if s.name == chosen), form.sets[0] if form.sets else None)
    values = submitted_values(parameter_set, posted) if parameter_set is not None else {}
    try:
        info = services.create_connection(
            db,
            principal,
            env.name,
            connector,
            values,
            keyring=keys,
            public_url=settings.public_url,
            parameter_set=parameter_set.name if parameter_set is not None else None,
            display_name=display_name or None,
        )
    except TetherError as exc:
        if not _is_users_mistake(exc):
            raise
        return _new_page(
            request,
            env,
            db,
            principal,
            settings,
            connector,
            chosen=chosen,
            display_name=display_name,
            findings=findings_of(exc),
            status=422,
        )
    page = _page_of(env.name, info.id)
    if info.consent_url:
        return _to_provider(info.consent_url, page)
    return RedirectResponse(page + "?created=1", status_code=303)


def _connection_page(
    request: Request,
    env: EnvironmentInfo,
    db: Database,
    principal: Principal,
    connection: str,
    *,
    test: services.ConnectionTest | None = None,
    error: str | None = None,
    findings: list[Any] | None = None,
    status: int = 200,
    posted: Any = None,
    stale: Stale | None = None,
) -> Response:
    """The connection's page. After a refused edit, ``posted`` (the user's form) fills the edit
    form again and it keeps the ETag it was loaded with, or the current one after a ``stale`` save."""
    info = services.get_connection(db, principal, env.name, connection)
    edit_sets: list[Any] = []
    typed_secrets = False
    try:
        settings: Settings = request.app.state.settings
        form = services.connection_form(
            db, principal, env.name, info.connector_id, public_url=settings.public_url
        )
        edit_sets = [
            (each, field_controls(each, editing=True))
            for each in form.sets
            if each.name == info.parameter_set
        ]
        if posted is not None:
            typed_secrets = any(posted_secrets(controls, posted) for _, controls in edit_sets)
            edit_sets = [(each, keep_posted(controls, posted)) for each, controls in edit_sets]
    except TetherError:
        form = None  # an admin looking at someone's connection to a connector they cannot use
    query = request.query_params
    return render(
        request,
        "connections/show.html",
        status=status,
        title=info.display_name,
        section="connections",
        connection=info,
        form=form,
        edit_sets=edit_sets,
        mine=info.owner == principal.username,
        test=test,
        error=error,
        findings=findings or [],
        consent=query.get("consent"),
        created=query.get("created") == "1",
        edit_name=posted.get("display_name") if posted is not None else None,
        etag=(posted_etag(posted) if posted is not None else None) or etag_of(info),
        stale=stale,
        stale_secrets=typed_secrets,
    )


@router.get("/e/{env}/connections/{connection}")
def show_connection(request: Request, env: Env, connection: str, db: Db, principal: SignedIn) -> Response:
    return _connection_page(request, env, db, principal, connection)


@router.post("/e/{env}/connections/{connection}/test")
async def test_connection(
    request: Request,
    env: Env,
    connection: str,
    db: Db,
    principal: SignedIn,
    keys: Keys,
    runner: ConnectorRuntime,
) -> Response:
    form = await request.form()
    operation = str(form.get("operation") or "").strip() or None
    try:
        # The app's runner: its connection pool, as the API's and the Test tab's calls.
        result = await services.test_connection(
            db, principal, env.name, connection, keyring=keys, operation=operation, runtime=runner.runtime
        )
    except TetherError as exc:
        if not _is_users_mistake(exc):
            raise
        return await run_in_threadpool(
            _connection_page, request, env, db, principal, connection, error=exc.message, status=exc.status
        )
    return await run_in_threadpool(_connection_page, request, env, db, principal, connection, test=result)


@router.post("/e/{env}/connections/{connection}/edit")
async def edit_connection(
    request: Request,
    env: Env,
    connection: str,
    db: Db,
    principal: SignedIn,
    settings: AppSettings,
    keys: Keys,
) -> Response:
    form = await request.form()
    return await run_in_threadpool(_edit, request, env, connection, db, principal, settings, keys, form)


def _edit(
    request: Request,
    env: EnvironmentInfo,
    connection: str,
    db: Database,
    principal: Principal,
    settings: Settings,
    keys: KeyRing,
    posted: Any,
) -> Response:
    info = services.get_connection(db, principal, env.name, connection)
    form = services.connection_form(
        db, principal, env.name, info.connector_id, public_url=settings.public_url
    )
    parameter_set = next((s for s in form.sets if s.name == info.parameter_set), None)
    values = submitted_values(parameter_set, posted) if parameter_set is not None else {}
    try:
        updated = services.update_connection(
            db,
            principal,
            env.name,
            info.id,
            keyring=keys,
            public_url=settings.public_url,
            values=values or None,
            display_name=str(posted.get("display_name") or "").strip() or None,
            if_match=posted_etag(posted),
        )
    except PreconditionFailed as exc:
        stale = Stale.from_error(exc, reload_url=_page_of(env.name, info.id))
        return _connection_page(
            request, env, db, principal, connection, posted=posted, stale=stale, status=412
        )
    except TetherError as exc:
        if not _is_users_mistake(exc):
            raise
        return _connection_page(
            request, env, db, principal, connection, findings=findings_of(exc), posted=posted, status=422
        )
    if updated.consent_url:
        return _to_provider(updated.consent_url, _page_of(env.name, info.id))
    return RedirectResponse(_page_of(env.name, info.id) + "?saved=1", status_code=303)


@router.post("/e/{env}/connections/{connection}/sign-in")
def sign_in_again(
    env: Env, connection: str, db: Db, principal: SignedIn, settings: AppSettings, keys: Keys
) -> Response:
    info: ConnectionInfo = services.update_connection(
        db, principal, env.name, connection, keyring=keys, public_url=settings.public_url, reconsent=True
    )
    if not info.consent_url:
        return RedirectResponse(_page_of(env.name, info.id), status_code=303)
    return _to_provider(info.consent_url, _page_of(env.name, info.id))


@router.get("/e/{env}/connections/{connection}/sign-in/{consent_id}")
def go_sign_in(
    request: Request,
    env: Env,
    connection: str,
    consent_id: str,
    db: Db,
    principal: SignedIn,
    settings: AppSettings,
    keys: Keys,
) -> Response:
    """The page that sends the browser to the provider (a link, followed at once by portal-flows.js).

    Opening the consent mints a fresh state (the previous link stops working) and sets, scoped to
    ``/redirect``, the cookie binding this browser to the consent and the page to come back to.
    """
    info = services.get_connection(db, principal, env.name, connection)
    redirect = services.open_consent(db, principal, consent_id, keyring=keys)
    response = render(
        request,
        "connections/sign_in.html",
        title=f"Sign in for {info.display_name}",
        section="connections",
        connection=info,
        authorization_url=redirect.authorization_url,
        provider=urlsplit(redirect.authorization_url).netloc,
    )
    secure = settings.public_url.startswith("https://")
    back = _page_of(env.name, info.id)
    for name, value in ((CONSENT_COOKIE, redirect.cookie), (CONSENT_RETURN_COOKIE, back)):
        # Lax: sent on the provider's top-level redirect back to us, not on cross-site subrequests.
        response.set_cookie(
            name,
            value,
            max_age=redirect.max_age,
            path="/redirect",
            httponly=True,
            secure=secure,
            samesite="lax",
        )
    return response


@router.post("/e/{env}/connections/{connection}/delete")
def delete_connection(
    request: Request,
    env: Env,
    connection: str,
    db: Db,
    principal: SignedIn,
    etag: Annotated[str, Form()] = "",
) -> Response:
    try:
        services.delete_connection(db, principal, env.name, connection, if_match=posted_etag(etag))
    except PreconditionFailed as exc:
        stale = Stale.from_error(exc, reload_url=_page_of(env.name, connection))
        return _connection_page(request, env, db, principal, connection, stale=stale, status=412)
    return RedirectResponse(f"/e/{env.name}/connections", status_code=303)
