"""Flows, their runs, each run's action records, and Recurrence ticks: models and repositories.

A run keeps a snapshot of the definition it started with (editing a flow never changes a run in
flight) and its trigger result (so it can be resubmitted). ``run_actions`` holds one row per
action instance, written as each action ends, which is what makes a run resumable. A row in
``flow_ticks`` per (flow, scheduled time), under a primary key, is the lease that makes a
Recurrence tick fire once however many schedulers race for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    bindparam,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from tether.errors import Conflict
from tether.store._engine import Database, DatabaseUnavailable
from tether.store._models import Base, UTCDateTime, new_id, utcnow

__all__ = ["Flow", "FlowRun", "FlowRuns", "FlowTick", "Flows", "RunAction"]


class Flow(Base):
    """A workflow definition in an environment, with its connections mapping and on/off state."""

    __tablename__ = "flows"
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    # $connections reference name -> Tether connection id.
    connections: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Values for the definition's parameters (defaults come from the definition).
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    trigger_type: Mapped[str | None] = mapped_column(String(64))
    # For Recurrence flows: the next tick the scheduler fires (indexed: the scheduler's query).
    next_fire_at: Mapped[datetime | None] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FlowRun(Base):
    """One run: status, the inputs it started with, the state it has reached, and how it ended."""

    __tablename__ = "flow_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    flow_id: Mapped[str] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    environment_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16), index=True)
    trigger_name: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[dict[str, Any]] = mapped_column(JSON)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Variables and decisions after the last committed action.
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    outputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    resubmitted_from: Mapped[str | None] = mapped_column(String(36))
    started_by: Mapped[str | None] = mapped_column(String(64))
    # Which process advances the run, until when (an expired claim means that process died).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None] = mapped_column(index=True)


class RunAction(Base):
    """One action instance of a run (``Loop#2/Send``), as run history shows it (secrets redacted)."""

    __tablename__ = "run_actions"
    __table_args__ = (UniqueConstraint("run_id", "path"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("flow_runs.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1000))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))


class FlowTick(Base):
    """A Recurrence tick that fired: the primary key makes a second insert for the same tick fail."""

    __tablename__ = "flow_ticks"

    flow_id: Mapped[str] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), primary_key=True)
    tick: Mapped[datetime] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36))
    fired_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Flows:
    """Flows of one database; lookups are scoped by environment like connectors."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, flow: Flow) -> Flow:
        self.session.add(flow)
        self.session.flush()
        return flow

    def find(self, environment_id: str, id_or_name: str, *, for_update: bool = False) -> Flow | None:
        query = select(Flow).where(
            Flow.environment_id == environment_id, (Flow.id == id_or_name) | (Flow.name == id_or_name)
        )
        if for_update:
            query = query.with_for_update(of=Flow)
        return self.session.scalar(query)

    def get(self, flow_id: str) -> Flow | None:
        return self.session.get(Flow, flow_id)

    def list(self, environment_id: str) -> Sequence[Flow]:
        return self.session.scalars(
            select(Flow).where(Flow.environment_id == environment_id).order_by(Flow.name)
        ).all()

    def delete(self, flow: Flow) -> None:
        self.session.delete(flow)
        self.session.flush()

    def due(self, now: datetime, limit: int = 100) -> Sequence[Flow]:
        """Enabled flows whose next Recurrence tick has come."""
        query = (
            select(Flow)
            .where(Flow.enabled.is_(True), Flow.next_fire_at.is_not(None), Flow.next_fire_at <= now)
            .order_by(Flow.next_fire_at)
            .limit(limit)
        )
        return self.session.scalars(query).all()

    def add_tick(self, tick: FlowTick) -> None:
        """Claim a tick; raises (Conflict, via the session) when another scheduler already has it."""
        self.session.add(tick)
        self.session.flush()

    def ticks(self, flow_id: str) -> Sequence[FlowTick]:
        return self.session.scalars(
            select(FlowTick).where(FlowTick.flow_id == flow_id).order_by(FlowTick.tick)
        ).all()


class FlowRuns:
    """Runs and their action records.

    The run journal's hot path (claim, action rows, progress, finish) uses Core statements only,
    so it also works on a bare connection from :meth:`journal`, skipping the ORM session.
    """

    def __init__(self, session: Session | Connection) -> None:
        self.session: Any = session

    @classmethod
    @contextmanager
    def journal(cls, database: Database) -> Iterator[FlowRuns]:
        """One short transaction on a plain connection, with the store's error translation."""
        try:
            with database.engine.begin() as connection:
                yield cls(connection)
        except IntegrityError as exc:
            raise Conflict("The change clashes with data saved at the same time; try again.") from exc
        except OperationalError as exc:
            raise DatabaseUnavailable("The database is unavailable or busy; try again shortly.") from exc

    def add(self, run: FlowRun) -> FlowRun:
        self.session.add(run)
        self.session.flush()
        return run

    def get(self, run_id: str, *, for_update: bool = False) -> FlowRun | None:
        query = select(FlowRun).where(FlowRun.id == run_id)
        if for_update:
            query = query.with_for_update(of=FlowRun)
        return self.session.scalar(query)

    def list(self, flow_id: str, *, status: str | None = None, limit: int = 50) -> Sequence[FlowRun]:
        query = select(FlowRun).where(FlowRun.flow_id == flow_id)
        if status is not None:
            query = query.where(FlowRun.status == status)
        return self.session.scalars(query.order_by(FlowRun.created_at.desc(), FlowRun.id).limit(limit)).all()

    def actions(self, run_id: str) -> Sequence[RunAction]:
        return self.session.scalars(
            select(RunAction).where(RunAction.run_id == run_id).order_by(RunAction.seq)
        ).all()

    def action_records(self, run_id: str) -> list[dict[str, Any]]:
        """The saved records of a run's action instances, in order (works on a plain connection)."""
        query = (
            select(_actions_table.c.record)
            .where(_actions_table.c.run_id == run_id)
            .order_by(_actions_table.c.seq)
        )
        return [row[0] for row in self.session.execute(query)]

    def insert_action(
        self,
        run_id: str,
        path: str,
        record: dict[str, Any],
        status: str,
        seq: int,
        idempotency_key: str | None,
    ) -> None:
        """The first row of an action instance (one INSERT, no lookup: the journal knows it is new)."""
        values = {
            "id": new_id(),
            "run_id": run_id,
            "path": path,
            "record": record,
            "status": status,
            "seq": seq,
            "idempotency_key": idempotency_key,
        }
        self.session.execute(_INSERT_ACTION, values)

    def update_action(self, run_id: str, path: str, record: dict[str, Any], status: str, seq: int) -> None:
        self.session.execute(
            _UPDATE_ACTION, {"b_run": run_id, "b_path": path, "record": record, "status": status, "seq": seq}
        )

    def save_progress(
        self,
        run_id: str,
        state: dict[str, Any],
        claimed_until: datetime,
        response: dict[str, Any] | None = None,
    ) -> None:
        """A run's variables/decisions (and Response answer) after an action: the journal's hot path."""
        values = {"b_id": run_id, "state": state, "claimed_until": claimed_until}
        if response is None:
            self.session.execute(_SAVE_PROGRESS, values)
        else:
            self.session.execute(_SAVE_PROGRESS_AND_RESPONSE, {**values, "response": response})

    def claim(self, run_id: str, instance: str, now: datetime, until: datetime) -> dict[str, Any] | None:
        """Take a waiting/running run unless another live process holds it; its columns, or None."""
        taken = self.session.execute(
            _CLAIM,
            {
                "b_id": run_id,
                "b_instance": instance,
                "b_now": now,
                "claimed_by": instance,
                "claimed_until": until,
            },
        )
        if not taken.rowcount:  # type: ignore[attr-defined]
            return None
        row = self.session.execute(_CLAIMED, {"b_id": run_id}).mappings().first()
        if row is None:
            return None
        if row["started_at"] is None:
            self.session.execute(_STARTED, {"b_id": run_id, "started_at": now})
        return dict(row)

    def renew_claim(self, run_id: str, instance: str, until: datetime) -> None:
        self.session.execute(
            update(FlowRun)
            .where(FlowRun.id == run_id, FlowRun.claimed_by == instance)
            .values(claimed_until=until)
        )

    def finish(self, run_id: str, status: str, error: Any, outputs: Any, ended_at: datetime) -> None:
        self.session.execute(
            _FINISH,
            {"b_id": run_id, "status": status, "error": error, "outputs": outputs, "ended_at": ended_at},
        )

    def set_state(self, run_id: str, **values: Any) -> None:
        self.session.execute(update(FlowRun).where(FlowRun.id == run_id).values(**values))

    def unfinished(self, *, stale_before: datetime, limit: int = 100) -> Sequence[FlowRun]:
        """Runs waiting or running whose claim expired (their process died): to resume."""
        query = (
            select(FlowRun)
            .where(FlowRun.status.in_(("Waiting", "Running")))
            .where((FlowRun.claimed_until.is_(None)) | (FlowRun.claimed_until < stale_before))
            .order_by(FlowRun.created_at)
            .limit(limit)
        )
        return self.session.scalars(query).all()

    def purge(self, ended_before: datetime) -> int:
        """Delete finished runs that ended before ``ended_before``; returns how many."""
        ids = select(FlowRun.id).where(FlowRun.ended_at.is_not(None), FlowRun.ended_at < ended_before)
        self.session.execute(delete(RunAction).where(RunAction.run_id.in_(ids)))
        result = self.session.execute(
            delete(FlowRun).where(FlowRun.ended_at.is_not(None), FlowRun.ended_at < ended_before)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


# The journal commits after every action, so its statements are built once (Core, bound
# parameters): SQLAlchemy then reuses the compiled SQL instead of rebuilding it per call.
_actions_table, _runs_table = RunAction.__table__, FlowRun.__table__
_INSERT_ACTION = _actions_table.insert()
_UPDATE_ACTION = (
    _actions_table.update()
    .where(_actions_table.c.run_id == bindparam("b_run"), _actions_table.c.path == bindparam("b_path"))
    .values(record=bindparam("record"), status=bindparam("status"), seq=bindparam("seq"))
)
_SAVE_PROGRESS = (
    _runs_table.update()
    .where(_runs_table.c.id == bindparam("b_id"))
    .values(state=bindparam("state"), claimed_until=bindparam("claimed_until"))
)
_SAVE_PROGRESS_AND_RESPONSE = _SAVE_PROGRESS.values(response=bindparam("response"))
_CLAIM = (
    _runs_table.update()
    .where(_runs_table.c.id == bindparam("b_id"), _runs_table.c.status.in_(("Waiting", "Running")))
    .where(
        or_(
            _runs_table.c.claimed_by.is_(None),
            _runs_table.c.claimed_by == bindparam("b_instance"),
            _runs_table.c.claimed_until < bindparam("b_now", type_=UTCDateTime()),
        )
    )
    .values(claimed_by=bindparam("claimed_by"), claimed_until=bindparam("claimed_until"), status="Running")
)
_CLAIMED = select(
    _runs_table.c.flow_id,
    _runs_table.c.definition,
    _runs_table.c.trigger,
    _runs_table.c.parameters,
    _runs_table.c.state,
    _runs_table.c.response,
    _runs_table.c.started_at,
).where(_runs_table.c.id == bindparam("b_id"))
_STARTED = (
    _runs_table.update()
    .where(_runs_table.c.id == bindparam("b_id"))
    .values(started_at=bindparam("started_at"))
)
_FINISH = (
    _runs_table.update()
    .where(_runs_table.c.id == bindparam("b_id"))
    .values(
        status=bindparam("status"),
        error=bindparam("error"),
        outputs=bindparam("outputs"),
        ended_at=bindparam("ended_at"),
        claimed_by=None,
        claimed_until=None,
    )
)
