"""Ingestion: a message arriving on a channel creates or updates its contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session

from cloodot_app.errors import UnknownChannel
from cloodot_app.fieldtypes import FieldValueError, digits_only, field_type
from cloodot_app.models import (
    MESSAGING_CHANNELS,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    utcnow,
)
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
        value = value.astimezone(UTC)
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


def ingest_message(
    session: Session, workspace_id: int, channel: str, incoming: IncomingMessage
) -> IngestResult:
    """Find the contact (by channel id, then phone, then email) or create it; append the
    message to its open conversation on the channel; bump last interaction."""
    if channel not in {c.value for c in MESSAGING_CHANNELS}:
        names = ", ".join(c.value for c in MESSAGING_CHANNELS)
        raise UnknownChannel(f"Unknown channel “{channel}”; use one of {names}.")
    sent_at = incoming.sent_at or utcnow()

    if incoming.message_id:
        existing = session.execute(
            sa.select(Message.id, Conversation.id, Conversation.contact_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Conversation.workspace_id == workspace_id,
                Conversation.channel == channel,
                Message.external_id == incoming.message_id,
            )
        ).first()
        if existing is not None:
            return IngestResult(existing[2], existing[1], existing[0], False, duplicate=True)

    contact, created = _find_or_create_contact(session, workspace_id, channel, incoming, sent_at)
    conversation = session.execute(
        sa.select(Conversation)
        .where(
            Conversation.contact_id == contact.id,
            Conversation.channel == channel,
            Conversation.status != ConversationStatus.RESOLVED.value,
        )
        .order_by(Conversation.updated_at.desc())
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
        direction=incoming.direction.value,
        text=incoming.text,
        sent_at=sent_at,
        external_id=incoming.message_id,
    )
    session.add(message)
    if contact.last_interaction_at is None or sent_at >= _aware(contact.last_interaction_at):
        contact.last_interaction_at = sent_at
        contact.last_message_text = incoming.text[:500]
        contact.last_message_direction = incoming.direction.value
    contact.updated_at = utcnow()
    session.add(contact)
    bump_data_version(session, workspace_id)
    session.flush()
    return IngestResult(contact.id, conversation.id, message.id, created)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _find_or_create_contact(
    session: Session,
    workspace_id: int,
    channel: str,
    incoming: IncomingMessage,
    sent_at: datetime,
) -> tuple[Contact, bool]:
    in_workspace = Contact.workspace_id == workspace_id
    lookups = [sa.and_(Contact.channel == channel, Contact.external_id == incoming.external_id)]
    if incoming.phone:
        lookups.append(Contact.phone == incoming.phone)
    if incoming.email:
        lookups.append(Contact.email == incoming.email)
    for condition in lookups:
        contact = session.execute(
            sa.select(Contact).where(in_workspace, condition).order_by(Contact.id).limit(1)
        ).scalar_one_or_none()
        if contact is not None:
            # Fill in what the contact did not have yet; never overwrite what a user typed.
            contact.name = contact.name or incoming.name or ""
            contact.email = contact.email or incoming.email
            if not contact.phone and incoming.phone:
                contact.phone = incoming.phone
                contact.phone_digits = digits_only(incoming.phone)
            if contact.channel == channel and not contact.external_id:
                contact.external_id = incoming.external_id
            return contact, False
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
    session.add(contact)
    session.flush()
    return contact, True
