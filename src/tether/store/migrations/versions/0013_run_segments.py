"""Compact action records: one ``run_segments`` row per journal commit, large records in ``run_blobs``.

Runs stored before keep their ``run_actions`` rows, which readers merge with segments
(``tether.store._run_segments.merged``), so nothing is rewritten and every run stays readable.

Revision ID: 0013_run_segments
Revises: 0012_events
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_run_segments"
down_revision: str | None = "0012_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_segments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["flow_runs.id"], name=op.f("fk_run_segments_run_id_flow_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_segments")),
    )
    op.create_index(op.f("ix_run_segments_run_id"), "run_segments", ["run_id"])
    op.create_table(
        "run_blobs",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["flow_runs.id"], name=op.f("fk_run_blobs_run_id_flow_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "digest", name=op.f("pk_run_blobs")),
    )


def downgrade() -> None:
    op.drop_table("run_blobs")
    op.drop_index(op.f("ix_run_segments_run_id"), table_name="run_segments")
    op.drop_table("run_segments")
