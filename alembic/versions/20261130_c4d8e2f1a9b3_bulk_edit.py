"""bulk edit: one row per bulk edit of many contacts, and the previous values Undo restores

New tables only: the rows already in the database are not touched.

Revision ID: c4d8e2f1a9b3
Revises: c4a9e2f1b7d3
Create Date: 2026-11-30 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "c4d8e2f1a9b3"
down_revision: str | None = "c4a9e2f1b7d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "bulk_edit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=True),
        sa.Column("field_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.Column("selected", sa.Integer(), nullable=False),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("undone_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["actor_user_id"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bulk_edit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bulk_edit_ws_started", ["workspace_id", "started_at"], unique=False
        )
    op.create_table(
        "bulk_edit_change",
        sa.Column("bulk_edit_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("old", JSON, nullable=False),
        sa.ForeignKeyConstraint(["bulk_edit_id"], ["bulk_edit.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("bulk_edit_id", "contact_id"),
    )


def downgrade() -> None:
    op.drop_table("bulk_edit_change")
    with op.batch_alter_table("bulk_edit", schema=None) as batch_op:
        batch_op.drop_index("ix_bulk_edit_ws_started")
    op.drop_table("bulk_edit")
