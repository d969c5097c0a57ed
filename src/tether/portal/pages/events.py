"""The environment's events (everyone: what they may see), and its webhook subscriptions with
their deliveries (environment admins: create, test, replay, rotate the secret, delete).

Every decision is the services' (``list_events``, ``list_webhooks``…); a signing secret is shown
on the page that made it, once, and never again. Forms carry the CSRF field like every other.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tether import services
from tether.errors import InputError
from tether.portal._deps import Db, Env, Keys, SignedIn
from tether.portal._routing import PortalRoute
from tether.portal._templates import render
from tether.services import EnvironmentInfo, Principal
from tether.store import Database

__all__ = ["router"]

router = APIRouter(route_class=PortalRoute, include_in_schema=False)
_PAGE = 100


@router.get("/e/{env}/events")
def list_events(request: Request, env: Env, db: Db, principal: SignedIn, type: str = "") -> Response:
    types = [t.strip() for t in type.split(",") if t.strip()]
    error = None
    try:
        events, more = services.list_events(db, principal, env.name, types=types, limit=_PAGE)
    except InputError as exc:
        events, more, error = [], False, exc.message
    return render(
        request,
        "events/list.html",
        title=f"Events of {env.display_name}",
        section="events",
        events=events,
        more=more,
        type=type,
        error=error,
        types=services.EVENT_TYPES,
    )


def _webhooks_page(
    request: Request,
    db: Database,
    principal: Principal,
    env: EnvironmentInfo,
    *,
    secret: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    hooks = services.list_webhooks(db, principal, env.name)  # environment admins: others get 403
    deliveries = {h.id: services.list_deliveries(db, principal, env.name, h.id, limit=20) for h in hooks}
    return render(
        request,
        "events/webhooks.html",
        status=status,
        title=f"Webhooks of {env.display_name}",
        section="events",
        hooks=hooks,
        deliveries=deliveries,
        secret=secret,
        error=error,
        types=services.EVENT_TYPES,
    )


@router.get("/e/{env}/webhooks")
def webhooks(request: Request, env: Env, db: Db, principal: SignedIn) -> Response:
    return _webhooks_page(request, db, principal, env)


@router.post("/e/{env}/webhooks")
def create_webhook(
    request: Request,
    env: Env,
    db: Db,
    principal: SignedIn,
    keys: Keys,
    url: Annotated[str, Form()],
    event_types: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    types = [t.strip() for t in event_types.replace(",", " ").split() if t.strip()]
    try:
        _info, secret = services.create_webhook(
            db, principal, env.name, url, keyring=keys, event_types=types, description=description
        )
    except InputError as exc:
        return _webhooks_page(request, db, principal, env, error=exc.message, status=exc.status)
    return _webhooks_page(request, db, principal, env, secret=secret, status=201)


@router.post("/e/{env}/webhooks/{webhook_id}/rotate-secret")
def rotate_secret(
    request: Request, env: Env, webhook_id: str, db: Db, principal: SignedIn, keys: Keys
) -> Response:
    _info, secret = services.rotate_webhook_secret(db, principal, env.name, webhook_id, keyring=keys)
    return _webhooks_page(request, db, principal, env, secret=secret)


@router.post("/e/{env}/webhooks/{webhook_id}/test")
def test_webhook(env: Env, webhook_id: str, db: Db, principal: SignedIn) -> Response:
    services.send_test_event(db, principal, env.name, webhook_id)
    return RedirectResponse(f"/e/{env.name}/webhooks#hook-{webhook_id}", status_code=303)


@router.post("/e/{env}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay")
def replay(env: Env, webhook_id: str, delivery_id: str, db: Db, principal: SignedIn) -> Response:
    services.replay_delivery(db, principal, env.name, webhook_id, delivery_id)
    return RedirectResponse(f"/e/{env.name}/webhooks#hook-{webhook_id}", status_code=303)


@router.post("/e/{env}/webhooks/{webhook_id}/delete")
def delete_webhook(env: Env, webhook_id: str, db: Db, principal: SignedIn) -> Response:
    services.delete_webhook(db, principal, env.name, webhook_id)
    return RedirectResponse(f"/e/{env.name}/webhooks", status_code=303)
