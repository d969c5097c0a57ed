"""Idempotent creates and run starts: a retry with the same ``Idempotency-Key`` gets the first answer.

The API claims a key before the request runs (:func:`claim_idempotency_key`), and afterwards
either stores the answer (:func:`store_idempotent_answer`) or lets the key go
(:func:`release_idempotency_key`, after a server error, so a retry can try again). A key is
scoped to its caller and route (method and concrete path) and kept for :data:`IDEMPOTENCY_TTL`.

- The same key with the same request: the stored answer (status, body, the headers that matter).
- The same key with a different request: :class:`IdempotencyKeyReused` (422).
- The same key while the first request still runs: :class:`IdempotencyInProgress` (409, retryable;
  the caller retries after ``Retry-After`` and then gets the first answer). Exactly one creation
  happens: the claim is a row insert on a primary key, which one of two concurrent claims loses.
A claim left behind by a crashed server is taken over after :data:`IN_PROGRESS_TIMEOUT`.
Expired rows are pruned on a claim at most once per :data:`PRUNE_EVERY`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tether.errors import Conflict, InputError, TetherError
from tether.secrets import KeyRing
from tether.store import Database, IdempotencyKeys, IdempotencyRecord, utcnow

__all__ = [
    "IDEMPOTENCY_TTL",
    "IdempotencyInProgress",
    "IdempotencyKeyReused",
    "StoredAnswer",
    "claim_idempotency_key",
    "prune_idempotency_keys",
    "release_idempotency_key",
    "store_idempotent_answer",
]

IDEMPOTENCY_TTL = timedelta(hours=24)
# Longer than any create or run start takes (uploads are capped in time by their workers).
IN_PROGRESS_TIMEOUT = timedelta(minutes=5)
PRUNE_EVERY = 60.0  # seconds between prunes of expired rows, per process
MAX_KEY_LENGTH = 255
_last_prune: dict[str, float] = {}
_prune_lock = threading.Lock()


class IdempotencyKeyReused(TetherError):
    """An ``Idempotency-Key`` already used for a different request to the same route by the same caller."""

    code = "idempotency-key-reused"
    status = 422


class IdempotencyInProgress(TetherError):
    """The first request with this ``Idempotency-Key`` is still running; retry shortly for its answer."""

    code = "idempotency-in-progress"
    status = 409
    retryable = True


@dataclass(frozen=True)
class StoredAnswer:
    """The first answer to a keyed request: what a retry receives."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class _Scope:
    principal_id: str
    route: str
    key: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(f"{self.principal_id}\n{self.route}\n{self.key}".encode()).hexdigest()


def claim_idempotency_key(
    db: Database,
    principal_id: str,
    route: str,
    key: str,
    fingerprint: str,
    *,
    keyring: KeyRing,
    now: datetime | None = None,
) -> StoredAnswer | None:
    """Claim ``key`` for this request: ``None`` if the caller now holds it (run the request), or
    the first request's answer to replay. Raises :class:`IdempotencyKeyReused` or
    :class:`IdempotencyInProgress` as the module docstring says, and :class:`InputError` for a
    key that is empty, too long or not printable ASCII."""
    _check_key(key)
    now = now or utcnow()
    scope = _Scope(principal_id, route, key)
    _prune_now_and_then(db, now)
    try:
        with db.session() as session:
            keys = IdempotencyKeys(session)
            found = keys.get(scope.digest, for_update=True)
            if found is not None and _abandoned(found, now):
                keys.remove(found)
                found = None
            if found is None:
                keys.add(
                    IdempotencyRecord(
                        scope=scope.digest,
                        principal_id=principal_id,
                        route=route[:2000],
                        fingerprint=fingerprint,
                        status=None,
                        created_at=now,
                        expires_at=now + IDEMPOTENCY_TTL,
                    )
                )
                return None
            return _answer(found, fingerprint, key, keyring)
    except Conflict:
        # Another request inserted the same claim between our read and our insert (PostgreSQL).
        raise IdempotencyInProgress(_in_progress(key), detail={"retry_after": 1}) from None


def store_idempotent_answer(
    db: Database, principal_id: str, route: str, key: str, answer: StoredAnswer, *, keyring: KeyRing
) -> None:
    """Keep ``answer`` as the answer to every retry with ``key`` until the key expires."""
    with db.session() as session:
        found = IdempotencyKeys(session).get(_Scope(principal_id, route, key).digest, for_update=True)
        if found is None:  # pruned or taken over meanwhile: nothing to keep it for
            return
        found.status, found.headers = answer.status, dict(answer.headers)
        found.body = keyring.encrypt(answer.body)


def release_idempotency_key(db: Database, principal_id: str, route: str, key: str) -> None:
    """Forget a claim whose request failed on the server's side, so a retry runs it again."""
    with db.session() as session:
        keys = IdempotencyKeys(session)
        found = keys.get(_Scope(principal_id, route, key).digest, for_update=True)
        if found is not None and found.status is None:
            keys.remove(found)


def _answer(found: IdempotencyRecord, fingerprint: str, key: str, keyring: KeyRing) -> StoredAnswer:
    if found.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"the Idempotency-Key {key!r} was already used for a different request to this route; "
            "use a new key for a new request (a retry must send the same body and query)",
        )
    if found.status is None:
        raise IdempotencyInProgress(_in_progress(key), detail={"retry_after": 1})
    body = keyring.decrypt(found.body) if found.body else b""
    return StoredAnswer(found.status, dict(found.headers or {}), body)


def _in_progress(key: str) -> str:
    return (
        f"a request with the Idempotency-Key {key!r} is still running; "
        "retry in a moment to get its answer (nothing was done twice)"
    )


def _abandoned(found: IdempotencyRecord, now: datetime) -> bool:
    """Expired, or a claim whose request never finished (the server stopped while it ran)."""
    return found.expires_at <= now or (found.status is None and found.created_at + IN_PROGRESS_TIMEOUT <= now)


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InputError(
            f"the Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} printable ASCII characters "
            "(a UUID is a good choice)"
        )


def _prune_now_and_then(db: Database, now: datetime) -> None:
    """Delete expired rows, at most once a minute per database in this process."""
    url = str(db.url)
    with _prune_lock:
        due = time.monotonic() - _last_prune.get(url, float("-inf")) >= PRUNE_EVERY
        if due:
            _last_prune[url] = time.monotonic()
    if due:
        prune_idempotency_keys(db, now=now)


def prune_idempotency_keys(db: Database, *, now: datetime | None = None) -> int:
    """Delete the keys past their 24 hours (claims do this at most once a minute); how many."""
    with db.session() as session:
        return IdempotencyKeys(session).prune(now or utcnow())
