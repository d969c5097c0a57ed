"""Administration: users and environments (platform admins), an environment's settings and every
connector with its OAuth redirect mode (the environment's admins).

Who may open what is decided by the services (``list_users``, ``environment_overview``,
``set_environment_settings``); these pages only show their answer, a 403 page included.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tether import services
from tether.errors import InputError, PreconditionFailed, TetherError
from tether.portal._deps import AppSettings, Db, SignedIn
from tether.portal._routing import PortalRoute
from tether.portal._stale import Stale, posted_etag
from tether.portal._templates import render
from tether.services import Principal
from tether.store import Database

__all__ = ["router"]

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


@router.get("/admin")
def admin_home(request: Request, db: Db, principal: SignedIn) -> Response:
    users = services.list_users(db, principal)  # platform admins only: others get the 403 page
    environments = services.list_environments(db, principal)
    request.state.environments = environments
    return render(
        request,
        "admin/home.html",
        title="Administration",
        section="admin",
        users=users,
        environments=environments,
    )


def _environment_page(
    request: Request,
    db: Database,
    principal: Principal,
    env: str,
    *,
    error: str | None = None,
    saved: bool = False,
    status: int = 200,
    kept: dict[str, str] | None = None,
    stale: Stale | None = None,
) -> Response:
    """The environment's page; after a refused save, ``kept`` is the user's input (with the ETag
    it was loaded with) shown again, and ``stale`` the banner of a save someone else beat."""
    settings = request.app.state.settings
    overview = services.environment_overview(db, principal, env, public_url=settings.public_url)
    request.state.environments = services.list_environments(db, principal)
    return render(
        request,
        "admin/environment.html",
        status=status,
        title=f"Administration of {overview.display_name}",
        section="admin",
        overview=overview,
        error=error,
        saved=saved,
        kept=kept,
        etag=(kept or {}).get("etag") or overview.settings.etag,
        stale=stale,
    )


@router.get("/admin/environments/{env}")
def environment(request: Request, env: str, db: Db, principal: SignedIn, saved: str = "") -> Response:
    return _environment_page(request, db, principal, env, saved=saved == "1")


@router.post("/admin/environments/{env}/settings")
def save_settings(
    request: Request,
    env: str,
    db: Db,
    principal: SignedIn,
    settings: AppSettings,
    network_allow: Annotated[str, Form()] = "",
    enforcement: Annotated[str, Form()] = "",
    etag: Annotated[str, Form()] = "",
) -> Response:
    kept = {"network_allow": network_allow, "enforcement": enforcement, "etag": etag}
    try:
        day = date.fromisoformat(enforcement.strip()) if enforcement.strip() else None
    except ValueError:
        return _environment_page(
            request,
            db,
            principal,
            env,
            error="The enforcement date is a day like 2026-12-31, or empty.",
            status=422,
            kept=kept,
        )
    allow = [line.strip() for line in network_allow.replace(",", "\n").splitlines() if line.strip()]
    try:
        services.set_environment_settings(
            db,
            principal,
            env,
            network_allow=allow,
            oauth_global_redirect_enforcement=day,
            if_match=posted_etag(etag),
        )
    except PreconditionFailed as exc:
        stale = Stale.from_error(exc, reload_url=f"/admin/environments/{env}")
        return _environment_page(request, db, principal, env, status=412, kept=kept, stale=stale)
    except InputError as exc:
        return _environment_page(request, db, principal, env, error=exc.message, status=exc.status, kept=kept)
    except TetherError:
        raise
    return RedirectResponse(f"/admin/environments/{env}?saved=1", status_code=303)
