"""Idempotency keys in the store: replay, reuse, expiry after 24 h, pruning, and release."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tether import services
from tether.errors import InputError
from tether.secrets import KeyRing
from tether.store import Database, IdempotencyRecord, utcnow

RING = KeyRing.from_keys(KeyRing.generate_key())
ROUTE = "POST /api/v1/environments/default/flows"


def _count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0)


def test_a_key_replays_its_answer_for_24_hours_then_is_new_again(db: Database) -> None:
    now = utcnow()
    assert services.claim_idempotency_key(db, "u1", ROUTE, "k", "f1", keyring=RING, now=now) is None
    answer = services.StoredAnswer(201, {"content-type": "application/json"}, b'{"token": "tth_secret"}')
    services.store_idempotent_answer(db, "u1", ROUTE, "k", answer, keyring=RING)
    with db.session() as session:
        stored = session.scalars(select(IdempotencyRecord)).one()
        assert b"tth_secret" not in stored.body.encode()  # sealed at rest: answers may hold secrets
    later = now + timedelta(hours=23)
    assert services.claim_idempotency_key(db, "u1", ROUTE, "k", "f1", keyring=RING, now=later) == answer
    with pytest.raises(services.IdempotencyKeyReused):
        services.claim_idempotency_key(db, "u1", ROUTE, "k", "other", keyring=RING, now=later)
    expired = now + services.IDEMPOTENCY_TTL + timedelta(seconds=1)
    assert services.claim_idempotency_key(db, "u1", ROUTE, "k", "other", keyring=RING, now=expired) is None


def test_in_progress_claims_block_retries_until_released(db: Database) -> None:
    assert services.claim_idempotency_key(db, "u1", ROUTE, "k", "f", keyring=RING) is None
    with pytest.raises(services.IdempotencyInProgress):
        services.claim_idempotency_key(db, "u1", ROUTE, "k", "f", keyring=RING)
    assert services.claim_idempotency_key(db, "u2", ROUTE, "k", "f", keyring=RING) is None  # per caller
    services.release_idempotency_key(db, "u1", ROUTE, "k")  # the first request failed (5xx)
    assert services.claim_idempotency_key(db, "u1", ROUTE, "k", "f", keyring=RING) is None


def test_expired_rows_are_pruned(db: Database) -> None:
    long_ago = utcnow() - timedelta(days=3)
    for key in ("a", "b"):
        services.claim_idempotency_key(db, "u1", ROUTE, key, "f", keyring=RING, now=long_ago)
    assert _count(db) == 2
    services.claim_idempotency_key(db, "u1", ROUTE, "c", "f", keyring=RING)  # claims prune once a minute
    assert services.prune_idempotency_keys(db) == 2
    assert _count(db) == 1


def test_a_key_must_be_printable_ascii_of_bounded_length() -> None:
    for bad in ("", "k" * 256, "clé", "a\tb"):
        with pytest.raises(InputError, match="Idempotency-Key"):
            services.claim_idempotency_key(None, "u1", ROUTE, bad, "f", keyring=RING)  # type: ignore[arg-type]
