"""Database tables (SQLModel). The schema itself is owned by the Alembic migrations."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

# JSON on SQLite, JSONB on PostgreSQL: both can be filtered on in SQL.
JsonColumnType = sa.JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """Aware UTC: the one convention for every timestamp this app stores."""
    return datetime.now(UTC)


class Channel(enum.StrEnum):
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    WHATSAPP = "whatsapp"
    WEBCHAT = "webchat"
    IMPORTED = "imported"


# Channels that deliver messages through the ingestion endpoint.
MESSAGING_CHANNELS = (Channel.INSTAGRAM, Channel.FACEBOOK, Channel.WHATSAPP, Channel.WEBCHAT)


class ConversationStatus(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"


class Direction(enum.StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class FieldEntity(enum.StrEnum):
    CONTACT = "contact"
    CONVERSATION = "conversation"


def _json_field(default: Any) -> Any:
    return Field(
        default_factory=lambda: default.copy(),
        sa_column=sa.Column(JsonColumnType, nullable=False),
    )


class Workspace(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    # Bearer token channels present to the ingestion endpoint.
    ingest_token: str = Field(max_length=128, unique=True)
    # Bumped by every write to the workspace's contacts: Live mode polls this one integer.
    data_version: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)


class Contact(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_contact_ws_created", "workspace_id", "created_at", "id"),
        sa.Index("ix_contact_ws_last_interaction", "workspace_id", "last_interaction_at", "id"),
        sa.Index("ix_contact_ws_name", "workspace_id", "name", "id"),
        sa.Index("ix_contact_ws_email", "workspace_id", "email"),
        sa.Index("ix_contact_ws_phone", "workspace_id", "phone"),
        sa.Index("ix_contact_ws_channel_external", "workspace_id", "channel", "external_id"),
        sa.Index("ix_contact_ws_channel_created", "workspace_id", "channel", "created_at"),
        sa.Index("ix_contact_ws_opt_in", "workspace_id", "campaign_opt_in"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    # E.164 where the number could be parsed, else as typed.
    phone: str | None = Field(default=None, max_length=40)
    # Digits only: what substring phone search runs on, whatever punctuation was typed.
    phone_digits: str | None = Field(default=None, max_length=40)
    image_url: str | None = Field(default=None, max_length=1000)
    avatar_color: str = Field(default="indigo", max_length=20)
    channel: str = Field(default=Channel.IMPORTED.value, max_length=20)
    external_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_interaction_at: datetime | None = Field(default=None)
    # The last message, kept on the row so the table's hover preview costs no join.
    last_message_text: str | None = Field(default=None, max_length=500)
    last_message_direction: str | None = Field(default=None, max_length=10)
    campaign_opt_in: bool = Field(default=False)
    custom_fields: dict[str, Any] = _json_field({})


class Label(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("workspace_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=80)
    color: str = Field(default="gray", max_length=20)


class ContactLabel(SQLModel, table=True):
    __tablename__ = "contact_label"
    __table_args__ = (sa.Index("ix_contact_label_label", "label_id", "contact_id"),)

    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE", primary_key=True)
    label_id: int = Field(foreign_key="label.id", ondelete="CASCADE", primary_key=True)


class CustomFieldDefinition(SQLModel, table=True):
    __tablename__ = "custom_field_definition"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "entity", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    entity: str = Field(max_length=20)  # FieldEntity
    key: str = Field(max_length=64)
    label: str = Field(max_length=120)
    type: str = Field(max_length=20)  # fieldtypes.FIELD_TYPES key
    options: list[str] = _json_field([])
    position: int = Field(default=0)


class Conversation(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_conversation_contact_updated", "contact_id", "updated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE")
    channel: str = Field(max_length=20)
    status: str = Field(default=ConversationStatus.OPEN.value, max_length=20)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    custom_fields: dict[str, Any] = _json_field({})


class ConversationLabel(SQLModel, table=True):
    __tablename__ = "conversation_label"
    __table_args__ = (sa.Index("ix_conversation_label_label", "label_id", "conversation_id"),)

    conversation_id: int = Field(
        foreign_key="conversation.id", ondelete="CASCADE", primary_key=True
    )
    label_id: int = Field(foreign_key="label.id", ondelete="CASCADE", primary_key=True)


class Message(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_message_conversation_sent", "conversation_id", "sent_at"),
        sa.Index("ix_message_conversation_external", "conversation_id", "external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", ondelete="CASCADE")
    # The channel's own message id: a retried delivery is recognised, not stored twice.
    external_id: str | None = Field(default=None, max_length=200)
    direction: str = Field(max_length=10)  # Direction
    text: str = Field(default="", max_length=4000)
    sent_at: datetime = Field(default_factory=utcnow)


class Segment(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("workspace_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=500)
    color: str = Field(default="blue", max_length=20)
    # A FilterSpec as JSON (cloodot_app.filters): a segment is rules, never a list of ids.
    filter_spec: dict[str, Any] = _json_field({})
    position: int = Field(default=0)
    on_board: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ImportJobStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    INTERRUPTED = "interrupted"  # stopped part-way (cancelled, or its worker is gone)
    FAILED = "failed"  # the database (or a bug) stopped it part-way


class ImportJob(SQLModel, table=True):
    """One CSV import and how far it got. The counts are updated in the same transaction
    as each chunk of contacts they count, so after a crash they say exactly which rows are
    in; `heartbeat_at` moves with every chunk, so a job left "running" by a dead worker
    can be told from a live one (services/importer/jobs.py)."""

    __tablename__ = "import_job"
    __table_args__ = (sa.Index("ix_import_job_ws_started", "workspace_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    file_name: str = Field(default="", max_length=255)
    status: str = Field(default=ImportJobStatus.RUNNING.value, max_length=20)
    on_duplicate: str = Field(default="skip", max_length=10)
    total_rows: int = Field(default=0)
    # Data rows handled so far (created + updated + skipped + failed), in file order.
    rows_done: int = Field(default=0)
    created: int = Field(default=0)
    updated: int = Field(default=0)
    skipped: int = Field(default=0)
    failed: int = Field(default=0)
    # Errors and warnings of the rows done (the problems file lists them).
    problems: int = Field(default=0)
    # Why it stopped, for the user (empty when it finished).
    message: str = Field(default="", max_length=1000)
    started_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = Field(default=None)
