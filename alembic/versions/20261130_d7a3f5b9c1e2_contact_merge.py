"""contact merge: the contacts merged into another one and the ids they were known by;
indexes for the duplicate finder (phone digits, and the phone's last eight digits)

New table and indexes only: the rows already in the database are not touched.

Revision ID: d7a3f5b9c1e2
Revises: c4d8e2f1a9b3
Create Date: 2026-11-30 10:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "d7a3f5b9c1e2"
down_revision: str | None = "c4d8e2f1a9b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The phone's last eight digits: the same number written with and without its country
# code. An expression index (not in the models, like the search indexes): the duplicate
# finder's query uses the very same expression (services/contact_merges.py). The digits
# themselves are in it too, so counting the different numbers per ending reads the index
# only.
PHONE_TAIL_SQLITE = (
    "CREATE INDEX ix_contact_ws_phone_tail"
    " ON contact (workspace_id, substr(phone_digits, -8), phone_digits)"
)
PHONE_TAIL_POSTGRES = (
    "CREATE INDEX ix_contact_ws_phone_tail_pg"
    " ON contact (workspace_id, right(phone_digits, 8), phone_digits)"
)


def upgrade() -> None:
    op.create_table(
        "contact_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("merged_contact_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_user_id"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contact_merge", schema=None) as batch_op:
        batch_op.create_index("ix_contact_merge_contact", ["contact_id"], unique=False)
        batch_op.create_index("ix_contact_merge_ws_email", ["workspace_id", "email"], unique=False)
        batch_op.create_index("ix_contact_merge_ws_phone", ["workspace_id", "phone"], unique=False)
        batch_op.create_index(
            "uq_contact_merge_ws_channel_external",
            ["workspace_id", "channel", "external_id"],
            unique=True,
            sqlite_where=sa.text("external_id IS NOT NULL"),
            postgresql_where=sa.text("external_id IS NOT NULL"),
        )
    # Plain CREATE INDEX (no batch): the contact table is never copied, so the SQLite
    # search triggers on it stay as they are.
    op.create_index(
        "ix_contact_ws_phone_digits", "contact", ["workspace_id", "phone_digits"], unique=False
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(PHONE_TAIL_SQLITE)
    else:
        op.execute(PHONE_TAIL_POSTGRES)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_contact_ws_phone_tail")
    else:
        op.execute("DROP INDEX IF EXISTS ix_contact_ws_phone_tail_pg")
    op.drop_index("ix_contact_ws_phone_digits", table_name="contact")
    with op.batch_alter_table("contact_merge", schema=None) as batch_op:
        batch_op.drop_index("uq_contact_merge_ws_channel_external")
        batch_op.drop_index("ix_contact_merge_ws_phone")
        batch_op.drop_index("ix_contact_merge_ws_email")
        batch_op.drop_index("ix_contact_merge_contact")
    op.drop_table("contact_merge")
