"""Webhook deliveries are claimed once: two dispatchers claiming at the same moment split the due
deliveries between them (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite),
a claim's lease hides them from others until it runs out, and then they come back."""

from __future__ import annotations

import threading
from datetime import timedelta

from tether.secrets import KeyRing
from tether.services.hosted import RetrySchedule, claim_deliveries, finish_delivery
from tether.store import Database, Environments, Events, Webhook, WebhookDelivery, Webhooks, utcnow


def _setup(db: Database, ring: KeyRing, count: int) -> None:
    with db.session() as session:
        env_id = Environments(session).add("claims", display_name="Claims").id
        hook = Webhooks(session).add(
            Webhook(
                environment_id=env_id,
                url="https://x.test/h",
                event_types=[],
                secret=ring.encrypt("whsec_AAAA"),
            )
        )
        now = utcnow()
        for n in range(count):
            session.add(
                WebhookDelivery(
                    webhook_id=hook.id, environment_id=env_id, message_id=f"msg_{n}",
                    event_type="webhook.test", payload="{}", status="pending", attempts=0,
                    next_attempt_at=now, attempts_log=[],
                )
            )  # fmt: skip


def test_two_dispatchers_claim_disjoint_deliveries_and_a_lapsed_lease_returns_them(migrated_url: str) -> None:
    ring = KeyRing.from_keys(KeyRing.generate_key())
    with Database(migrated_url) as db:
        _setup(db, ring, 30)
        barrier = threading.Barrier(2)
        claimed: list[list[str]] = [[], []]

        def claim(index: int) -> None:
            barrier.wait(timeout=30)
            found = claim_deliveries(db, ring, instance=f"d{index}", limit=30, lease=60)
            claimed[index] = [d.id for d in found]

        threads = [threading.Thread(target=claim, args=(i,)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not set(claimed[0]) & set(claimed[1])
        assert len(claimed[0]) + len(claimed[1]) == 30
        assert claim_deliveries(db, ring, instance="d2", limit=30, lease=60) == []  # leased
        later = utcnow() + timedelta(seconds=61)
        back = claim_deliveries(db, ring, instance="d3", limit=30, lease=60, now=later)
        assert len(back) == 30 and back[0].secret == "whsec_AAAA"

        schedule = RetrySchedule((1.0,), jitter=0.0)
        first = back[0].id
        common = {"error": "the receiver answered HTTP 500", "retry": True, "schedule": schedule}
        assert (
            finish_delivery(db, first, status_code=500, started=later, duration_ms=1, now=later, **common)
            == "pending"
        )
        assert (
            finish_delivery(db, first, status_code=500, started=later, duration_ms=1, now=later, **common)
            == "failed"
        )


def test_events_are_kept_thirty_days_and_at_most_n_per_environment(migrated_url: str) -> None:
    from tether.services import purge_events
    from tether.services.hosted import Subject, record_event

    with Database(migrated_url) as db:
        now = utcnow()
        with db.session() as session:
            env_id = Environments(session).add("retention", display_name="Retention").id
            subject = Subject("flow", "f1", "flow-one", None)
            for days in (40, 31, 29, 1, 0):
                at = now - timedelta(days=days)
                record_event(session, "run.failed", env_id, subject, data={"days": days}, now=at)
        assert purge_events(db, now=now) == 2  # older than 30 days
        with db.session() as session:
            left = [e.data["days"] for e in Events(session).list(env_id, limit=10)]
        assert left == [0, 1, 29]  # newest first: ids sort by time
        assert purge_events(db, now=now, keep=1) == 2
        with db.session() as session:
            assert [e.data["days"] for e in Events(session).list(env_id, limit=10)] == [0]
            since = Events(session).list(env_id, since=now - timedelta(hours=1), limit=10)
            assert [e.data["days"] for e in since] == [0]
