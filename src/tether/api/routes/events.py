"""An environment's events, its webhook subscriptions and their deliveries, and alerts by email."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field

from tether import services
from tether.api._deps import CurrentPrincipal, Db
from tether.api._paging import Page, page_answer, paged, paging
from tether.api.routes.connections import Keys

router = APIRouter(tags=["events"])

_TYPES = "Event types (repeat, or comma separated): exact, or a family ending in '.' such as 'run.'."


class WebhookRequest(BaseModel):
    url: str = Field(description="Where events are POSTed (http or https).", max_length=2000)
    event_types: list[str] = Field(
        default_factory=list, description="Which events (exact types or families such as 'run.'); empty: all."
    )
    description: str = Field(default="", max_length=500)
    enabled: bool = True


class WebhookUpdate(BaseModel):
    url: str | None = Field(default=None, max_length=2000)
    event_types: list[str] | None = None
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None


class AlertSettingsRequest(BaseModel):
    connection: str | None = Field(
        description="The id of a Mail (SMTP) connection alerts are sent through; null turns alert mails off."
    )
    digest_minutes: int = Field(
        default=services.DEFAULT_DIGEST_MINUTES,
        ge=1,
        le=7 * 24 * 60,
        description="The failure digest's window: flow owners get at most one digest per window.",
    )


class AlertRuleRequest(BaseModel):
    kind: Literal["email", "no-digest"] = Field(
        description="'email': mail me these event types; "
        "'no-digest': no failure digest (for one flow, or all)."
    )
    event_types: list[str] = Field(default_factory=list)
    flow: str | None = Field(default=None, description="'no-digest' for this flow of yours only.")


def _types(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


@router.get("/environments/{env}/events", summary="List the environment's events you may see (newest first)")
def list_events(
    env: str,
    db: Db,
    principal: CurrentPrincipal,
    type: list[str] | None = Query(None, description=_TYPES),
    since: datetime | None = Query(None, description="Only events at or after this time (ISO 8601)."),
    after: str | None = Query(
        None, description="Follow the stream: events after this event id, oldest first.", max_length=26
    ),
    page: Page = Depends(paging(default=100)),
) -> dict[str, Any]:
    items, more = services.list_events(
        db, principal, env, types=_types(type), since=since, after=after, offset=page.offset, limit=page.limit
    )
    return page_answer([asdict(item) for item in items], page, more=more)


@router.get("/environments/{env}/webhooks", summary="List webhook subscriptions (environment admins)")
def list_webhooks(
    env: str, db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())
) -> dict[str, Any]:
    return paged(services.list_webhooks(db, principal, env), page, asdict)


@router.post(
    "/environments/{env}/webhooks",
    status_code=status.HTTP_201_CREATED,
    summary="Create a webhook subscription; the answer shows its signing secret once (environment admins)",
)
def create_webhook(
    env: str, body: WebhookRequest, db: Db, principal: CurrentPrincipal, keys: Keys
) -> dict[str, Any]:
    info, secret = services.create_webhook(
        db,
        principal,
        env,
        body.url,
        keyring=keys,
        event_types=_types(body.event_types),
        description=body.description,
        enabled=body.enabled,
    )
    return {**asdict(info), "secret": secret}


@router.get("/environments/{env}/webhooks/{webhook_id}", summary="Get a webhook subscription")
def get_webhook(env: str, webhook_id: str, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.get_webhook(db, principal, env, webhook_id))


@router.patch("/environments/{env}/webhooks/{webhook_id}", summary="Change a webhook subscription")
def update_webhook(
    env: str, webhook_id: str, body: WebhookUpdate, db: Db, principal: CurrentPrincipal
) -> dict[str, Any]:
    info = services.update_webhook(
        db,
        principal,
        env,
        webhook_id,
        url=body.url,
        event_types=_types(body.event_types) if body.event_types is not None else None,
        description=body.description,
        enabled=body.enabled,
    )
    return asdict(info)


@router.delete(
    "/environments/{env}/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook subscription and its deliveries",
)
def delete_webhook(env: str, webhook_id: str, db: Db, principal: CurrentPrincipal) -> None:
    services.delete_webhook(db, principal, env, webhook_id)


@router.post(
    "/environments/{env}/webhooks/{webhook_id}/rotate-secret",
    summary="Make a new signing secret, shown once; later deliveries are signed with it",
)
def rotate_secret(
    env: str, webhook_id: str, db: Db, principal: CurrentPrincipal, keys: Keys
) -> dict[str, Any]:
    info, secret = services.rotate_webhook_secret(db, principal, env, webhook_id, keyring=keys)
    return {**asdict(info), "secret": secret}


@router.get(
    "/environments/{env}/webhooks/{webhook_id}/deliveries",
    summary="List a subscription's deliveries (newest first) with every attempt",
)
def list_deliveries(
    env: str, webhook_id: str, db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())
) -> dict[str, Any]:
    found = services.list_deliveries(db, principal, env, webhook_id, limit=page.end)
    return paged(found, page, asdict)


@router.post(
    "/environments/{env}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a delivery's event again now (same webhook-id), as a new delivery",
)
def replay_delivery(
    env: str, webhook_id: str, delivery_id: str, db: Db, principal: CurrentPrincipal
) -> dict[str, Any]:
    return asdict(services.replay_delivery(db, principal, env, webhook_id, delivery_id))


@router.post(
    "/environments/{env}/webhooks/{webhook_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a webhook.test event to this subscription",
)
def send_test_event(env: str, webhook_id: str, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.send_test_event(db, principal, env, webhook_id))


@router.get("/environments/{env}/alerts/settings", summary="The environment's alert mail settings")
def get_alert_settings(env: str, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.get_alert_settings(db, principal, env))


@router.put(
    "/environments/{env}/alerts/settings",
    summary="Name the Mail (SMTP) connection alerts go through, and the digest window (environment admins)",
)
def set_alert_settings(
    env: str, body: AlertSettingsRequest, db: Db, principal: CurrentPrincipal
) -> dict[str, Any]:
    info = services.set_alert_settings(
        db, principal, env, connection_id=body.connection, digest_minutes=body.digest_minutes
    )
    return asdict(info)


@router.get("/environments/{env}/alerts/rules", summary="Your alert rules in the environment")
def list_alert_rules(
    env: str, db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())
) -> dict[str, Any]:
    return paged(services.list_alert_rules(db, principal, env), page, asdict)


@router.post(
    "/environments/{env}/alerts/rules",
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe yourself to event types by email, or opt out of the failure digest",
)
def add_alert_rule(env: str, body: AlertRuleRequest, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    info = services.add_alert_rule(
        db, principal, env, body.kind, event_types=_types(body.event_types), flow=body.flow
    )
    return asdict(info)


@router.delete(
    "/environments/{env}/alerts/rules/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete one of your alert rules",
)
def delete_alert_rule(env: str, rule_id: str, db: Db, principal: CurrentPrincipal) -> None:
    services.delete_alert_rule(db, principal, env, rule_id)
