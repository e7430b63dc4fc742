"""channel connections: WhatsApp, Messenger and Instagram webhooks and WebChat sites

A new table only: the rows already in the database are not touched.

Revision ID: c4a9e2f1b7d3
Revises: c7a4e2d9f1b3
Create Date: 2026-11-30 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "c4a9e2f1b7d3"
down_revision: str | None = "c7a4e2d9f1b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("verify_token", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("app_secret", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "allowed_origins",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("ask_details", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("secret_changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_delivery_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("channel_connection", schema=None) as batch_op:
        batch_op.create_index(
            "ix_channel_connection_ws_kind", ["workspace_id", "kind", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_connection", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_connection_ws_kind")
    op.drop_table("channel_connection")
