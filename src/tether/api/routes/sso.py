"""Single sign-on pages at the site root: ``/sso/login`` sends the browser to the OIDC provider,
``/sso/callback`` finishes the login and answers a session token (see ``services/_sso.py``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from tether import services
from tether.api._deps import AppSettings, Db
from tether.api.routes.connections import Keys

__all__ = ["router"]

router = APIRouter(tags=["sso"])


def _redirect_uri(public_url: str) -> str:
    return f"{public_url}/sso/callback"


@router.get("/sso/login", summary="Sign in with the organization's OpenID Connect provider")
async def sso_login(db: Db, settings: AppSettings, keys: Keys) -> Response:
    start = await services.begin_sso(db, settings, keys, redirect_uri=_redirect_uri(settings.public_url))
    response = RedirectResponse(start.authorization_url, status_code=303)
    response.set_cookie(
        services.SSO_COOKIE,
        start.cookie,
        max_age=int(services.SSO_TTL.total_seconds()),
        path="/sso",
        httponly=True,
        secure=settings.public_url.startswith("https://"),
        samesite="lax",  # sent on the provider's top-level redirect back, not on cross-site subrequests
    )
    return response


@router.get("/sso/callback", summary="Where the OpenID Connect provider sends the browser back")
async def sso_callback(request: Request, db: Db, settings: AppSettings, keys: Keys) -> Response:
    query = request.query_params
    login = await services.complete_sso(
        db,
        settings,
        keys,
        code=query.get("code"),
        state=query.get("state"),
        cookie=request.cookies.get(services.SSO_COOKIE),
        error=query.get("error"),
        redirect_uri=_redirect_uri(settings.public_url),
    )
    body: dict[str, Any] = {
        "token": login.token,
        "username": login.username,
        "created": login.created,
        "groups": list(login.groups),
        "expires_at": login.expires_at.isoformat() if login.expires_at else None,
        "next": "tether login --server URL --token TOKEN",
    }
    response = JSONResponse(body, headers={"Cache-Control": "no-store"})
    response.delete_cookie(services.SSO_COOKIE, path="/sso")
    return response
