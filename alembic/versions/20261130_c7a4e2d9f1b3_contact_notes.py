"""contact notes: notes members write on a contact (details drawer, "Notes contain" filter)

A new table only: the rows already in the database are not touched.

Revision ID: c7a4e2d9f1b3
Revises: c3d9e2f1a6b8
Create Date: 2026-11-30 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "c7a4e2d9f1b3"
down_revision: str | None = "c3d9e2f1a6b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("edited_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_user_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contact_note", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_note_contact_created", ["contact_id", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_contact_note_ws", ["workspace_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contact_note", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_note_ws")
        batch_op.drop_index("ix_contact_note_contact_created")
    op.drop_table("contact_note")
