"""The browser side of OAuth consent: ``/consent/{id}`` and the redirect endpoints.

These live at the site root, not under ``/api/v1``: they are what a browser opens and what the
provider redirects to (``{public_url}/redirect`` and ``{public_url}/redirect/{connector_id}``).
Answers are small HTML pages in plain words, since a person is looking at them.
``/consent/{id}`` accepts a bearer token or HTTP Basic (which browsers prompt for), so a user who
only has the link printed by ``tether connection create`` can sign in there.
"""

from __future__ import annotations

import asyncio
from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer

from tether import services
from tether.api._connector_runner import app_connector_runner
from tether.api._deps import AppSettings, Db, check_password
from tether.api.routes.connections import Keys
from tether.errors import AuthError, TetherError
from tether.services import CONSENT_COOKIE, CONSENT_RETURN_COOKIE, Principal

__all__ = ["router"]

router = APIRouter(tags=["consent"], include_in_schema=True)

_STOPPED = "This sign-in cannot continue"
_bearer = HTTPBearer(auto_error=False)
_basic = HTTPBasic(auto_error=False)


def _page(title: str, message: str, *, status_code: int = 200) -> HTMLResponse:
    body = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>Tether: {escape(title)}</title>"
        "<body style='font-family:sans-serif;max-width:40em;margin:3em auto'>"
        f"<h1>{escape(title)}</h1><p>{escape(message)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


def _browser_user(
    request: Request,
    db: Db,
    app_settings: AppSettings,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> Principal | None:
    try:
        if bearer is not None and bearer.scheme.lower() == "bearer":
            return services.authenticate_token(db, bearer.credentials)
        if basic is not None and app_settings.local_passwords:  # SSO-only servers take no password here
            return check_password(request, db, basic)
    except AuthError:
        return None
    return None


@router.get("/consent/{consent_id}", summary="Sign in to the provider for a pending connection")
def open_consent(
    consent_id: str,
    db: Db,
    settings: AppSettings,
    keys: Keys,
    user: Annotated[Principal | None, Depends(_browser_user)],
) -> Response:
    if user is None:
        page = _page("Sign in to Tether", "Sign in with your Tether user name and password to continue.")
        page.status_code = 401
        page.headers["WWW-Authenticate"] = 'Basic realm="tether", charset="UTF-8"'
        return page
    try:
        consent = services.open_consent(db, user, consent_id, keyring=keys)
    except TetherError as exc:
        return _page(_STOPPED, exc.message, status_code=exc.status)
    response = RedirectResponse(consent.authorization_url, status_code=303)
    response.set_cookie(
        CONSENT_COOKIE,
        consent.cookie,
        max_age=consent.max_age,
        path="/redirect",
        httponly=True,
        secure=settings.public_url.startswith("https://"),
        # Lax: sent on the provider's top-level redirect back to us, not on cross-site subrequests.
        samesite="lax",
    )
    return response


@router.get("/redirect", summary="OAuth redirect (Global mode)")
async def redirect_global(request: Request, db: Db, settings: AppSettings, keys: Keys) -> Response:
    return await _complete(request, db, settings.public_url, keys, "/redirect")


@router.get("/redirect/{connector_id}", summary="OAuth redirect (one per connector)")
async def redirect_connector(
    connector_id: str, request: Request, db: Db, settings: AppSettings, keys: Keys
) -> Response:
    return await _complete(request, db, settings.public_url, keys, f"/redirect/{connector_id}")


async def _complete(request: Request, db: Db, public_url: str, keys: Keys, path: str) -> Response:
    query = request.query_params
    state = query.get("state")
    if not state:
        return _page(_STOPPED, "The provider sent no state; start again.", status_code=400)
    bound = await asyncio.to_thread(
        services.read_consent_cookie, db, request.cookies.get(CONSENT_COOKIE), keyring=keys
    )
    browser, consent_id = bound if bound is not None else (None, None)
    try:
        result = await services.complete_consent(
            db,
            browser,
            state=state,
            code=query.get("code"),
            redirect_path=path,
            error=query.get("error"),
            error_description=query.get("error_description"),
            bound_consent=consent_id,
            keyring=keys,
            public_url=public_url,
            runtime=app_connector_runner(request.app).runtime,
        )
    except TetherError as exc:
        return _page(_STOPPED, exc.message, status_code=exc.status)
    back = services.safe_return_path(request.cookies.get(CONSENT_RETURN_COOKIE))
    page: Response
    if back is not None:
        # Started from a page (the portal's connection page): go back there, which shows the
        # connection's status and, after a failure, its reason.
        separator = "&" if "?" in back else "?"
        page = RedirectResponse(f"{back}{separator}consent={result.status}", status_code=303)
        page.headers["Cache-Control"] = "no-store"
    elif result.status == "connected":
        page = _page("Connected", f"'{result.connection}' is connected. You can close this window.")
    else:
        page = _page("The connection failed", result.reason or "The sign-in failed.", status_code=400)
    page.delete_cookie(CONSENT_COOKIE, path="/redirect")
    page.delete_cookie(CONSENT_RETURN_COOKIE, path="/redirect")
    return page
