"""What the hosting layer's dispatcher needs to send webhook deliveries: claim, sign, record.

Signing follows the Standard Webhooks spec (standardwebhooks.com): three headers,
``webhook-id`` (the message id, the same on every retry and replay, so receivers de-duplicate),
``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``
(``v1,`` + base64 of HMAC-SHA256 over ``id.timestamp.body``, keyed with the base64 part of the
``whsec_`` secret). Retries follow a :class:`RetrySchedule` (exponential, with jitter); after
the last attempt a delivery is ``failed`` and stays listed for a replay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from tether.secrets import KeyRing
from tether.store import Database, Webhook, Webhooks, utcnow

__all__ = [
    "DEFAULT_RETRY_SCHEDULE",
    "DueDelivery",
    "RetrySchedule",
    "claim_deliveries",
    "finish_delivery",
    "signature_headers",
]


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Waits after each failed attempt (seconds); one more attempt than waits. ``jitter`` spreads
    each wait by up to that fraction either way, so receivers coming back are not hit at once."""

    delays: tuple[float, ...] = (10.0, 60.0, 300.0, 1800.0, 7200.0, 21600.0)
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if not self.delays or any(d < 0 for d in self.delays) or not 0 <= self.jitter < 1:
            raise ValueError("a retry schedule needs non-negative delays and a jitter in [0, 1)")

    @property
    def attempts(self) -> int:
        return len(self.delays) + 1

    def wait(self, attempt: int) -> float | None:
        """Seconds before the attempt after ``attempt`` (1-based), None when none is left."""
        if attempt > len(self.delays):
            return None
        delay = self.delays[attempt - 1]
        return delay * (1 + random.uniform(-self.jitter, self.jitter))

    @classmethod
    def parse(cls, text: str) -> RetrySchedule:
        """``"10,60,300"`` (seconds) as a schedule; how settings give it."""
        return cls(tuple(float(part) for part in text.split(",") if part.strip()))


DEFAULT_RETRY_SCHEDULE: Final = RetrySchedule()


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A claimed delivery, ready to send: the secret only for signing, never in a repr."""

    id: str
    environment_id: str
    url: str
    message_id: str
    payload: str
    attempts: int
    secret: str = field(repr=False)
    enabled: bool = True


def signature_headers(secret: str, message_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{digest}",
        "content-type": "application/json",
    }


def claim_deliveries(
    db: Database, keyring: KeyRing, *, instance: str, limit: int, lease: float, now: datetime | None = None
) -> list[DueDelivery]:
    """Claim up to ``limit`` due deliveries for ``lease`` seconds (another process skips them)."""
    now = now or utcnow()
    with db.session() as session:
        store = Webhooks(session)
        rows = store.claim_due(
            now, limit=limit, lease_until=now + timedelta(seconds=lease), instance=instance
        )
        found: list[DueDelivery] = []
        hooks: dict[str, Webhook] = {}
        for row in rows:
            hook = hooks.get(row.webhook_id) or store.get(row.webhook_id)
            if hook is None:
                continue
            hooks[row.webhook_id] = hook
            found.append(
                DueDelivery(
                    id=row.id,
                    environment_id=row.environment_id,
                    url=hook.url,
                    message_id=row.message_id,
                    payload=row.payload,
                    attempts=row.attempts,
                    secret=keyring.decrypt(hook.secret).decode(),
                    enabled=hook.enabled,
                )
            )
        return found


def finish_delivery(
    db: Database,
    delivery_id: str,
    *,
    status_code: int | None,
    error: str | None,
    retry: bool,
    schedule: RetrySchedule,
    started: datetime,
    duration_ms: float,
    now: datetime | None = None,
) -> str:
    """Record one attempt; the delivery's new status (``succeeded``, ``pending`` or ``failed``)."""
    now = now or utcnow()
    with db.session() as session:
        row = Webhooks(session).delivery(delivery_id)
        if row is None:
            return "failed"  # its subscription was deleted meanwhile
        row.attempts += 1
        row.last_attempt_at, row.response_code, row.last_error = started, status_code, error
        entry = {
            "at": started.isoformat(),
            "status": status_code,
            "error": error,
            "ms": round(duration_ms, 1),
        }
        row.attempts_log = [*row.attempts_log, entry]
        row.claimed_by = None
        succeeded = error is None and status_code is not None and 200 <= status_code < 300
        wait = schedule.wait(row.attempts) if retry and not succeeded else None
        if succeeded:
            row.status, row.next_attempt_at = "succeeded", None
        elif wait is None:
            row.status, row.next_attempt_at = "failed", None
        else:
            row.status, row.next_attempt_at = "pending", now + timedelta(seconds=wait)
        return row.status
