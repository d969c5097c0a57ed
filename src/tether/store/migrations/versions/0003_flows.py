"""Flows, runs, run actions and Recurrence ticks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

``flow_ticks``' primary key (flow_id, tick) is the scheduler's lease: exactly one process fires
each Recurrence tick. ``run_actions`` is unique per (run_id, path): one row per action instance.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("connections", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("trigger_type", sa.String(length=64), nullable=True),
        _timestamp("next_fire_at", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_flows_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_flows_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flows")),
        sa.UniqueConstraint("environment_id", "name", name=op.f("uq_flows_environment_id_name")),
    )
    op.create_index(op.f("ix_flows_next_fire_at"), "flows", ["next_fire_at"])
    op.create_table(
        "flow_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("flow_id", sa.String(length=36), nullable=False),
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger_name", sa.String(length=200), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("resubmitted_from", sa.String(length=36), nullable=True),
        sa.Column("started_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        _timestamp("claimed_until", nullable=True),
        _timestamp("created_at"),
        _timestamp("started_at", nullable=True),
        _timestamp("ended_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flows.id"], name=op.f("fk_flow_runs_flow_id_flows"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_runs")),
    )
    for column in ("flow_id", "status", "created_at", "ended_at"):
        op.create_index(op.f(f"ix_flow_runs_{column}"), "flow_runs", [column])
    op.create_table(
        "run_actions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["flow_runs.id"], name=op.f("fk_run_actions_run_id_flow_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_actions")),
        sa.UniqueConstraint("run_id", "path", name=op.f("uq_run_actions_run_id_path")),
    )
    op.create_table(
        "flow_ticks",
        sa.Column("flow_id", sa.String(length=36), nullable=False),
        _timestamp("tick"),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("fired_by", sa.String(length=64), nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flows.id"], name=op.f("fk_flow_ticks_flow_id_flows"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("flow_id", "tick", name=op.f("pk_flow_ticks")),
    )


def downgrade() -> None:
    for table in ("flow_ticks", "run_actions", "flow_runs", "flows"):
        op.drop_table(table)
