"""Compact action records (store/_run_segments.py), on SQLite and PostgreSQL: one segment per journal
commit, compressed above a size, large records out of line, runs stored before 0013 still read,
and purge deleting all of it."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from tether.store import Database, Environments, Flow, FlowRun, FlowRuns, Flows, RunAction, utcnow
from tether.store._flows import RunBlob, RunSegment
from tether.store._run_segments import COMPRESS_ABOVE, OUT_OF_LINE_ABOVE


def _run(db: Database) -> str:
    with db.session() as s:
        env = Environments(s).add("team", display_name="Team")
        flow = Flows(s).add(Flow(environment_id=env.id, name="f", display_name="F", definition={}))
        run = FlowRuns(s).add(
            FlowRun(
                flow_id=flow.id,
                environment_id=env.id,
                status="Running",
                trigger_name="manual",
                trigger={},
                definition={},
            )
        )
        return run.id


def _record(path: str, status: str, **extra: object) -> str:
    return json.dumps({"path": path, "name": path, "type": "Compose", "status": status, **extra})


def _entry(path: str, seq: int, status: str, key: str | None = None) -> tuple[str, int, str, str | None, str]:
    return path, seq, status, key, _record(path, status)


def _segments(db: Database, run_id: str) -> list[bytes]:
    with db.session() as s:
        return list(s.scalars(select(RunSegment.body).where(RunSegment.run_id == run_id)))


def test_a_commit_is_one_segment_and_a_later_record_replaces_an_earlier(db: Database) -> None:
    run_id = _run(db)
    with FlowRuns.journal(db) as runs:
        runs.append_records(run_id, [_entry("A", 1, "Succeeded"), _entry("B", 2, "Running", "key-b")])
    with FlowRuns.journal(db) as runs:
        runs.append_records(run_id, [_entry("B", 2, "Succeeded", "key-b"), _entry("C", 3, "Failed")])
    bodies = _segments(db, run_id)
    assert len(bodies) == 2 and all(bytes(b).startswith(b"[") for b in bodies)  # small: plain JSON (< 256 B)
    with db.session() as s:
        shown = [
            (r.path, r.status, r.record["status"], r.idempotency_key) for r in FlowRuns(s).actions(run_id)
        ]
    assert shown == [
        ("A", "Succeeded", "Succeeded", None),
        ("B", "Succeeded", "Succeeded", "key-b"),
        ("C", "Failed", "Failed", None),
    ]
    with FlowRuns.journal(db) as runs:  # the journal's claim reads the same on a plain connection
        assert [r["status"] for r in runs.action_records(run_id)] == ["Succeeded", "Succeeded", "Failed"]


def test_large_segments_are_compressed_and_huge_records_kept_once_out_of_line(db: Database) -> None:
    run_id = _run(db)
    medium = _record("M", "Succeeded", outputs="x" * (COMPRESS_ABOVE * 4))
    huge_outputs = [f"row {i}" for i in range(OUT_OF_LINE_ABOVE // 4)]
    huge = _record("H", "Succeeded", outputs=huge_outputs)
    assert len(huge) > OUT_OF_LINE_ABOVE
    with FlowRuns.journal(db) as runs:
        runs.append_records(run_id, [("M", 1, "Succeeded", None, medium), ("H", 2, "Succeeded", None, huge)])
    with FlowRuns.journal(db) as runs:  # the same content again (a Response echoing it): no second blob
        runs.append_records(run_id, [("R", 3, "Succeeded", None, huge)])
    first, _second = _segments(db, run_id)
    assert bytes(first).startswith(b"d") and len(first) < len(medium) // 4  # compressed
    with db.session() as s:
        blobs = list(s.scalars(select(RunBlob.data).where(RunBlob.run_id == run_id)))
        records = {r.path: r.record for r in FlowRuns(s).actions(run_id)}
    assert len(blobs) == 1 and len(blobs[0]) < len(huge) // 4
    assert records["M"]["outputs"] == "x" * (COMPRESS_ABOVE * 4)
    assert records["H"]["outputs"] == huge_outputs and records["R"]["outputs"] == huge_outputs


def test_runs_stored_before_segments_stay_readable_and_merge(db: Database) -> None:
    run_id = _run(db)
    with db.session() as s:  # a run_actions row as 0012 and earlier wrote them
        s.add(
            RunAction(
                run_id=run_id,
                path="Old",
                record=json.loads(_record("Old", "Succeeded")),
                status="Succeeded",
                seq=1,
            )
        )
        s.add(
            RunAction(
                run_id=run_id,
                path="Http",
                record=json.loads(_record("Http", "Running")),
                status="Running",
                seq=2,
            )
        )
    with FlowRuns.journal(db) as runs:  # resumed by the new code: its end lands in a segment
        runs.append_records(run_id, [_entry("Http", 2, "Succeeded"), _entry("New", 3, "Succeeded")])
    with db.session() as s:
        shown = [(r.path, r.status, r.record["status"]) for r in FlowRuns(s).actions(run_id)]
    assert shown == [
        ("Old", "Succeeded", "Succeeded"),
        ("Http", "Succeeded", "Succeeded"),
        ("New", "Succeeded", "Succeeded"),
    ]


def test_purge_deletes_a_runs_segments_and_blobs(db: Database) -> None:
    run_id = _run(db)
    huge = _record("H", "Succeeded", outputs="y" * (OUT_OF_LINE_ABOVE + 1))
    with FlowRuns.journal(db) as runs:
        runs.append_records(run_id, [("H", 1, "Succeeded", None, huge), _entry("A", 2, "Succeeded")])
    with db.session() as s:
        FlowRuns(s).set_state(run_id, status="Succeeded", ended_at=utcnow() - timedelta(days=2))
    with db.session() as s:
        assert FlowRuns(s).purge(utcnow() - timedelta(days=1)) == 1
    with db.session() as s:
        for model in (RunSegment, RunBlob, RunAction):
            assert s.scalar(select(func.count()).select_from(model)) == 0, model
