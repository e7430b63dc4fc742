"""Contacts: the page query behind the table, one contact's details, edits and deletion."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.errors import NotFound
from cloodot_app.fieldtypes import FieldValueError, digits_only, field_type
from cloodot_app.filters import (
    CONTACT_FIELD_PREFIX,
    CompileContext,
    FieldCatalog,
    FilterError,
    FilterSpec,
    compile_filter,
)
from cloodot_app.models import (
    Contact,
    ContactLabel,
    Conversation,
    ConversationLabel,
    CustomFieldDefinition,
    FieldEntity,
    Label,
    Message,
    Segment,
    utcnow,
)
from cloodot_app.services.workspaces import bump_data_version, field_catalog

PAGE_SIZES = (10, 25, 50, 100)
SORTABLE = ("name", "email", "phone", "created_at", "last_interaction_at")

# The FTS5 table the migrations create on SQLite; kept off SQLModel's metadata so Alembic
# never tries to manage it.
_contact_search = sa.Table(
    "contact_search",
    sa.MetaData(),
    sa.Column("rowid", sa.Integer),
    sa.Column("contact_search", sa.Text),
)


@dataclass
class ContactQuery:
    """Everything the table's view is made of, except the page's rows."""

    search: str = ""
    filter: FilterSpec = field(default_factory=FilterSpec)
    segment_id: int | None = None
    sort: str = "created_at"
    descending: bool = True
    page: int = 1
    page_size: int = 10


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    page: int
    page_size: int

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


# --------------------------------------------------------------------------- querying


def search_condition(term: str, ctx: CompileContext) -> sa.ColumnElement[bool]:
    """Name, email or phone contains `term`; a phone matches whatever punctuation is typed.

    Served by an index on both databases (FTS5 trigram / pg_trgm). `%` and `_` are literal.
    Any text is safe: NUL (which PostgreSQL refuses) counts as a space, what is not
    encodable text (a lone surrogate) as "?", and the term is cut to 200 characters.
    """
    term = term if isinstance(term, str) else ""
    term = term.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")
    term = " ".join(term.split())[:200].strip()
    if not term:
        return sa.true()
    digits = digits_only(term)
    # The same rule on both databases: a search of three or more characters looks in the
    # phone only for three or more digits (a trigram index cannot serve fewer), so "y 1"
    # finds "Percy 100%" and not every phone with a 1 in it.
    search_phone = len(digits) >= 3 or (bool(digits) and len(term) < 3)
    if ctx.dialect == "sqlite" and len(term) >= 3:
        quoted = '"' + term.replace('"', '""') + '"'
        query = "{name email}: " + quoted
        if search_phone:
            query += f' OR phone_digits: "{digits}"'
        matches = sa.select(_contact_search.c.rowid).where(
            _contact_search.c.contact_search.op("MATCH")(query)
        )
        return Contact.id.in_(matches)
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    parts = [
        Contact.name.ilike(f"%{escaped}%", escape="\\"),
        Contact.email.ilike(f"%{escaped}%", escape="\\"),
    ]
    if search_phone:
        parts.append(Contact.phone_digits.like(f"%{digits}%"))
    return sa.or_(*parts)


def segment_spec(session: Session, workspace_id: int, segment_id: int) -> FilterSpec:
    segment = session.get(Segment, segment_id)
    if segment is None or segment.workspace_id != workspace_id:
        raise NotFound("That segment no longer exists.")
    return FilterSpec.parse(segment.filter_spec)


def contact_condition(
    session: Session,
    workspace_id: int,
    query: ContactQuery,
    catalog: FieldCatalog | None = None,
    ctx: CompileContext | None = None,
) -> sa.ColumnElement[bool]:
    """The WHERE clause of a view: workspace AND search AND segment AND quick filters."""
    catalog = catalog or field_catalog(session, workspace_id)
    ctx = ctx or CompileContext.for_session(session)
    parts = [
        Contact.workspace_id == workspace_id,
        search_condition(query.search, ctx),
        compile_filter(FilterSpec.parse(query.filter), catalog, ctx),
    ]
    if query.segment_id is not None:
        spec = segment_spec(session, workspace_id, query.segment_id)
        parts.append(compile_filter(spec, catalog, ctx))
    return sa.and_(*parts)


def sort_order(sort: str, descending: bool, dialect: str) -> list:
    if sort not in SORTABLE:
        raise FilterError(f"Contacts cannot be sorted by “{sort}”.")
    column = getattr(Contact, sort)
    ordered = column.desc() if descending else column.asc()
    if dialect == "postgresql" and column.nullable:
        # Match SQLite, where NULL sorts first ascending and last descending. (Only for
        # nullable columns: on the others the clause would stop PostgreSQL using the index.)
        ordered = ordered.nulls_last() if descending else ordered.nulls_first()
    return [ordered, Contact.id.desc() if descending else Contact.id.asc()]


def count_contacts(session: Session, workspace_id: int, query: ContactQuery) -> int:
    where = contact_condition(session, workspace_id, query)
    return session.execute(
        sa.select(sa.func.count()).select_from(Contact).where(where)
    ).scalar_one()


def list_contacts(session: Session, workspace_id: int, query: ContactQuery) -> Page:
    """One page of rows (plain dicts) and the total that match the view."""
    catalog = field_catalog(session, workspace_id)
    ctx = CompileContext.for_session(session)
    where = contact_condition(session, workspace_id, query, catalog, ctx)
    page_size = query.page_size if query.page_size in PAGE_SIZES else PAGE_SIZES[0]
    total = session.execute(
        sa.select(sa.func.count()).select_from(Contact).where(where)
    ).scalar_one()
    page_count = max(1, math.ceil(total / page_size))
    page = min(max(1, query.page), page_count)
    contacts = (
        session.execute(
            sa.select(Contact)
            .where(where)
            .order_by(*sort_order(query.sort, query.descending, ctx.dialect))
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        .scalars()
        .all()
    )
    rows = contact_rows(session, workspace_id, contacts, catalog)
    return Page(rows=rows, total=total, page=page, page_size=page_size)


def contact_rows(
    session: Session, workspace_id: int, contacts: list[Contact], catalog: FieldCatalog
) -> list[dict[str, Any]]:
    ids = [c.id for c in contacts]
    labels = _labels_by_contact(session, ids)
    conversation_values = _latest_conversation_fields(session, ids)
    contact_fields = [f for f in catalog.fields.values() if f.source == "contact"]
    rows = []
    for contact in contacts:
        row = contact_summary(contact)
        row["labels"] = labels.get(contact.id, [])
        row["custom_fields"] = {
            f.json_key: _display(f.field_type, (contact.custom_fields or {}).get(f.json_key))
            for f in contact_fields
        }
        row["custom_values"] = {
            f.json_key: (contact.custom_fields or {}).get(f.json_key) for f in contact_fields
        }
        row["conversation_fields"] = conversation_values.get(contact.id, {})
        rows.append(row)
    return rows


def contact_summary(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "initials": initials(contact.name),
        "email": contact.email or "",
        "phone": contact.phone or "",
        "image_url": contact.image_url or "",
        "avatar_color": contact.avatar_color,
        "channel": contact.channel,
        "created_at": _iso(contact.created_at),
        "last_interaction_at": _iso(contact.last_interaction_at),
        "last_message_text": contact.last_message_text or "",
        "last_message_direction": contact.last_message_direction or "",
        "campaign_opt_in": contact.campaign_opt_in,
    }


def initials(name: str) -> str:
    parts = [p for p in name.split() if p[:1].isalnum()]
    if not parts:
        return "?"
    return (parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")).upper()


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _display(type_name: str, value: Any) -> str:
    return (
        field_type(type_name).display(value) if type_name else ("" if value is None else str(value))
    )


def _labels_by_contact(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not ids:
        return {}
    result: dict[int, list[dict[str, Any]]] = {}
    for contact_id, label_id, name, color in session.execute(
        sa.select(ContactLabel.contact_id, Label.id, Label.name, Label.color)
        .join(Label, Label.id == ContactLabel.label_id)
        .where(ContactLabel.contact_id.in_(ids))
        .order_by(Label.name)
    ):
        result.setdefault(contact_id, []).append({"id": label_id, "name": name, "color": color})
    return result


def _latest_conversation_fields(session: Session, ids: list[int]) -> dict[int, dict[str, str]]:
    """Each contact's conversation custom fields, as set on its most recent conversation
    that has a value for them (what the read-only conversation columns show)."""
    if not ids:
        return {}
    definitions = {
        d.key: d.type
        for d in session.execute(
            sa.select(CustomFieldDefinition).where(
                CustomFieldDefinition.entity == FieldEntity.CONVERSATION.value,
                CustomFieldDefinition.workspace_id
                == sa.select(Contact.workspace_id).where(Contact.id == ids[0]).scalar_subquery(),
            )
        ).scalars()
    }
    result: dict[int, dict[str, str]] = {}
    for contact_id, values in session.execute(
        sa.select(Conversation.contact_id, Conversation.custom_fields)
        .where(Conversation.contact_id.in_(ids))
        .order_by(Conversation.updated_at.desc())
    ):
        summary = result.setdefault(contact_id, {})
        for key, value in (values or {}).items():
            if key in definitions and key not in summary and value not in (None, "", []):
                summary[key] = _display(definitions[key], value)
    return result


def get_contact(session: Session, workspace_id: int, contact_id: int) -> dict[str, Any]:
    """One contact with labels, custom fields and its recent conversations."""
    contact = _owned_contact(session, workspace_id, contact_id)
    catalog = field_catalog(session, workspace_id)
    row = contact_rows(session, workspace_id, [contact], catalog)[0]
    row["updated_at"] = _iso(contact.updated_at)
    row["conversations"] = recent_conversations(session, workspace_id, contact_id)
    return row


def recent_conversations(
    session: Session, workspace_id: int, contact_id: int, limit: int = 10, messages: int = 3
) -> list[dict[str, Any]]:
    definitions = {
        d.key: d
        for d in session.execute(
            sa.select(CustomFieldDefinition)
            .where(
                CustomFieldDefinition.workspace_id == workspace_id,
                CustomFieldDefinition.entity == FieldEntity.CONVERSATION.value,
            )
            .order_by(CustomFieldDefinition.position)
        ).scalars()
    }
    conversations = (
        session.execute(
            sa.select(Conversation)
            .where(Conversation.contact_id == contact_id, Conversation.workspace_id == workspace_id)
            .order_by(Conversation.updated_at.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    ids = [c.id for c in conversations]
    labels: dict[int, list[dict[str, Any]]] = {}
    if ids:
        for conversation_id, label_id, name, color in session.execute(
            sa.select(ConversationLabel.conversation_id, Label.id, Label.name, Label.color)
            .join(Label, Label.id == ConversationLabel.label_id)
            .where(ConversationLabel.conversation_id.in_(ids))
        ):
            labels.setdefault(conversation_id, []).append(
                {"id": label_id, "name": name, "color": color}
            )
    result = []
    for conversation in conversations:
        last_messages = (
            session.execute(
                sa.select(Message)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.sent_at.desc(), Message.id.desc())
                .limit(messages)
            )
            .scalars()
            .all()
        )
        result.append(
            {
                "id": conversation.id,
                "channel": conversation.channel,
                "status": conversation.status,
                "created_at": _iso(conversation.created_at),
                "updated_at": _iso(conversation.updated_at),
                "labels": labels.get(conversation.id, []),
                "fields": [
                    {"label": d.label, "value": _display(d.type, value)}
                    for key, d in definitions.items()
                    if (value := (conversation.custom_fields or {}).get(key)) not in (None, "", [])
                ],
                "messages": [
                    {
                        "direction": m.direction,
                        "text": m.text,
                        "sent_at": _iso(m.sent_at),
                    }
                    for m in reversed(last_messages)
                ],
            }
        )
    return result


# --------------------------------------------------------------------------- editing

# Built-in fields a user may edit, with the field type that validates them.
EDITABLE_BUILTINS = {"name": "text", "email": "email", "phone": "phone", "image_url": "url"}


def _owned_contact(session: Session, workspace_id: int, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.workspace_id != workspace_id:
        raise NotFound("That contact no longer exists.")
    return contact


def update_contact_field(
    session: Session, workspace_id: int, contact_id: int, field_key: str, raw: Any
) -> Any:
    """Validate and store one field; return the stored value. Raises FieldValueError."""
    contact = _owned_contact(session, workspace_id, contact_id)
    if field_key == "campaign_opt_in":
        if not isinstance(raw, bool):
            raise FieldValueError("Campaign opt-in is either on or off.")
        contact.campaign_opt_in = raw
        stored: Any = raw
    elif field_key in EDITABLE_BUILTINS:
        stored = field_type(EDITABLE_BUILTINS[field_key]).validate(raw)
        if field_key == "name":
            if not stored:
                raise FieldValueError("A contact needs a name.")
            if len(stored) > 200:
                raise FieldValueError("Keep the name under 200 characters.")
        setattr(contact, field_key, stored)
        if field_key == "phone":
            contact.phone_digits = digits_only(stored) or None
    elif field_key.startswith(CONTACT_FIELD_PREFIX):
        key = field_key.removeprefix(CONTACT_FIELD_PREFIX)
        definition = session.execute(
            sa.select(CustomFieldDefinition).where(
                CustomFieldDefinition.workspace_id == workspace_id,
                CustomFieldDefinition.entity == FieldEntity.CONTACT.value,
                CustomFieldDefinition.key == key,
            )
        ).scalar_one_or_none()
        if definition is None:
            raise FieldValueError("That field no longer exists.")
        stored = field_type(definition.type).validate(raw, definition.options)
        values = dict(contact.custom_fields or {})
        if stored is None:
            values.pop(key, None)
        else:
            values[key] = stored
        contact.custom_fields = values
    else:
        raise FieldValueError(f"“{field_key}” cannot be edited.")
    contact.updated_at = utcnow()
    session.add(contact)
    bump_data_version(session, workspace_id)
    session.flush()
    return stored


def set_contact_labels(
    session: Session, workspace_id: int, contact_id: int, label_ids: list[int]
) -> list[int]:
    contact = _owned_contact(session, workspace_id, contact_id)
    wanted = set(label_ids)
    owned = set(
        session.execute(
            sa.select(Label.id).where(Label.workspace_id == workspace_id, Label.id.in_(wanted))
        ).scalars()
    )
    if owned != wanted:
        raise NotFound("A label you chose no longer exists.")
    session.execute(sa.delete(ContactLabel).where(ContactLabel.contact_id == contact.id))
    if wanted:
        session.execute(
            sa.insert(ContactLabel),
            [{"contact_id": contact.id, "label_id": label_id} for label_id in sorted(wanted)],
        )
    contact.updated_at = utcnow()
    session.add(contact)
    bump_data_version(session, workspace_id)
    session.flush()
    return sorted(wanted)


# --------------------------------------------------------------------------- deleting


@dataclass
class Selection:
    """Which contacts a bulk action is for: listed ids, or every contact a view matches."""

    ids: list[int] = field(default_factory=list)
    query: ContactQuery | None = None

    def condition(self, session: Session, workspace_id: int) -> sa.ColumnElement[bool]:
        if self.query is not None:
            return contact_condition(session, workspace_id, self.query)
        return sa.and_(Contact.workspace_id == workspace_id, Contact.id.in_(self.ids or [-1]))


@dataclass
class DeletePreview:
    selected: int
    with_conversations: int

    @property
    def without_conversations(self) -> int:
        return self.selected - self.with_conversations


def delete_preview(session: Session, workspace_id: int, selection: Selection) -> DeletePreview:
    """What the confirmation dialog tells: how many have conversations, how many none."""
    where = selection.condition(session, workspace_id)
    has_conversation = sa.exists().where(Conversation.contact_id == Contact.id)
    selected, with_conversations = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((has_conversation, 1), else_=0)), 0),
        )
        .select_from(Contact)
        .where(where)
    ).one()
    return DeletePreview(selected=selected, with_conversations=int(with_conversations))


def delete_contacts(session: Session, workspace_id: int, selection: Selection) -> int:
    """Delete contacts with their conversations, messages and labels, in the caller's
    transaction (all or nothing). Returns how many contacts were deleted."""
    contact_ids = sa.select(Contact.id).where(selection.condition(session, workspace_id))
    ids = list(session.execute(contact_ids).scalars())
    if not ids:
        return 0
    for chunk in _chunks(ids, 500):
        conversation_ids = sa.select(Conversation.id).where(Conversation.contact_id.in_(chunk))
        session.execute(sa.delete(Message).where(Message.conversation_id.in_(conversation_ids)))
        session.execute(
            sa.delete(ConversationLabel).where(
                ConversationLabel.conversation_id.in_(conversation_ids)
            )
        )
        session.execute(sa.delete(Conversation).where(Conversation.contact_id.in_(chunk)))
        session.execute(sa.delete(ContactLabel).where(ContactLabel.contact_id.in_(chunk)))
        session.execute(
            sa.delete(Contact).where(Contact.workspace_id == workspace_id, Contact.id.in_(chunk))
        )
    bump_data_version(session, workspace_id)
    session.flush()
    return len(ids)


def _chunks(items: list[int], size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]
