"""Webhook subscriptions: environment admins send an environment's events to their own URLs.

Deliveries are signed per the Standard Webhooks spec (``_webhook_signing``), so any Standard
Webhooks or Svix library verifies them. The signing secret (``whsec_…``) is made here, shown
once (at create and at rotate), and kept as a key ring token like every other secret.
Deliveries are queued with the event (``record_event``) and sent by the hosting layer's
dispatcher through the runtime's one transport, under the environment's network policy.

Only environment admins manage subscriptions: a subscription receives every event of the
environment it asks for, whoever owns the resource.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import httpx
from sqlalchemy.orm import Session

from tether.errors import InputError, NotFound
from tether.secrets import KeyRing
from tether.services._access import Principal, Standing, require_role, standing
from tether.services._events import EventInfo, check_event_types, webhook_payload
from tether.store import AuditLog, Database, Webhook, WebhookDelivery, Webhooks, event_id, utcnow

__all__ = [
    "DeliveryInfo",
    "WebhookInfo",
    "create_webhook",
    "delete_webhook",
    "get_webhook",
    "list_deliveries",
    "list_webhooks",
    "replay_delivery",
    "rotate_webhook_secret",
    "send_test_event",
    "update_webhook",
]

_SECRET_BYTES: Final = 24
_MAX_URL: Final = 2000


@dataclass(frozen=True, slots=True)
class WebhookInfo:
    """A subscription as its readers see it (never its secret; that is shown once, apart)."""

    id: str
    environment: str
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    created_by: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryInfo:
    """One delivery: its event, where it stands, and every attempt's time, status and error."""

    id: str
    webhook_id: str
    message_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    response_code: int | None
    last_error: str | None
    attempts_log: list[dict[str, Any]]
    replay_of: str | None
    created_at: datetime


def _info(row: Webhook, environment: str) -> WebhookInfo:
    return WebhookInfo(
        id=row.id,
        environment=environment,
        url=row.url,
        event_types=list(row.event_types),
        description=row.description,
        enabled=row.enabled,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def delivery_info(row: WebhookDelivery) -> DeliveryInfo:
    """The reader's view of a delivery row."""
    return DeliveryInfo(
        id=row.id,
        webhook_id=row.webhook_id,
        message_id=row.message_id,
        event_type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status in ("pending", "delivering") else None,
        last_attempt_at=row.last_attempt_at,
        response_code=row.response_code,
        last_error=row.last_error,
        attempts_log=list(row.attempts_log or []),
        replay_of=row.replay_of,
        created_at=row.created_at,
    )


def _check_url(url: str) -> str:
    url = url.strip()
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        raise InputError(f"url: {url[:100]!r} is not a URL ({exc}); give https://host/path") from None
    if parsed.scheme not in ("http", "https") or not parsed.host or len(url) > _MAX_URL:
        raise InputError(
            f"url: {url[:100]!r} must be an absolute http(s) URL of at most {_MAX_URL} characters, "
            "e.g. https://hooks.example.com/tether"
        )
    if parsed.userinfo:
        raise InputError("url: put no user name or password in the URL; verify the signature instead")
    return url


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def _admin(session: Session, principal: Principal, environment: str, action: str) -> Standing:
    who = standing(session, principal, environment)
    require_role(who.role, "admin", action=action)
    return who


def _find(session: Session, who: Standing, webhook_id: str) -> Webhook:
    row = Webhooks(session).get(webhook_id)
    if row is None or row.environment_id != who.environment.id:
        raise NotFound(
            f"Webhook {webhook_id!r} not found in environment {who.environment.name!r} "
            "('tether webhook list' shows its subscriptions)."
        )
    return row


def _audit(session: Session, principal: Principal, action: str, row: Webhook) -> None:
    AuditLog(session).record(
        action,
        actor=principal.username,
        environment=row.environment_id,
        target=f"webhook:{row.id}",
        detail={"url": row.url, "event_types": list(row.event_types), "enabled": row.enabled},
        via=principal.via,
    )


def create_webhook(
    db: Database,
    principal: Principal,
    environment: str,
    url: str,
    *,
    keyring: KeyRing,
    event_types: Sequence[str] = (),
    description: str = "",
    enabled: bool = True,
) -> tuple[WebhookInfo, str]:
    """A new subscription and its signing secret (shown this once). Environment admins."""
    checked_url, types = _check_url(url), check_event_types(event_types)
    secret = new_secret()
    with db.session() as session:
        who = _admin(session, principal, environment, "manage webhooks")
        now = utcnow()
        row = Webhooks(session).add(
            Webhook(
                environment_id=who.environment.id,
                url=checked_url,
                event_types=types,
                description=description[:500],
                enabled=enabled,
                secret=keyring.encrypt(secret),
                created_by=principal.username,
                created_at=now,
                updated_at=now,
            )
        )
        _audit(session, principal, "webhook.create", row)
        return _info(row, who.environment.name), secret


def list_webhooks(db: Database, principal: Principal, environment: str) -> list[WebhookInfo]:
    """An environment's subscriptions, oldest first. Environment admins."""
    with db.session() as session:
        who = _admin(session, principal, environment, "see webhooks")
        rows = Webhooks(session).of_environment(who.environment.id)
        return [_info(row, who.environment.name) for row in rows]


def get_webhook(db: Database, principal: Principal, environment: str, webhook_id: str) -> WebhookInfo:
    """One subscription. Environment admins."""
    with db.session() as session:
        who = _admin(session, principal, environment, "see webhooks")
        return _info(_find(session, who, webhook_id), who.environment.name)


def update_webhook(
    db: Database,
    principal: Principal,
    environment: str,
    webhook_id: str,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookInfo:
    """Change what is given (None keeps it). Environment admins."""
    with db.session() as session:
        who = _admin(session, principal, environment, "manage webhooks")
        row = _find(session, who, webhook_id)
        if url is not None:
            row.url = _check_url(url)
        if event_types is not None:
            row.event_types = check_event_types(event_types)
        if description is not None:
            row.description = description[:500]
        if enabled is not None:
            row.enabled = enabled
        row.updated_at = utcnow()
        _audit(session, principal, "webhook.update", row)
        session.flush()
        return _info(row, who.environment.name)


def delete_webhook(db: Database, principal: Principal, environment: str, webhook_id: str) -> None:
    """Delete a subscription and its deliveries. Environment admins."""
    with db.session() as session:
        who = _admin(session, principal, environment, "manage webhooks")
        row = _find(session, who, webhook_id)
        _audit(session, principal, "webhook.delete", row)
        Webhooks(session).remove(row)


def rotate_webhook_secret(
    db: Database, principal: Principal, environment: str, webhook_id: str, *, keyring: KeyRing
) -> tuple[WebhookInfo, str]:
    """A new signing secret (shown this once); deliveries from now on are signed with it."""
    secret = new_secret()
    with db.session() as session:
        who = _admin(session, principal, environment, "manage webhooks")
        row = _find(session, who, webhook_id)
        row.secret, row.updated_at = keyring.encrypt(secret), utcnow()
        _audit(session, principal, "webhook.rotate-secret", row)
        session.flush()
        return _info(row, who.environment.name), secret


def list_deliveries(
    db: Database, principal: Principal, environment: str, webhook_id: str, *, limit: int = 200
) -> list[DeliveryInfo]:
    """A subscription's deliveries, newest first. Environment admins."""
    with db.session() as session:
        who = _admin(session, principal, environment, "see webhook deliveries")
        row = _find(session, who, webhook_id)
        return [delivery_info(d) for d in Webhooks(session).deliveries(row.id, limit=limit)]


def replay_delivery(
    db: Database, principal: Principal, environment: str, webhook_id: str, delivery_id: str
) -> DeliveryInfo:
    """Send a delivery's event again, now, as a new delivery with the same ``webhook-id``."""
    with db.session() as session:
        who = _admin(session, principal, environment, "replay webhook deliveries")
        row = _find(session, who, webhook_id)
        store = Webhooks(session)
        found = store.delivery(delivery_id)
        if found is None or found.webhook_id != row.id:
            raise NotFound(
                f"Delivery {delivery_id!r} not found for webhook {webhook_id!r} "
                "('tether webhook deliveries' lists them)."
            )
        now = utcnow()
        again = store.add_delivery(
            WebhookDelivery(
                webhook_id=row.id,
                environment_id=row.environment_id,
                message_id=found.message_id,
                event_type=found.event_type,
                payload=found.payload,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                attempts_log=[],
                replay_of=found.id,
                created_at=now,
            )
        )
        return delivery_info(again)


def send_test_event(db: Database, principal: Principal, environment: str, webhook_id: str) -> DeliveryInfo:
    """Queue a ``webhook.test`` event for this subscription only (whatever its event filter)."""
    with db.session() as session:
        who = _admin(session, principal, environment, "test webhooks")
        row = _find(session, who, webhook_id)
        now = utcnow()
        info = EventInfo(
            id=event_id(),
            type="webhook.test",
            time=now,
            environment=who.environment.name,
            subject={"kind": "webhook", "id": row.id, "name": row.description or row.url},
            actor=principal.username,
            data={"message": "A test event sent from Tether."},
        )
        delivery = Webhooks(session).add_delivery(
            WebhookDelivery(
                webhook_id=row.id,
                environment_id=row.environment_id,
                message_id=f"msg_{info.id}",
                event_type=info.type,
                payload=webhook_payload(info),
                status="pending",
                attempts=0,
                next_attempt_at=now,
                attempts_log=[],
                created_at=now,
            )
        )
        return delivery_info(delivery)


def payload_event(payload: str) -> dict[str, Any]:
    """A delivery's body read back (for the portal's and CLI's views)."""
    found: dict[str, Any] = json.loads(payload)
    return found
