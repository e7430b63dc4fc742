"""A contact as every list shows it (table, Leads board, segment preview, details drawer),
and the two reads a row needs beside the contact's own columns: its labels and its latest
conversation values. The CSV export reads those two with the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.errors import FieldValueError
from cloodot_app.fieldtypes import field_type
from cloodot_app.filters import FieldCatalog
from cloodot_app.models import Contact, ContactLabel, Conversation, Label
from cloodot_app.services.notes import latest_notes


@dataclass
class LabelTag:
    """A label as a badge shows it."""

    id: int = 0
    name: str = ""
    color: str = "gray"


@dataclass
class ContactRow:
    """One contact as plain data (never an ORM object): what a table row, a board card or
    a preview shows. Times are ISO-8601 strings ("" when unknown)."""

    id: int = 0
    name: str = ""
    initials: str = ""
    email: str = ""
    phone: str = ""
    image_url: str = ""
    avatar_color: str = "gray"
    channel: str = ""
    created_at: str = ""
    last_interaction_at: str = ""
    last_message_text: str = ""
    last_message_direction: str = ""
    campaign_opt_in: bool = False
    labels: list[LabelTag] = field(default_factory=list)
    # Contact custom fields by key, as shown (a number as typed, options joined).
    custom_fields: dict[str, str] = field(default_factory=dict)
    # Multi-select values as lists, for the multi-select editors.
    multi_values: dict[str, list[str]] = field(default_factory=dict)
    # Conversation custom fields by key, from the latest conversation that has a value.
    conversation_fields: dict[str, str] = field(default_factory=dict)
    # The newest note, on one line and cut short ("" without notes): the "Latest note" column.
    latest_note: str = ""


def initials(name: str) -> str:
    parts = [p for p in name.split() if p[:1].isalnum()]
    if not parts:
        return "?"
    return (parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")).upper()


def iso(value) -> str:
    return value.isoformat() if value else ""


def display(type_name: str, value: Any) -> str:
    """A stored custom-field value as text, by its field's type."""
    if value is None:
        return ""
    try:
        return field_type(type_name).display(value)
    except FieldValueError:  # a type this version no longer knows
        return str(value)


def contact_rows(
    session: Session, workspace_id: int, contacts: Sequence[Contact], catalog: FieldCatalog
) -> list[ContactRow]:
    """Rows for `contacts`, in their order: two queries whatever their number."""
    ids = [c.id for c in contacts if c.id is not None]
    labels = labels_by_contact(session, workspace_id, ids)
    contact_fields = [f for f in catalog.fields.values() if f.source == "contact"]
    conversation_types = {
        f.json_key: f.field_type for f in catalog.fields.values() if f.source == "conversation"
    }
    latest = latest_conversation_values(session, workspace_id, ids, set(conversation_types))
    notes = latest_notes(session, workspace_id, ids)
    rows = []
    for contact in contacts:
        values = contact.custom_fields or {}
        rows.append(
            ContactRow(
                id=contact.id or 0,
                name=contact.name,
                initials=initials(contact.name),
                email=contact.email or "",
                phone=contact.phone or "",
                image_url=contact.image_url or "",
                avatar_color=contact.avatar_color,
                channel=contact.channel,
                created_at=iso(contact.created_at),
                last_interaction_at=iso(contact.last_interaction_at),
                last_message_text=contact.last_message_text or "",
                last_message_direction=contact.last_message_direction or "",
                campaign_opt_in=contact.campaign_opt_in,
                labels=labels.get(contact.id or 0, []),
                custom_fields={
                    f.json_key: display(f.field_type, values.get(f.json_key))
                    for f in contact_fields
                },
                multi_values={
                    key: value for key, value in values.items() if isinstance(value, list)
                },
                conversation_fields={
                    key: display(conversation_types[key], value)
                    for key, value in latest.get(contact.id or 0, {}).items()
                },
                latest_note=notes.get(contact.id or 0, ""),
            )
        )
    return rows


def labels_by_contact(
    session: Session, workspace_id: int, ids: Sequence[int]
) -> dict[int, list[LabelTag]]:
    """Each contact's labels, by name."""
    if not ids:
        return {}
    result: dict[int, list[LabelTag]] = {}
    # One object per label, however many contacts wear it: a state pickles a repeated
    # object once (a board's cards were 9 KB of copies of the same few labels per tab).
    tags: dict[int, LabelTag] = {}
    for contact_id, label_id, name, color in session.execute(
        sa.select(ContactLabel.contact_id, Label.id, Label.name, Label.color)
        .join(Label, Label.id == ContactLabel.label_id)
        .where(ContactLabel.contact_id.in_(ids), Label.workspace_id == workspace_id)
        .order_by(ContactLabel.contact_id, Label.name)
    ):
        tag = tags.setdefault(label_id, LabelTag(label_id, name, color))
        result.setdefault(contact_id, []).append(tag)
    return result


def latest_conversation_values(
    session: Session, workspace_id: int, ids: Sequence[int], keys: set[str]
) -> dict[int, dict[str, Any]]:
    """Per contact and conversation field (of `keys`): the stored value on the most recent
    conversation that has one (what the read-only conversation columns show)."""
    if not ids or not keys:
        return {}
    result: dict[int, dict[str, Any]] = {}
    for contact_id, values in session.execute(
        sa.select(Conversation.contact_id, Conversation.custom_fields)
        .where(Conversation.workspace_id == workspace_id, Conversation.contact_id.in_(ids))
        .order_by(*CONVERSATION_RECENCY)
    ):
        add_older_values(result.setdefault(contact_id, {}), values, keys)
    return result


# A contact's conversations, most recent first: the order "latest value" and "recent
# conversations" both read them in (the export has its own query in this order).
CONVERSATION_RECENCY = (
    Conversation.contact_id,
    Conversation.updated_at.desc(),
    Conversation.id.desc(),
)


def add_older_values(latest: dict[str, Any], values: dict[str, Any] | None, keys: set[str]) -> None:
    """Fold one conversation's values into `latest`, conversations taken newest first:
    a key keeps the first non-empty value it meets."""
    for key, value in (values or {}).items():
        if key in keys and key not in latest and value not in (None, "", []):
            latest[key] = value
