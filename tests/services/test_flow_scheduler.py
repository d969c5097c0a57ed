"""The Recurrence scheduler fires every tick exactly once, even with two schedulers on one database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from tether.hosting import RecurrenceScheduler
from tether.services import create_flow, list_runs, set_flow_enabled
from tether.store import Database, Flows, FlowTick

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _every(seconds: int) -> dict[str, Any]:
    return {
        "triggers": {
            "tick": {
                "type": "Recurrence",
                "recurrence": {
                    "frequency": "Second",
                    "interval": seconds,
                    "startTime": "2026-03-01T12:00:00Z",
                },
            }
        },
        "actions": {"A": {"type": "Compose", "inputs": "@trigger()['scheduledTime']"}},
    }


def test_two_schedulers_fire_each_tick_once(db, migrated_url, team, admin) -> None:
    flows = [create_flow(db, admin, team, _every(seconds), name=f"every-{seconds}") for seconds in (1, 3)]
    with db.session() as session:  # start the schedule at a known time instead of "now"
        for flow in flows:
            Flows(session).get(flow.id).next_fire_at = START  # type: ignore[union-attr]
    submitted: list[str] = []
    other = Database(migrated_url)
    schedulers = [
        RecurrenceScheduler(database, instance=name, submit=submitted.append)
        for database, name in ((db, "one"), (other, "two"))
    ]
    moments = [START + timedelta(milliseconds=250 * step) for step in range(0, 41)]  # 10 seconds

    def drive(scheduler: RecurrenceScheduler) -> None:
        for now in moments:
            scheduler.tick(now)

    threads = [threading.Thread(target=drive, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    other.close()
    with db.session() as session:
        ticks = session.query(FlowTick).all()
        fired = {(t.flow_id, t.tick) for t in ticks}
        by = {t.fired_by for t in ticks}
    assert len(ticks) == len(fired) == 11 + 4  # 12:00:00..12:00:10 every 1 s; 12:00:00,03,06,09 every 3 s
    assert len(submitted) == len(ticks) == len(set(submitted))
    assert by <= {"one", "two"}
    runs = list_runs(db, admin, team, "every-3", limit=100)
    assert sorted(r.id for r in runs) == sorted(t.run_id for t in ticks if t.flow_id == flows[1].id)
    assert {r.status for r in runs} == {"Waiting"}


def test_disabled_flows_do_not_fire_and_schedule_moves_on(db, team, admin) -> None:
    flow = create_flow(db, admin, team, _every(60), name="minutely")
    with db.session() as session:
        Flows(session).get(flow.id).next_fire_at = START  # type: ignore[union-attr]
    scheduler = RecurrenceScheduler(db, instance="one", submit=lambda _run: None)
    # After a long outage the scheduler fires once, then continues from now (no burst of missed ticks).
    assert len(scheduler.tick(START + timedelta(hours=5, seconds=1))) == 1
    with db.session() as session:
        assert Flows(session).get(flow.id).next_fire_at == START + timedelta(hours=5, minutes=1)  # type: ignore[union-attr]
    set_flow_enabled(db, admin, team, "minutely", False)
    assert scheduler.tick(START + timedelta(days=1)) == []
    assert set_flow_enabled(db, admin, team, "minutely", True).next_fire_at is not None
