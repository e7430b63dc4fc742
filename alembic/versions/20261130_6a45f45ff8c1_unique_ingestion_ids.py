"""unique ingestion ids: one message per channel message id, one contact per channel sender

Concurrent deliveries of one message stored it (and its sender) several times: the
check-then-insert in services/ingestion.py had no unique constraint behind it (issue 8,
item 1). This revision

- adds message.workspace_id and message.channel (copied from the message's conversation,
  for every existing row) so that a channel's message id can be unique per workspace and
  channel, with a check that every message carrying a channel id fills them in;
- merges the duplicates a database may already hold, deterministically: the row with the
  lowest id (the first stored) is kept;
  - duplicate messages (same workspace, channel and channel message id) are deleted (a
    message has nothing hanging on it);
  - duplicate contacts (same workspace, channel and channel sender id) are merged into the
    kept one: their conversations move to it, their labels are added to it, custom fields
    and empty name / email / phone / image are filled from them (the kept row's own values
    win), the last interaction and its preview are the latest of the group, created_at the
    earliest, campaign opt-in is on if any of them had it; then they are deleted;
- creates the unique partial indexes uq_message_ws_channel_external and
  uq_contact_ws_channel_external (WHERE external_id IS NOT NULL), which replace the plain
  indexes ix_message_conversation_external and ix_contact_ws_channel_external.

Revision ID: 6a45f45ff8c1
Revises: 7c29a6a99980
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "6a45f45ff8c1"
down_revision: str | None = "7c29a6a99980"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HAS_EXTERNAL_ID = "external_id IS NOT NULL"
SCOPED_CHECK = "external_id IS NULL OR (workspace_id IS NOT NULL AND channel IS NOT NULL)"
KEY = ["workspace_id", "channel", "external_id"]

# The tables as this revision knows them (never the app's models, which move on).
_json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_when = sqlmodel.sql.sqltypes.UTCDateTime()
contact = sa.table(
    "contact",
    sa.column("id", sa.Integer()),
    sa.column("workspace_id", sa.Integer()),
    sa.column("channel", sa.String()),
    sa.column("external_id", sa.String()),
    sa.column("name", sa.String()),
    sa.column("email", sa.String()),
    sa.column("phone", sa.String()),
    sa.column("phone_digits", sa.String()),
    sa.column("image_url", sa.String()),
    sa.column("created_at", _when),
    sa.column("updated_at", _when),
    sa.column("last_interaction_at", _when),
    sa.column("last_message_text", sa.String()),
    sa.column("last_message_direction", sa.String()),
    sa.column("campaign_opt_in", sa.Boolean()),
    sa.column("custom_fields", _json),
)
contact_label = sa.table(
    "contact_label", sa.column("contact_id", sa.Integer()), sa.column("label_id", sa.Integer())
)
conversation = sa.table(
    "conversation",
    sa.column("id", sa.Integer()),
    sa.column("contact_id", sa.Integer()),
    sa.column("workspace_id", sa.Integer()),
    sa.column("channel", sa.String()),
)
message = sa.table(
    "message",
    sa.column("id", sa.Integer()),
    sa.column("conversation_id", sa.Integer()),
    sa.column("workspace_id", sa.Integer()),
    sa.column("channel", sa.String()),
    sa.column("external_id", sa.String()),
)

# Filled from the duplicates only where the kept contact has nothing.
_FILL_IF_EMPTY = ("name", "email", "phone", "phone_digits", "image_url")


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "workspace_id",
                sa.Integer(),
                sa.ForeignKey(
                    "workspace.id", name="fk_message_workspace_id_workspace", ondelete="CASCADE"
                ),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )

    bind = op.get_bind()
    owner = sa.select(conversation.c.workspace_id).where(
        conversation.c.id == message.c.conversation_id
    )
    channel = sa.select(conversation.c.channel).where(
        conversation.c.id == message.c.conversation_id
    )
    bind.execute(
        message.update().values(
            workspace_id=owner.scalar_subquery(), channel=channel.scalar_subquery()
        )
    )
    _delete_duplicate_messages(bind)
    _merge_duplicate_contacts(bind)

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index(
            "uq_contact_ws_channel_external",
            KEY,
            unique=True,
            sqlite_where=sa.text(HAS_EXTERNAL_ID),
            postgresql_where=sa.text(HAS_EXTERNAL_ID),
        )
        batch_op.drop_index("ix_contact_ws_channel_external")

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_check_constraint("ck_message_external_id_scoped", SCOPED_CHECK)
        batch_op.drop_index("ix_message_conversation_external")
        batch_op.create_index(
            "uq_message_ws_channel_external",
            KEY,
            unique=True,
            sqlite_where=sa.text(HAS_EXTERNAL_ID),
            postgresql_where=sa.text(HAS_EXTERNAL_ID),
        )


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("uq_message_ws_channel_external")
        batch_op.create_index(
            "ix_message_conversation_external", ["conversation_id", "external_id"], unique=False
        )
        batch_op.drop_constraint("ck_message_external_id_scoped", type_="check")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_constraint("fk_message_workspace_id_workspace", type_="foreignkey")
        batch_op.drop_column("channel")
        batch_op.drop_column("workspace_id")

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index("ix_contact_ws_channel_external", KEY, unique=False)
        batch_op.drop_index("uq_contact_ws_channel_external")


# --------------------------------------------------------------------------- duplicates


def _duplicate_groups(bind: sa.Connection, table: sa.TableClause) -> list[list[int]]:
    """The ids of each group of rows sharing (workspace, channel, external id), lowest
    first; only groups of two or more."""
    keys = [table.c[name] for name in KEY]
    groups = bind.execute(
        sa.select(*keys)
        .where(table.c.external_id.is_not(None))
        .group_by(*keys)
        .having(sa.func.count() > 1)
        .order_by(*keys)
    ).all()
    ids: list[list[int]] = []
    for workspace_id, channel, external_id in groups:
        ids.append(
            list(
                bind.execute(
                    sa.select(table.c.id)
                    .where(
                        table.c.workspace_id == workspace_id,
                        table.c.channel == channel,
                        table.c.external_id == external_id,
                    )
                    .order_by(table.c.id)
                ).scalars()
            )
        )
    return ids


def _delete_duplicate_messages(bind: sa.Connection) -> None:
    for _oldest, *others in _duplicate_groups(bind, message):
        bind.execute(message.delete().where(message.c.id.in_(others)))


def _merge_duplicate_contacts(bind: sa.Connection) -> None:
    for keep, *others in _duplicate_groups(bind, contact):
        rows = {
            row.id: row
            for row in bind.execute(
                sa.select(contact).where(contact.c.id.in_([keep, *others]))
            ).mappings()
        }
        bind.execute(
            conversation.update()
            .where(conversation.c.contact_id.in_(others))
            .values(contact_id=keep)
        )
        has_label = sa.select(contact_label.c.label_id).where(contact_label.c.contact_id == keep)
        bind.execute(
            contact_label.insert().from_select(
                ["contact_id", "label_id"],
                sa.select(sa.literal(keep), contact_label.c.label_id)
                .where(
                    contact_label.c.contact_id.in_(others),
                    contact_label.c.label_id.not_in(has_label),
                )
                .distinct(),
            )
        )
        bind.execute(
            contact.update()
            .where(contact.c.id == keep)
            .values(**_merged(rows[keep], [rows[i] for i in others]))
        )
        bind.execute(contact_label.delete().where(contact_label.c.contact_id.in_(others)))
        bind.execute(contact.delete().where(contact.c.id.in_(others)))


def _merged(kept: Any, others: list[Any]) -> dict[str, Any]:
    """The kept contact's new values: its own, completed from the others (oldest first)."""
    group = [kept, *others]
    values: dict[str, Any] = {}
    for column in _FILL_IF_EMPTY:
        values[column] = next((row[column] for row in group if row[column]), kept[column])
    custom: dict[str, Any] = {}
    for row in reversed(group):  # the oldest row is applied last, so its values win
        custom.update(row["custom_fields"] or {})
    values["custom_fields"] = custom
    values["created_at"] = min(_aware(row["created_at"]) for row in group)
    values["updated_at"] = max(_aware(row["updated_at"]) for row in group)
    latest = max(
        group,
        key=lambda row: (
            row["last_interaction_at"] is not None,
            _aware(row["last_interaction_at"] or datetime.min),
        ),
    )
    values["last_interaction_at"] = latest["last_interaction_at"]
    values["last_message_text"] = latest["last_message_text"]
    values["last_message_direction"] = latest["last_message_direction"]
    values["campaign_opt_in"] = any(row["campaign_opt_in"] for row in group)
    return values


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
