"""Flows, their runs, each run's action records, and Recurrence ticks: models and the flows repository.

A run keeps a snapshot of the definition it started with (editing a flow never changes a run in
flight) and its trigger result (so it can be resubmitted). ``run_actions`` holds one row per
action instance for runs stored before 0013; since then each journal commit appends one compact
``run_segments`` row with the records it stores (``_run_segments``), large records out of line in
``run_blobs``. Those records are what makes a run resumable. A row in
``flow_ticks`` per (flow, scheduled time), under a primary key, is the lease that makes a
Recurrence tick fire once however many schedulers race for it. Runs have their repository in
``_flow_runs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tether.store._models import Base, new_id, utcnow

__all__ = ["Flow", "FlowRun", "FlowTick", "Flows", "RunAction", "RunBlob", "RunSegment"]


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
    # Logic Apps Standard's workflow kind: "Stateful" (a journal row per action) or "Stateless"
    # (runs in memory; only what ``run_history`` asks for is stored: failures, 1 in N, or all).
    kind: Mapped[str] = mapped_column(String(16), default="Stateful", server_default="Stateful")
    run_history: Mapped[str] = mapped_column(String(32), default="failures", server_default="failures")
    trigger_type: Mapped[str | None] = mapped_column(String(64))
    # Why the flow was switched off by a data policy change (None when it was not): shown on the flow.
    suspended_reason: Mapped[str | None] = mapped_column(Text)
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


class RunSegment(Base):
    """One journal commit's action records, as one compact document (see ``_run_segments``)."""

    __tablename__ = "run_segments"

    # Commit order: a later segment's record for a path replaces an earlier one.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("flow_runs.id", ondelete="CASCADE"), index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class RunBlob(Base):
    """A record too large for its segment, once per run and content (its SHA-256)."""

    __tablename__ = "run_blobs"

    run_id: Mapped[str] = mapped_column(ForeignKey("flow_runs.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


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
