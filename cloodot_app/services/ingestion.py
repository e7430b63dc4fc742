"""Ingestion: a message arriving on a channel creates or updates its contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

from cloodot_app.errors import UnknownChannel
from cloodot_app.fieldtypes import FieldValueError, clean_text, digits_only, field_type
from cloodot_app.models import (
    MESSAGING_CHANNELS,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    utcnow,
)
from cloodot_app.services.contact_merges import merged_contact_by
from cloodot_app.services.workspaces import bump_data_version

AVATAR_COLORS = (
    "tomato",
    "crimson",
    "plum",
    "violet",
    "indigo",
    "blue",
    "cyan",
    "teal",
    "jade",
    "grass",
    "orange",
    "amber",
)


# A channel's clock may run a little ahead of ours; beyond this, a timestamp is refused.
_CLOCK_SKEW = timedelta(minutes=5)
# No channel delivered messages before this; earlier is a client bug (or 0001-01-01).
_EARLIEST_SENT_AT = datetime(2000, 1, 1, tzinfo=UTC)
_SENT_AT_RANGE = "sent_at must be between 2000-01-01 and now"


class IncomingMessage(BaseModel):
    """The JSON body a channel posts. Unknown keys are refused, so typos fail loudly."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(
        min_length=1, max_length=200, description="The sender's id on the channel"
    )
    text: str = Field(min_length=1, max_length=4000)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    message_id: str | None = Field(default=None, max_length=200)
    direction: Direction = Direction.INCOMING
    sent_at: datetime | None = None

    @field_validator("external_id", "text", "name", "email", "phone", "message_id")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return clean_text(value)
        except FieldValueError as error:
            raise ValueError(str(error)) from None

    @field_validator("message_id")
    @classmethod
    def _blank_id_is_no_id(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        try:
            return field_type("email").validate(value)
        except FieldValueError as error:
            raise ValueError(str(error)) from None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        try:
            return field_type("phone").validate(value)
        except FieldValueError as error:
            raise ValueError(str(error)) from None

    @field_validator("sent_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("sent_at needs a time zone (e.g. 2026-11-22T10:00:00Z)")
        try:
            value = value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 is before year 1 in UTC
            raise ValueError(_SENT_AT_RANGE) from None
        if value < _EARLIEST_SENT_AT:
            raise ValueError(_SENT_AT_RANGE)
        if value > utcnow().replace(microsecond=0) + _CLOCK_SKEW:
            raise ValueError("sent_at is in the future")
        return value


@dataclass
class IngestResult:
    contact_id: int
    conversation_id: int
    message_id: int
    contact_created: bool
    duplicate: bool = False


class _AlreadyStored(Exception):
    """The message id was stored by a delivery that committed while this one ran."""


# Attempts to pin a sender's contact: one more only when it was deleted in between.
_CONTACT_ATTEMPTS = 3


def ingest_message(
    session: Session, workspace_id: int, channel: str, incoming: IncomingMessage
) -> IngestResult:
    """Find the contact (by channel id, then phone, then email) or create it; append the
    message to its open conversation on the channel; bump last interaction.

    Safe under concurrent deliveries (a channel retrying, several workers): the message
    and the sender are inserted with ON CONFLICT DO NOTHING against the unique indexes
    on (workspace, channel, external id) and re-read when another delivery won, and the
    sender's contact row is locked before its conversation is chosen, so N identical
    posts store one message, one contact and one conversation on SQLite and PostgreSQL.
    """
    if channel not in {c.value for c in MESSAGING_CHANNELS}:
        names = ", ".join(c.value for c in MESSAGING_CHANNELS)
        raise UnknownChannel(f"Unknown channel “{channel}”; use one of {names}.")
    sent_at = incoming.sent_at or utcnow()

    # A retried delivery is answered without writing anything.
    stored = _stored_message(session, workspace_id, channel, incoming.message_id)
    if stored is not None:
        return stored

    contact, created = _pinned_contact(session, workspace_id, channel, incoming, sent_at)
    # Deliveries for this sender now run one at a time: what they stored is visible.
    stored = _stored_message(session, workspace_id, channel, incoming.message_id)
    if stored is not None:
        return stored
    try:
        # A savepoint, so that a message id another sender's delivery stored meanwhile
        # undoes this delivery's conversation and contact changes.
        with session.begin_nested():
            result = _append_message(session, workspace_id, channel, incoming, contact, sent_at)
    except _AlreadyStored:
        stored = _stored_message(session, workspace_id, channel, incoming.message_id)
        assert stored is not None  # the conflict was with a committed row
        return stored
    result.contact_created = created
    return result


def _append_message(
    session: Session,
    workspace_id: int,
    channel: str,
    incoming: IncomingMessage,
    contact: Contact,
    sent_at: datetime,
) -> IngestResult:
    _fill_in(session, contact, channel, incoming)
    conversation = session.execute(
        sa.select(Conversation)
        .where(
            Conversation.contact_id == contact.id,
            Conversation.channel == channel,
            Conversation.status != ConversationStatus.RESOLVED.value,
        )
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if conversation is None:
        conversation = Conversation(
            workspace_id=workspace_id, contact_id=contact.id, channel=channel, created_at=sent_at
        )
    conversation.updated_at = max(_aware(conversation.updated_at), sent_at)
    session.add(conversation)
    session.flush()

    message = Message(
        conversation_id=conversation.id,
        workspace_id=workspace_id,
        channel=channel,
        direction=incoming.direction.value,
        text=incoming.text,
        sent_at=sent_at,
        external_id=incoming.message_id,
    )
    message_id = _insert_once(session, Message, message, Message.external_id)
    if message_id is None:
        raise _AlreadyStored
    if contact.last_interaction_at is None or sent_at >= _aware(contact.last_interaction_at):
        contact.last_interaction_at = sent_at
        contact.last_message_text = incoming.text[:500]
        contact.last_message_direction = incoming.direction.value
    contact.updated_at = utcnow()
    session.add(contact)
    bump_data_version(session, workspace_id)
    session.flush()
    assert contact.id is not None and conversation.id is not None
    return IngestResult(contact.id, conversation.id, message_id, False)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _stored_message(
    session: Session, workspace_id: int, channel: str, message_id: str | None
) -> IngestResult | None:
    if not message_id:
        return None
    existing = session.execute(
        sa.select(Message.id, Conversation.id, Conversation.contact_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.workspace_id == workspace_id,
            Message.channel == channel,
            Message.external_id == message_id,
        )
    ).first()
    if existing is None:
        return None
    return IngestResult(existing[2], existing[1], existing[0], False, duplicate=True)


def _insert_once(session: Session, model: type[SQLModel], row: SQLModel, external_id) -> int | None:
    """INSERT the row unless its (workspace, channel, external id) is taken: the new id, or
    None when another transaction's row holds that key (waiting for it to commit first)."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgres_insert
    table = model.__table__  # type: ignore[attr-defined]
    values = {k: v for k, v in row.model_dump().items() if k != "id"}
    statement = (
        insert(table)
        .values(values)
        .on_conflict_do_nothing(
            index_elements=[table.c.workspace_id, table.c.channel, table.c.external_id],
            index_where=external_id.is_not(None),
        )
        .returning(table.c.id)
    )
    return session.execute(statement).scalar_one_or_none()


def _pinned_contact(
    session: Session,
    workspace_id: int,
    channel: str,
    incoming: IncomingMessage,
    sent_at: datetime,
) -> tuple[Contact, bool]:
    """The sender's contact, found or created, with its row locked for this transaction
    (a no-op UPDATE: a row lock on PostgreSQL, the database's write lock on SQLite) and
    read again after the lock, so that it reflects deliveries that committed meanwhile."""
    for _ in range(_CONTACT_ATTEMPTS):
        contact_id, created = _find_or_create_contact(
            session, workspace_id, channel, incoming, sent_at
        )
        locked = session.execute(
            sa.update(Contact)
            .where(Contact.id == contact_id, Contact.workspace_id == workspace_id)
            .values(updated_at=Contact.updated_at)
            .execution_options(synchronize_session=False)
        )
        if locked.rowcount == 1:
            contact = session.get(Contact, contact_id, populate_existing=True)
            assert contact is not None
            return contact, created
        # Deleted between the lookup and the lock: look again.
    raise RuntimeError(f"The sender's contact kept disappearing (workspace {workspace_id}).")


def _find_or_create_contact(
    session: Session,
    workspace_id: int,
    channel: str,
    incoming: IncomingMessage,
    sent_at: datetime,
) -> tuple[int, bool]:
    found = _existing_contact_id(session, workspace_id, channel, incoming)
    if found is not None:
        return found, False
    contact = Contact(
        workspace_id=workspace_id,
        name=incoming.name or incoming.email or incoming.phone or f"{channel.title()} visitor",
        email=incoming.email,
        phone=incoming.phone,
        phone_digits=digits_only(incoming.phone) or None,
        channel=channel,
        external_id=incoming.external_id,
        avatar_color=AVATAR_COLORS[sum(map(ord, incoming.external_id)) % len(AVATAR_COLORS)],
        created_at=sent_at,
    )
    created = _insert_once(session, Contact, contact, Contact.external_id)
    if created is not None:
        return created, True
    # A concurrent first message from this sender created the contact: use that one.
    return session.execute(
        sa.select(Contact.id).where(
            Contact.workspace_id == workspace_id,
            Contact.channel == channel,
            Contact.external_id == incoming.external_id,
        )
    ).scalar_one(), False


def _existing_contact_id(
    session: Session, workspace_id: int, channel: str, incoming: IncomingMessage
) -> int | None:
    """The sender's contact: by its id on this channel, else by phone, else by email;
    each looked up among the contacts, then among those merged into another one (whose
    ids now belong to the contact they were merged into)."""
    lookups = [
        (
            sa.and_(Contact.channel == channel, Contact.external_id == incoming.external_id),
            {"channel": channel, "external_id": incoming.external_id},
        )
    ]
    if incoming.phone:
        lookups.append((Contact.phone == incoming.phone, {"phone": incoming.phone}))
    if incoming.email:
        lookups.append((Contact.email == incoming.email, {"email": incoming.email}))
    for condition, merged_key in lookups:
        found = session.execute(
            sa.select(Contact.id)
            .where(Contact.workspace_id == workspace_id, condition)
            .order_by(Contact.id)
            .limit(1)
        ).scalar_one_or_none()
        if found is None:
            found = merged_contact_by(session, workspace_id, **merged_key)
        if found is not None:
            return found
    return None


def _fill_in(session: Session, contact: Contact, channel: str, incoming: IncomingMessage) -> None:
    """Fill in what the contact did not have yet; never overwrite what a user typed."""
    if contact.channel == channel and not contact.external_id:
        # Another contact may have been given this channel id meanwhile: then this one
        # stays without it (the unique index says no; the savepoint keeps the rest).
        try:
            with session.begin_nested():
                session.execute(
                    sa.update(Contact)
                    .where(Contact.id == contact.id, Contact.external_id.is_(None))
                    .values(external_id=incoming.external_id)
                    .execution_options(synchronize_session=False)
                )
        except sa.exc.IntegrityError:
            pass
        session.refresh(contact, ["external_id"])
    contact.name = contact.name or incoming.name or ""
    contact.email = contact.email or incoming.email
    if not contact.phone and incoming.phone:
        contact.phone = incoming.phone
        contact.phone_digits = digits_only(incoming.phone)
