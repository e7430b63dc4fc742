"""segment daily count: one count per segment and day, for the trend sparklines

A new table only: the rows already in the database are not touched, and no history is
invented for the days before it (the app starts counting on its first request or
background turn after the upgrade).

Revision ID: c3d9e2f1a6b8
Revises: b5e1c3a7d2f4
Create Date: 2026-11-30 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "c3d9e2f1a6b8"
down_revision: str | None = "b5e1c3a7d2f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segment_daily_count",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("counted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["segment_id"], ["segment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("segment_id", "day"),
    )
    with op.batch_alter_table("segment_daily_count", schema=None) as batch_op:
        batch_op.create_index(
            "ix_segment_daily_count_ws_day", ["workspace_id", "day"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("segment_daily_count", schema=None) as batch_op:
        batch_op.drop_index("ix_segment_daily_count_ws_day")
    op.drop_table("segment_daily_count")
