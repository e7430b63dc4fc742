"""Database tables (SQLModel). The schema itself is owned by the Alembic migrations."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
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
        # The duplicate finder groups by phone digits.
        sa.Index("ix_contact_ws_phone_digits", "workspace_id", "phone_digits"),
        # One contact per sender and channel: concurrent first messages from one sender
        # cannot create two (services.ingestion inserts with ON CONFLICT DO NOTHING).
        sa.Index(
            "uq_contact_ws_channel_external",
            "workspace_id",
            "channel",
            "external_id",
            unique=True,
            sqlite_where=sa.text("external_id IS NOT NULL"),
            postgresql_where=sa.text("external_id IS NOT NULL"),
        ),
        sa.Index("ix_contact_ws_channel_created", "workspace_id", "channel", "created_at"),
        sa.Index("ix_contact_ws_opt_in", "workspace_id", "campaign_opt_in"),
        # "No reply in N days": last interaction before X among contacts with conversations.
        sa.Index(
            "ix_contact_ws_conversations_last_interaction",
            "workspace_id",
            "has_conversations",
            "last_interaction_at",
        ),
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
    # True exactly when a conversation of the contact exists. Kept by triggers on
    # `conversation` (revision e5b7c9d1f3a2), never written by the app: read-only here.
    has_conversations: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
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
        # A channel's message id is stored once per workspace and channel, whichever
        # contact or conversation a retried delivery would have landed in.
        sa.Index(
            "uq_message_ws_channel_external",
            "workspace_id",
            "channel",
            "external_id",
            unique=True,
            sqlite_where=sa.text("external_id IS NOT NULL"),
            postgresql_where=sa.text("external_id IS NOT NULL"),
        ),
        # A message with a channel id always says whose it is, so the index above covers it.
        sa.CheckConstraint(
            "external_id IS NULL OR (workspace_id IS NOT NULL AND channel IS NOT NULL)",
            name="ck_message_external_id_scoped",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", ondelete="CASCADE")
    # The conversation's workspace and channel, copied onto the row so that the unique
    # index above can hold them. Required (by the check) only where external_id is set:
    # messages written without a channel id (demo data) may leave them empty.
    workspace_id: int | None = Field(default=None, foreign_key="workspace.id", ondelete="CASCADE")
    channel: str | None = Field(default=None, max_length=20)
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


class SegmentDailyCount(SQLModel, table=True):
    """How many contacts a segment matched on a day (UTC): the trend sparklines' data.
    One row per segment and day (the primary key), written by an upsert, so two workers
    counting the same day at once leave one row. A day without a row was not counted: the
    charts show it as a gap, never as an invented value."""

    __tablename__ = "segment_daily_count"
    __table_args__ = (sa.Index("ix_segment_daily_count_ws_day", "workspace_id", "day"),)

    segment_id: int = Field(foreign_key="segment.id", ondelete="CASCADE", primary_key=True)
    day: date = Field(primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    # The last count taken that day; None when the segment's rules could not be run.
    count: int | None = Field(default=None)
    counted_at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------- accounts
# Sign-in, workspaces and roles (issue 9). Every secret token is stored only as the hex
# SHA-256 of the random value handed out: a copy of the database signs no one in.


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Normalised lower-case: one account per address, whatever case is typed.
    email: str = Field(max_length=320, unique=True)
    name: str = Field(default="", max_length=200)
    # An argon2 hash, or a value starting with "!" that no password matches (demo users).
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    disabled_at: datetime | None = Field(default=None)


class Membership(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("user_id", "workspace_id"),
        sa.Index("ix_membership_workspace_role", "workspace_id", "role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    role: str = Field(max_length=20)  # access.Role
    created_at: datetime = Field(default_factory=utcnow)


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_session"
    __table_args__ = (sa.Index("ix_auth_session_user_workspace", "user_id", "workspace_id"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    # The workspace this session works in now (the switcher changes it).
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = Field(default=None)
    user_agent: str = Field(default="", max_length=300)
    ip: str = Field(default="", max_length=64)


class Invitation(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_invitation_workspace_email", "workspace_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    email: str = Field(max_length=320)
    role: str = Field(max_length=20)  # access.Role
    token_hash: str = Field(max_length=64, unique=True)
    invited_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    accepted_at: datetime | None = Field(default=None)


class PasswordReset(SQLModel, table=True):
    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = Field(default=None)


class AuditEntry(SQLModel, table=True):
    """Append-only: services/audit.py has no function that updates or deletes one."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        sa.Index("ix_audit_entry_ws_created", "workspace_id", "created_at", "id"),
        sa.Index("ix_audit_entry_ws_action", "workspace_id", "action"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    # Kept when the user is deleted (the entry still says what happened).
    actor_user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    actor_kind: str = Field(max_length=20)  # audit.ActorKind
    action: str = Field(max_length=80)  # e.g. "contacts.export"
    summary: str = Field(max_length=1000)
    details: dict[str, Any] = _json_field({})
    created_at: datetime = Field(default_factory=utcnow)


class ConsentChange(SQLModel, table=True):
    """Every campaign opt-in change: from which value, to which, by whom or what, when."""

    __tablename__ = "consent_change"
    __table_args__ = (sa.Index("ix_consent_change_contact_created", "contact_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE")
    old_value: bool | None = Field(default=None)
    new_value: bool
    source: str = Field(max_length=20)  # audit.ConsentSource
    actor_user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)


class ExportTicketUse(SQLModel, table=True):
    """A used export ticket's nonce: the primary key makes the second use fail."""

    __tablename__ = "export_ticket_use"

    nonce: str = Field(primary_key=True, max_length=64)
    used_at: datetime = Field(default_factory=utcnow)


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


class ContactNote(SQLModel, table=True):
    """A note a member wrote on a contact (the details drawer's Notes). Its author may edit
    or delete it, and so may an admin; the author is kept as NULL when the user is deleted."""

    __tablename__ = "contact_note"
    __table_args__ = (
        sa.Index("ix_contact_note_contact_created", "contact_id", "created_at", "id"),
        sa.Index("ix_contact_note_ws", "workspace_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE")
    author_user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    body: str = Field(max_length=5000)
    created_at: datetime = Field(default_factory=utcnow)
    # Set when the text was changed after it was written ("edited" beside the time).
    edited_at: datetime | None = Field(default=None)


class BulkEdit(SQLModel, table=True):
    """One bulk edit (a label added or removed, a field or campaign opt-in set on many
    contacts): what it set, how far it got, and until when it can be undone. Its counts
    are updated in the same transaction as each chunk of contacts they count
    (services/contact_bulk_edits.py)."""

    __tablename__ = "bulk_edit"
    __table_args__ = (sa.Index("ix_bulk_edit_ws_started", "workspace_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    actor_user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    action: str = Field(max_length=20)  # contact_bulk_edits.BulkAction
    label_id: int | None = Field(default=None)
    field_key: str = Field(default="", max_length=80)
    # The value set ({"value": …}), as stored on the contacts.
    value: dict[str, Any] = _json_field({})
    # What the confirmation promised: how many were selected, and the edit in words.
    selected: int = Field(default=0)
    summary: str = Field(default="", max_length=500)
    status: str = Field(default="running", max_length=20)  # running, done, stopped, undone
    done: int = Field(default=0)  # selected contacts handled so far
    changed: int = Field(default=0)  # of which changed (the others already had the value)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = Field(default=None)
    undone_at: datetime | None = Field(default=None)


class BulkEditChange(SQLModel, table=True):
    """A contact a bulk edit changed and the value it had before: what Undo puts back."""

    __tablename__ = "bulk_edit_change"

    bulk_edit_id: int = Field(foreign_key="bulk_edit.id", ondelete="CASCADE", primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE", primary_key=True)
    # {"value": the previous value} (a field's old value, None when it had none; the old
    # opt-in); empty for labels, whose previous state the action itself says.
    old: dict[str, Any] = _json_field({})


class ContactMerge(SQLModel, table=True):
    """A contact merged into another one (services/contact_merges.py): who it was, and the
    ids it was known by, so that ingestion and import keep finding the merged contact by
    the merged one's channel id, email or phone. The drawer lists them ("merged from …")."""

    __tablename__ = "contact_merge"
    __table_args__ = (
        sa.Index("ix_contact_merge_contact", "contact_id"),
        # A channel's sender id belongs to one contact: as a contact's own id or here.
        sa.Index(
            "uq_contact_merge_ws_channel_external",
            "workspace_id",
            "channel",
            "external_id",
            unique=True,
            sqlite_where=sa.text("external_id IS NOT NULL"),
            postgresql_where=sa.text("external_id IS NOT NULL"),
        ),
        sa.Index("ix_contact_merge_ws_email", "workspace_id", "email"),
        sa.Index("ix_contact_merge_ws_phone", "workspace_id", "phone"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    # The contact it was merged into (deleting that contact deletes these rows too).
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE")
    # The merged contact as it was: its id then (no longer a row), name, ids and channel.
    merged_contact_id: int
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    channel: str = Field(default="", max_length=20)
    external_id: str | None = Field(default=None, max_length=200)
    actor_user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------- channels


class ChannelKind(enum.StrEnum):
    """What a channel connection connects (Settings → Channels)."""

    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    WEBCHAT = "webchat"

    @property
    def channel(self) -> Channel:
        """The channel its contacts and messages are stored under."""
        return Channel.FACEBOOK if self is ChannelKind.MESSENGER else Channel(self.value)


class ChannelConnection(SQLModel, table=True):
    """A WhatsApp number, a Facebook Page, an Instagram account (each a Meta webhook) or
    a WebChat site, connected to one workspace.

    `key` is random and public: the last part of the webhook URL, or the WebChat site
    key in the widget's snippet. A Meta webhook needs the verify token (made here, pasted
    into the app's dashboard, answered in the subscription handshake) and the app secret
    (from the dashboard: every POST is signed with it). The secret is kept as it is,
    because checking an HMAC needs it; the UI shows only its last characters.
    """

    __tablename__ = "channel_connection"
    __table_args__ = (sa.Index("ix_channel_connection_ws_kind", "workspace_id", "kind", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    kind: str = Field(max_length=20)  # ChannelKind
    name: str = Field(max_length=120)
    key: str = Field(max_length=64, unique=True)
    verify_token: str = Field(default="", max_length=128)
    app_secret: str = Field(default="", max_length=200)
    # WebChat: the web origins (scheme://host[:port]) whose pages may post messages.
    allowed_origins: list[str] = _json_field([])
    # WebChat: the widget asks for a name and an email (both optional) before the chat.
    ask_details: bool = Field(default=True)
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    secret_changed_at: datetime | None = Field(default=None)
    # The last time a delivery was accepted (a signed webhook POST, a WebChat message).
    last_delivery_at: datetime | None = Field(default=None)
