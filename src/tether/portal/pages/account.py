"""Sign in, sign out, the home redirect, and the user's page with personal access tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tether import services
from tether.errors import AuthError, InputError, TetherError
from tether.portal._deps import AppSettings, Db, SignedIn
from tether.portal._routing import PortalRoute
from tether.portal._session import SESSION_TOKEN_NAME, current_principal, end_session, start_session
from tether.portal._templates import render

__all__ = ["router"]

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect to another site after sign-in."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/")
async def home(request: Request, db: Db, principal: SignedIn) -> Response:
    """The first environment the user belongs to, the default one preferred."""
    environments = await run_in_threadpool(services.list_environments, db, principal)
    if not environments:
        return render(
            request,
            "no_environment.html",
            title="No environment yet",
        )
    names = [e.name for e in environments]
    first = services.DEFAULT_ENVIRONMENT if services.DEFAULT_ENVIRONMENT in names else names[0]
    return RedirectResponse(f"/e/{first}/connectors", status_code=303)


@router.get("/login")
async def login_page(request: Request, settings: AppSettings, next: str | None = None) -> Response:
    try:
        await current_principal(request)
        return RedirectResponse(_safe_next(next), status_code=303)
    except AuthError:
        pass
    return render(
        request,
        "login.html",
        title="Sign in",
        next=_safe_next(next),
        local_passwords=settings.local_passwords,
    )


@router.post("/login")
async def login(
    request: Request,
    db: Db,
    settings: AppSettings,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    def fail(message: str, status: int) -> Response:
        return render(
            request,
            "login.html",
            status=status,
            title="Sign in",
            next=_safe_next(next),
            error=message,
            username=username,
            local_passwords=settings.local_passwords,
        )

    if not settings.local_passwords:
        return fail("Passwords are turned off on this server: sign in with single sign-on.", 400)
    if not username.strip() or not password:
        return fail("Enter your user name and your password.", 400)
    try:
        principal = await run_in_threadpool(
            services.authenticate_password,
            db,
            username,
            password,
            throttle=getattr(request.app.state, "login_throttle", None),
            address=request.client.host if request.client else None,
        )
    except TetherError as exc:  # wrong password (401) or throttled (429): shown on the form
        return fail(exc.message, exc.status)
    response = RedirectResponse(_safe_next(next), status_code=303)
    await run_in_threadpool(start_session, request, response, principal, settings)
    return response


@router.post("/logout")
async def logout(request: Request, principal: SignedIn) -> Response:
    response = RedirectResponse("/login", status_code=303)
    await run_in_threadpool(end_session, request, response, principal)
    return response


@router.get("/me")
def me(request: Request, db: Db, principal: SignedIn) -> Response:
    return _me_page(request, db, principal)


def _me_page(request: Request, db: Db, principal: SignedIn, **extra: Any) -> Response:
    user = services.get_user(db, principal, principal.username)
    tokens = [t for t in services.list_tokens(db, principal) if t.name != SESSION_TOKEN_NAME]
    sessions = [t for t in services.list_tokens(db, principal) if t.name == SESSION_TOKEN_NAME and t.active]
    request.state.environments = services.list_environments(db, principal)
    return render(
        request, "me.html", title="Your account", user=user, tokens=tokens, sessions=sessions, **extra
    )


@router.post("/me/tokens")
def create_token(
    request: Request,
    db: Db,
    principal: SignedIn,
    name: Annotated[str, Form()] = "",
    expires_in_days: Annotated[str, Form()] = "",
) -> Response:
    try:
        days = int(expires_in_days) if expires_in_days.strip() else None
        if days is not None and not 1 <= days <= 3650:
            raise InputError("The lifetime is a number of days from 1 to 3650, or empty for no expiry.")
        if name.strip() == SESSION_TOKEN_NAME:
            raise InputError(f"'{SESSION_TOKEN_NAME}' is reserved for browser sessions: choose another name.")
        token, info = services.create_token(
            db, principal, name, expires_in=timedelta(days=days) if days else None
        )
    except ValueError:
        return _me_page(request, db, principal, error="The lifetime must be a whole number of days.")
    except InputError as exc:
        return _me_page(request, db, principal, error=exc.message, name=name)
    return _me_page(request, db, principal, new_token=token, new_token_name=info.name)


@router.post("/me/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: str, db: Db, principal: SignedIn) -> Response:
    services.revoke_token(db, principal, token_id)
    return RedirectResponse("/me", status_code=303)


@router.get("/switch")
def switch_environment(principal: SignedIn, env: str = "") -> Response:
    """The environment picker's target (works without JavaScript: a GET form)."""
    name = env.strip() or services.DEFAULT_ENVIRONMENT
    return RedirectResponse(f"/e/{quote(name, safe='')}/connectors", status_code=303)
