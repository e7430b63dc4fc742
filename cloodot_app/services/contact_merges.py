"""Duplicates and merging: the "Possible duplicates" groups (same email, same phone
digits, or a similar name with the same phone ending), and the merge of two or more
contacts into one, in one transaction, keeping every id they were known by."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from cloodot_app.access import Identity
from cloodot_app.errors import FieldValueError, NotFound
from cloodot_app.fieldtypes import digits_only
from cloodot_app.models import (
    BulkEditChange,
    Contact,
    ContactLabel,
    ContactMerge,
    Conversation,
    CustomFieldDefinition,
    FieldEntity,
    Label,
    User,
    utcnow,
)
from cloodot_app.services import audit
from cloodot_app.services.audit import ConsentSource
from cloodot_app.services.contact_rows import LabelTag, display, iso
from cloodot_app.services.workspaces import bump_data_version

MERGE = "contacts.merge"

# Groups the finder lists, and contacts it lists per group (a merge takes at most these).
MAX_GROUPS = 25
MAX_MEMBERS = 10
MAX_MERGE = MAX_MEMBERS
# A phone's last digits: the same number with and without its country code.
PHONE_TAIL = 8
# difflib's ratio from which two names are "close" ("Jon Smith" / "John Smith": 0.95).
CLOSE_NAME_RATIO = 0.85

KIND_WORDS = {
    "email": "Same email",
    "phone": "Same phone",
    "name_phone": "Similar name, same phone ending",
}


def phone_tail(dialect: str) -> Any:
    """The phone's last digits, as the expression index of revision d7a3f5b9c1e2 spells
    it (constants written into the SQL, so the index matches)."""
    if dialect == "postgresql":
        return sa.func.right(Contact.phone_digits, sa.literal_column(str(PHONE_TAIL)))
    return sa.func.substr(Contact.phone_digits, sa.literal_column(f"-{PHONE_TAIL}"))


# --------------------------------------------------------------------------- finding


@dataclass
class DuplicateMember:
    id: int = 0
    name: str = ""
    email: str = ""
    phone: str = ""
    channel: str = ""
    created_at: str = ""  # ISO 8601
    conversations: int = 0


@dataclass
class DuplicateGroup:
    kind: str = ""  # "email" | "phone" | "name_phone"
    reason: str = ""  # KIND_WORDS[kind]
    shared: str = ""  # the email, phone digits or phone ending they share
    size: int = 0  # how many contacts share it (more than listed when over MAX_MEMBERS)
    members: list[DuplicateMember] = field(default_factory=list)


def normal_name(name: str) -> str:
    """A name for comparing: no accents, no case, no punctuation, single spaces."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def close_names(a: str, b: str) -> bool:
    """Same name but for case, accents and punctuation; or one's words within the
    other's ("Ana Ruiz" / "Ana Ruiz Gil"); or a small typo."""
    left, right = normal_name(a), normal_name(b)
    if not left or not right:
        return False
    if left == right:
        return True
    words_left, words_right = set(left.split()), set(right.split())
    if words_left <= words_right or words_right <= words_left:
        return True
    return difflib.SequenceMatcher(None, left, right).ratio() >= CLOSE_NAME_RATIO


def find_duplicates(
    session: Session, workspace_id: int, limit: int = MAX_GROUPS
) -> list[DuplicateGroup]:
    """The largest groups of possible duplicates, largest first. Each kind is one GROUP
    BY over an index of (workspace, key); only the listed groups' members are read."""
    dialect = session.get_bind().dialect.name
    in_workspace = Contact.workspace_id == workspace_id
    candidates: list[tuple[int, str, str]] = []  # (size, kind, key)
    for kind, column, present in (
        ("email", Contact.email, Contact.email.is_not(None)),
        ("phone", Contact.phone_digits, Contact.phone_digits.is_not(None)),
    ):
        count = sa.func.count()
        for key, size in session.execute(
            sa.select(column, count)
            .where(in_workspace, present, column != "")
            .group_by(column)
            .having(count > 1)
            .order_by(count.desc(), column)
            .limit(limit)
        ):
            candidates.append((size, kind, key or ""))
    groups = [_group(session, workspace_id, kind, key, size) for size, kind, key in candidates]
    groups += _close_names_with_phone_tail(session, workspace_id, dialect, limit)
    groups.sort(key=lambda g: (-g.size, g.kind, g.shared))
    listed: list[DuplicateGroup] = []
    seen: set[frozenset[int]] = set()
    for group in groups:
        ids = frozenset(m.id for m in group.members)
        if len(ids) < 2 or ids in seen:
            continue
        seen.add(ids)
        listed.append(group)
        if len(listed) == limit:
            break
    _count_conversations(session, listed)
    return listed


def _group(session: Session, workspace_id: int, kind: str, key: str, size: int) -> DuplicateGroup:
    column = Contact.email if kind == "email" else Contact.phone_digits
    contacts = session.execute(
        sa.select(Contact)
        .where(Contact.workspace_id == workspace_id, column == key)
        .order_by(Contact.id)
        .limit(MAX_MEMBERS)
    ).scalars()
    return DuplicateGroup(kind, KIND_WORDS[kind], key, size, [_member(c) for c in contacts])


def _close_names_with_phone_tail(
    session: Session, workspace_id: int, dialect: str, limit: int
) -> list[DuplicateGroup]:
    """Contacts whose phone digits differ but end the same (a number with and without
    its country code), and whose names are close."""
    tail = phone_tail(dialect)
    count = sa.func.count()
    tails = session.execute(
        sa.select(tail, count)
        .where(
            Contact.workspace_id == workspace_id,
            Contact.phone_digits.is_not(None),
            sa.func.length(Contact.phone_digits) >= PHONE_TAIL,
        )
        .group_by(tail)
        # More than one number per ending (min ≠ max reads the index in order, where
        # COUNT(DISTINCT) sorts again).
        .having(sa.func.min(Contact.phone_digits) != sa.func.max(Contact.phone_digits))
        .order_by(count.desc(), tail)
        .limit(limit)
    ).all()
    groups = []
    for key, _ in tails:
        contacts = list(
            session.execute(
                sa.select(Contact)
                .where(Contact.workspace_id == workspace_id, tail == key)
                .order_by(Contact.id)
                .limit(MAX_MEMBERS * 5)
            ).scalars()
        )
        for cluster in _name_clusters(contacts):
            if len({c.phone_digits for c in cluster}) > 1:
                members = [_member(c) for c in cluster[:MAX_MEMBERS]]
                groups.append(
                    DuplicateGroup(
                        "name_phone", KIND_WORDS["name_phone"], f"…{key}", len(cluster), members
                    )
                )
    return groups


def _name_clusters(contacts: list[Contact]) -> list[list[Contact]]:
    """Contacts joined by close names (transitively), clusters of two or more."""
    parent = list(range(len(contacts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(contacts):
        for j in range(i + 1, len(contacts)):
            if close_names(a.name, contacts[j].name):
                parent[root(j)] = root(i)
    clusters: dict[int, list[Contact]] = {}
    for i, contact in enumerate(contacts):
        clusters.setdefault(root(i), []).append(contact)
    return [c for c in clusters.values() if len(c) > 1]


def _member(contact: Contact) -> DuplicateMember:
    return DuplicateMember(
        id=contact.id or 0,
        name=contact.name,
        email=contact.email or "",
        phone=contact.phone or "",
        channel=contact.channel,
        created_at=iso(contact.created_at),
    )


def _count_conversations(session: Session, groups: list[DuplicateGroup]) -> None:
    ids = {m.id for g in groups for m in g.members}
    if not ids:
        return
    counts = dict(
        session.execute(
            sa.select(Conversation.contact_id, sa.func.count())
            .where(Conversation.contact_id.in_(ids))
            .group_by(Conversation.contact_id)
        ).all()
    )
    for group in groups:
        for member in group.members:
            member.conversations = counts.get(member.id, 0)


# --------------------------------------------------------------------------- the dialog


@dataclass
class MergeValue:
    contact_id: int = 0
    shown: str = ""


@dataclass
class MergeField:
    """One field side by side: each contact's value, and whose survives by default."""

    key: str = ""  # "name", "email", "phone", "campaign_opt_in", "cf.<key>"
    label: str = ""
    values: list[MergeValue] = field(default_factory=list)
    default_contact_id: int = 0
    # True when the contacts do not all hold the same value (a choice to make).
    differs: bool = False


@dataclass
class MergeCandidate:
    id: int = 0
    name: str = ""
    channel: str = ""
    external_id: str = ""
    created_at: str = ""
    conversations: int = 0
    labels: list[LabelTag] = field(default_factory=list)


@dataclass
class MergePreview:
    primary_id: int = 0
    contacts: list[MergeCandidate] = field(default_factory=list)
    fields: list[MergeField] = field(default_factory=list)
    # The labels the merged contact will have (all of theirs).
    labels: list[LabelTag] = field(default_factory=list)


def _builtin_fields() -> list[tuple[str, str, str]]:
    return [
        ("name", "Name", "text"),
        ("email", "Email", "email"),
        ("phone", "Phone", "phone"),
        ("image_url", "Image URL", "url"),
    ]


def _contact_fields(session: Session, workspace_id: int) -> list[CustomFieldDefinition]:
    return list(
        session.execute(
            sa.select(CustomFieldDefinition)
            .where(
                CustomFieldDefinition.workspace_id == workspace_id,
                CustomFieldDefinition.entity == FieldEntity.CONTACT.value,
            )
            .order_by(CustomFieldDefinition.position, CustomFieldDefinition.id)
        ).scalars()
    )


def _values(contact: Contact, definitions: list[CustomFieldDefinition]) -> dict[str, Any]:
    """Every field the merge chooses, by key, as stored on `contact`."""
    values: dict[str, Any] = {key: getattr(contact, key) for key, _, _ in _builtin_fields()}
    values["campaign_opt_in"] = bool(contact.campaign_opt_in)
    custom = contact.custom_fields or {}
    for definition in definitions:
        values[f"cf.{definition.key}"] = custom.get(definition.key)
    return values


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _default_survivor(
    key: str, primary: Contact, contacts: list[Contact], values: dict[Any, dict[str, Any]]
) -> int:
    """The primary's value, unless it has none and another contact has one."""
    assert primary.id is not None
    if key == "campaign_opt_in" or not _empty(values[primary.id][key]):
        return primary.id
    for contact in contacts:
        assert contact.id is not None
        if not _empty(values[contact.id][key]):
            return contact.id
    return primary.id


def _load(session: Session, workspace_id: int, contact_ids: Sequence[int]) -> list[Contact]:
    ids = sorted(set(contact_ids))
    if not 2 <= len(ids) <= MAX_MERGE:
        raise FieldValueError(f"Choose between 2 and {MAX_MERGE} contacts to merge.")
    contacts = list(
        session.execute(
            sa.select(Contact)
            .where(Contact.workspace_id == workspace_id, Contact.id.in_(ids))
            .order_by(Contact.id)
        ).scalars()
    )
    if len(contacts) != len(ids):
        raise NotFound("One of these contacts no longer exists (deleted or merged meanwhile).")
    return contacts


def merge_preview(
    session: Session, workspace_id: int, contact_ids: Sequence[int], primary_id: int | None = None
) -> MergePreview:
    """The contacts side by side, field by field, with the value that survives by default
    (the primary's, unless it has none); the primary defaults to the oldest contact."""
    contacts = _load(session, workspace_id, contact_ids)
    primary = next((c for c in contacts if c.id == primary_id), contacts[0])
    definitions = _contact_fields(session, workspace_id)
    values = {c.id: _values(c, definitions) for c in contacts}
    types = {key: type_name for key, _, type_name in _builtin_fields()}
    labels = {f"cf.{d.key}": d.label for d in definitions}
    types.update({f"cf.{d.key}": d.type for d in definitions})
    rows = [(key, label) for key, label, _ in _builtin_fields()]
    rows += [("campaign_opt_in", "Campaign opt-in")]
    rows += [(key, labels[key]) for key in labels]
    fields_ = []
    for key, label in rows:
        shown = [
            MergeValue(
                c.id or 0,
                ("On" if values[c.id][key] else "Off")
                if key == "campaign_opt_in"
                else display(types[key], values[c.id][key]),
            )
            for c in contacts
        ]
        fields_.append(
            MergeField(
                key,
                label,
                shown,
                _default_survivor(key, primary, contacts, values),
                len({v.shown for v in shown}) > 1,
            )
        )
    by_contact = _labels_of(session, [c.id or 0 for c in contacts])
    conversations = dict(
        session.execute(
            sa.select(Conversation.contact_id, sa.func.count())
            .where(Conversation.contact_id.in_([c.id for c in contacts]))
            .group_by(Conversation.contact_id)
        ).all()
    )
    united: dict[int, LabelTag] = {}
    for tags in by_contact.values():
        for tag in tags:
            united.setdefault(tag.id, tag)
    return MergePreview(
        primary.id or 0,
        [
            MergeCandidate(
                c.id or 0,
                c.name,
                c.channel,
                c.external_id or "",
                iso(c.created_at),
                conversations.get(c.id or 0, 0),
                by_contact.get(c.id or 0, []),
            )
            for c in contacts
        ],
        fields_,
        sorted(united.values(), key=lambda t: (t.name.casefold(), t.id)),
    )


def _labels_of(session: Session, ids: list[int]) -> dict[int, list[LabelTag]]:
    result: dict[int, list[LabelTag]] = {}
    for contact_id, label_id, name, color in session.execute(
        sa.select(ContactLabel.contact_id, Label.id, Label.name, Label.color)
        .join(Label, Label.id == ContactLabel.label_id)
        .where(ContactLabel.contact_id.in_(ids))
        .order_by(Label.name)
    ):
        result.setdefault(contact_id, []).append(LabelTag(label_id, name, color))
    return result


# --------------------------------------------------------------------------- merging


@dataclass
class MergeResult:
    contact_id: int
    merged: int  # how many contacts were merged into it
    name: str


def merge_contacts(
    session: Session,
    workspace_id: int,
    primary_id: int,
    contact_ids: Sequence[int],
    choices: dict[str, int] | None = None,
    *,
    actor: Identity | None = None,
) -> MergeResult:
    """Merge `contact_ids` into `primary_id`, in the caller's transaction (all or nothing).

    Each field keeps the value of the contact `choices` names for it (default: the
    primary's, or another's when the primary has none); labels are united; conversations
    (with their messages), opt-in history and everything else that points at the others
    moves to the primary; each other contact's channel id, email and phone are kept in
    contact_merge, where ingestion and import find them. Raises FieldValueError or NotFound
    and changes nothing.
    """
    ids = sorted(set(contact_ids) | {primary_id})
    contacts = _load(session, workspace_id, ids)
    # Lock them (row locks on PostgreSQL, the write lock on SQLite) and read them again:
    # a delivery or an edit meanwhile waits, and what was read stays true.
    session.execute(
        sa.update(Contact)
        .where(Contact.workspace_id == workspace_id, Contact.id.in_(ids))
        .values(updated_at=Contact.updated_at)
        .execution_options(synchronize_session=False)
    )
    contacts = _load(session, workspace_id, ids)
    for contact in contacts:
        session.refresh(contact)
    primary = next(c for c in contacts if c.id == primary_id)
    others = [c for c in contacts if c.id != primary_id]
    other_ids = [c.id for c in others if c.id is not None]
    definitions = _contact_fields(session, workspace_id)
    values = {c.id: _values(c, definitions) for c in contacts}
    choices = dict(choices or {})
    keys = set(values[primary_id])
    for key, chosen in choices.items():
        if key not in keys:
            raise FieldValueError(f"“{key}” is not a field of these contacts.")
        if chosen not in values:
            raise FieldValueError("A chosen value belongs to a contact outside this merge.")
    survivor = {
        key: values[choices.get(key) or _default_survivor(key, primary, contacts, values)][key]
        for key in keys
    }
    old_opt_in = bool(primary.campaign_opt_in)

    # Labels: all of theirs.
    having = set(
        session.execute(
            sa.select(ContactLabel.label_id).where(ContactLabel.contact_id == primary_id)
        ).scalars()
    )
    theirs = set(
        session.execute(
            sa.select(ContactLabel.label_id).where(ContactLabel.contact_id.in_(other_ids))
        ).scalars()
    )
    added_labels = sorted(theirs - having)
    if added_labels:
        session.execute(
            sa.insert(ContactLabel),
            [{"contact_id": primary_id, "label_id": label_id} for label_id in added_labels],
        )
    moved = session.execute(
        sa.select(sa.func.count()).where(Conversation.contact_id.in_(other_ids))
    ).scalar_one()
    _repoint(session, other_ids, primary_id)
    for other in others:
        session.add(
            ContactMerge(
                workspace_id=workspace_id,
                contact_id=primary_id,
                merged_contact_id=other.id or 0,
                name=other.name,
                email=other.email,
                phone=other.phone,
                channel=other.channel,
                external_id=other.external_id,
                actor_user_id=actor.user_id if actor is not None else None,
            )
        )
    merged_names = [(other.id, other.name) for other in others]
    latest = max(contacts, key=lambda c: (c.last_interaction_at is not None, _at(c)))
    first_seen = min(c.created_at for c in contacts)
    for other in others:
        session.delete(other)
    session.flush()

    custom = dict(primary.custom_fields or {})
    for definition in definitions:
        value = survivor[f"cf.{definition.key}"]
        if value is None:
            custom.pop(definition.key, None)
        else:
            custom[definition.key] = value
    primary.name = survivor["name"] or primary.name
    primary.email = survivor["email"]
    primary.phone = survivor["phone"]
    primary.phone_digits = digits_only(survivor["phone"]) or None
    primary.image_url = survivor["image_url"]
    primary.campaign_opt_in = bool(survivor["campaign_opt_in"])
    primary.custom_fields = custom
    primary.created_at = first_seen
    if latest.last_interaction_at is not None:
        primary.last_interaction_at = latest.last_interaction_at
        primary.last_message_text = latest.last_message_text
        primary.last_message_direction = latest.last_message_direction
    primary.updated_at = utcnow()
    session.add(primary)
    session.flush()
    if primary.campaign_opt_in != old_opt_in:
        audit.record_consent(
            session,
            workspace_id,
            primary_id,
            old_opt_in,
            primary.campaign_opt_in,
            ConsentSource.MERGE,
            actor.user_id if actor is not None else None,
        )
    from_others = sorted(k for k, chosen in choices.items() if chosen != primary_id)
    listed = ", ".join(f"{name} (#{cid})" for cid, name in merged_names)
    audit.record(
        session,
        workspace_id,
        actor,
        MERGE,
        f"Merged {listed} into {primary.name} (#{primary_id})",
        {
            "contact_id": primary_id,
            "merged_ids": [cid for cid, _ in merged_names],
            "merged_names": [name for _, name in merged_names],
            "fields_from_others": from_others,
            "labels_added": added_labels,
            "conversations_moved": moved,
        },
    )
    bump_data_version(session, workspace_id)
    session.flush()
    return MergeResult(primary_id, len(others), primary.name)


def _at(contact: Contact) -> Any:
    return contact.last_interaction_at or contact.created_at


# Rows that point at a contact but are not simply moved to the merged one: its label
# links (united above) and its bulk edits' undo records (a merged contact's previous
# values are not the merged one's).
_NOT_MOVED = {ContactLabel.__tablename__, BulkEditChange.__tablename__}


def _repoint(session: Session, other_ids: list[int], primary_id: int) -> None:
    """Move to the primary everything else that points at the others: conversations (and
    so their messages), opt-in history, earlier merges, and whatever a later feature adds
    with a foreign key to contact.id."""
    contact_id = Contact.__table__.c.id  # type: ignore[attr-defined]
    for table in SQLModel.metadata.sorted_tables:
        if table.name in _NOT_MOVED or table.name == Contact.__tablename__:
            continue
        for column in table.columns:
            if any(fk.column is contact_id for fk in column.foreign_keys):
                session.execute(
                    sa.update(table).where(column.in_(other_ids)).values({column.name: primary_id})
                )


# --------------------------------------------------------------------------- the drawer


@dataclass
class MergedFrom:
    """A contact merged into this one, as the drawer lists it."""

    name: str = ""
    channel: str = ""
    ids: str = ""  # "instagram id ig-1 · ann@example.com · +34…"
    at: str = ""  # ISO 8601
    by: str = ""


def merged_from(session: Session, workspace_id: int, contact_id: int) -> list[MergedFrom]:
    rows = session.execute(
        sa.select(ContactMerge, User.name, User.email)
        .outerjoin(User, User.id == ContactMerge.actor_user_id)
        .where(ContactMerge.workspace_id == workspace_id, ContactMerge.contact_id == contact_id)
        .order_by(ContactMerge.created_at.desc(), ContactMerge.id.desc())
    ).all()
    lines = []
    for merge, user_name, user_email in rows:
        parts = []
        if merge.external_id:
            parts.append(f"{merge.channel} id {merge.external_id}")
        parts += [p for p in (merge.email, merge.phone) if p]
        lines.append(
            MergedFrom(
                name=merge.name,
                channel=merge.channel,
                ids=" · ".join(parts),
                at=iso(merge.created_at),
                by=user_name or user_email or "",
            )
        )
    return lines


# --------------------------------------------------------------------------- lookups


def merged_contact_by(
    session: Session,
    workspace_id: int,
    *,
    channel: str | None = None,
    external_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> int | None:
    """The contact that a merged contact's channel id, email or phone now belongs to."""
    if external_id is not None:
        condition = sa.and_(
            ContactMerge.channel == channel, ContactMerge.external_id == external_id
        )
    elif email is not None:
        condition = ContactMerge.email == email
    elif phone is not None:
        condition = ContactMerge.phone == phone
    else:
        return None
    return session.execute(
        sa.select(ContactMerge.contact_id)
        .where(ContactMerge.workspace_id == workspace_id, condition)
        .order_by(ContactMerge.id)
        .limit(1)
    ).scalar_one_or_none()
