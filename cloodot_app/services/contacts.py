"""Contacts: the page query behind the table and one contact's details (editing is in
contact_edits.py, bulk deletion in contact_deletes.py)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.errors import NotFound
from cloodot_app.fieldtypes import digits_only
from cloodot_app.filters import (
    CompileContext,
    FieldCatalog,
    FilterError,
    FilterSpec,
    compile_spec,
    valid_id,
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
)
from cloodot_app.services import audit, contact_merges, count_cache
from cloodot_app.services.audit import ConsentLine
from cloodot_app.services.contact_merges import MergedFrom
from cloodot_app.services.contact_rows import (
    ContactRow,
    LabelTag,
    contact_rows,
    display,
    iso,
)
from cloodot_app.services.workspaces import data_version, field_catalog

PAGE_SIZES = (10, 25, 50, 100)
# All Contacts counts a view exactly up to this many matches; beyond, the page shows
# "10,000+" at once and the exact count follows in the background (count_contacts).
COUNT_CAP = 10_000
# How many of the newest contacts capped_count looks at first (see _most_recent_match).
SAMPLE_FOR_CAP = 3 * COUNT_CAP
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
    rows: list[ContactRow]
    total: int
    page: int
    page_size: int
    # False: `total` is COUNT_CAP and more match (the exact count was not taken).
    exact: bool = True

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


@dataclass
class EditableField:
    """A field the details drawer edits, with the contact's value in it."""

    key: str = ""  # "email", "cf.plan", …: what update_contact_field takes
    label: str = ""
    type: str = "text"  # a fieldtypes.FIELD_TYPES name
    value: str = ""  # as shown
    chosen: list[str] = field(default_factory=list)  # multi-select values
    options: list[str] = field(default_factory=list)


@dataclass
class FieldValue:
    label: str = ""
    value: str = ""


@dataclass
class MessageLine:
    direction: str = ""
    text: str = ""
    sent_at: str = ""


@dataclass
class ConversationSummary:
    id: int = 0
    channel: str = ""
    status: str = ""
    created_at: str = ""
    updated_at: str = ""
    labels: list[LabelTag] = field(default_factory=list)
    fields: list[FieldValue] = field(default_factory=list)
    messages: list[MessageLine] = field(default_factory=list)  # the last few, oldest first


@dataclass
class ContactDetails(ContactRow):
    """A contact as the details drawer shows it."""

    updated_at: str = ""
    # Contact custom fields by key, as stored (None when empty).
    custom_values: dict[str, Any] = field(default_factory=dict)
    editable_fields: list[EditableField] = field(default_factory=list)
    conversations: list[ConversationSummary] = field(default_factory=list)
    # Campaign opt-in changes, newest first.
    consent: list[ConsentLine] = field(default_factory=list)
    # The contacts merged into this one, newest first.
    merged_from: list[MergedFrom] = field(default_factory=list)


@dataclass
class ContactsView:
    """What the All Contacts page shows for a view: the page, the quick filter in words,
    the applied segment's rules in words and the workspace data version the rows were read
    at (for Live mode)."""

    page: Page
    chips: list[str]
    version: int
    segment_words: str = ""


@dataclass(frozen=True)
class ViewFilter:
    """A view's WHERE clause and its words, from one compile of each spec."""

    where: sa.ColumnElement[bool]
    chips: tuple[str, ...]  # the quick filter's conditions in words
    segment_words: str  # the segment's rules in words ("" without a segment)
    count_key: str = ""  # the view's identity in the count cache
    relative: bool = False  # has a rule relative to today (its count moves with time)
    # The same condition with label rules as one probe per contact, for a view whose
    # label rules read a long list (see capped_count); None otherwise.
    probing: sa.ColumnElement[bool] | None = None
    # SQLite, a search of 3+ characters: its FTS5 query, and the rest of the condition.
    fts: str | None = None
    rest: sa.ColumnElement[bool] = field(default_factory=sa.true)


# --------------------------------------------------------------------------- querying


def _clean_term(term: str) -> str:
    # NUL (which PostgreSQL refuses) counts as a space, what is not encodable text (a lone
    # surrogate) as "?", and the term is cut to 200 characters.
    term = term if isinstance(term, str) else ""
    term = term.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")
    return " ".join(term.split())[:200].strip()


def _searches_phone(term: str) -> bool:
    # The same rule on both databases: a search of three or more characters looks in the
    # phone only for three or more digits (a trigram index cannot serve fewer), so "y 1"
    # finds "Percy 100%" and not every phone with a 1 in it.
    digits = digits_only(term)
    return len(digits) >= 3 or (bool(digits) and len(term) < 3)


def fts_query(term: str) -> str | None:
    """The FTS5 MATCH query a search runs on SQLite (None below three characters, where the
    trigram index cannot help and LIKE is used)."""
    term = _clean_term(term)
    if len(term) < 3:
        return None
    query = "{name email}: " + '"' + term.replace('"', '""') + '"'
    if _searches_phone(term):
        query += f' OR phone_digits: "{digits_only(term)}"'
    return query


def _fts_matches(query: str) -> sa.ColumnElement[bool]:
    return _contact_search.c.contact_search.op("MATCH")(query)


def search_condition(term: str, ctx: CompileContext) -> sa.ColumnElement[bool]:
    """Name, email or phone contains `term`; a phone matches whatever punctuation is typed.

    Served by an index on both databases (FTS5 trigram / pg_trgm). `%` and `_` are literal.
    Any text is safe (see _clean_term).
    """
    term = _clean_term(term)
    if not term:
        return sa.true()
    query = fts_query(term) if ctx.dialect == "sqlite" else None
    if query is not None:
        matches = sa.select(_contact_search.c.rowid).where(_fts_matches(query))
        return ctx.contact_id().in_(matches)
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    parts = [
        Contact.name.ilike(f"%{escaped}%", escape="\\"),
        Contact.email.ilike(f"%{escaped}%", escape="\\"),
    ]
    if _searches_phone(term):
        parts.append(Contact.phone_digits.like(f"%{digits_only(term)}%"))
    return sa.or_(*parts)


def segment_spec(session: Session, workspace_id: int, segment_id: int) -> FilterSpec:
    """A segment's stored rules (raises NotFound; an id from a link may be any integer)."""
    segment = session.get(Segment, segment_id) if valid_id(segment_id) else None
    if segment is None or segment.workspace_id != workspace_id:
        raise NotFound("That segment no longer exists.")
    return FilterSpec.parse(segment.filter_spec)


def view_filter(
    session: Session,
    workspace_id: int,
    query: ContactQuery,
    catalog: FieldCatalog,
    ctx: CompileContext,
) -> ViewFilter:
    """Workspace AND search AND segment AND quick filters, with the quick filter's chips
    and the segment's words: each spec is validated and compiled once, so the words can
    never disagree with the rows."""
    quick = compile_spec(query.filter, catalog, ctx)
    parts = [Contact.workspace_id == workspace_id, search_condition(query.search, ctx), quick.where]
    segment_words = ""
    stored: FilterSpec | None = None
    if query.segment_id is not None:
        stored = segment_spec(session, workspace_id, query.segment_id)
        segment = compile_spec(stored, catalog, ctx)
        parts.append(segment.where)
        segment_words = segment.words
        stored = segment.spec
    probing = None
    sqlite = ctx.dialect == "sqlite" and not ctx.walking()
    if sqlite and _long_label_list(session, quick.spec, stored):
        walking = dataclasses.replace(ctx, walk_sort_index=True)
        probing = view_filter(session, workspace_id, query, catalog, walking).where
    return ViewFilter(
        sa.and_(*parts),
        quick.chips,
        segment_words,
        view_count_key(query.search, quick.spec, stored),
        count_cache.is_relative(quick.spec, stored),
        probing,
        fts_query(query.search) if ctx.dialect == "sqlite" else None,
        sa.and_(parts[0], *parts[2:]),
    )


# A label list this long costs more to read whole (~0.35 µs an id on SQLite) than probing
# SAMPLE_FOR_CAP contacts one by one (~50 ms): see _most_recent_match.
LONG_LABEL_LIST = 150_000


def _long_label_list(session: Session, *specs: FilterSpec | None) -> bool:
    """Do the view's "has any / all of" label rules name more than LONG_LABEL_LIST
    contact labels? (Counted on the label index up to that many: a few ms at most.)"""
    label_ids = {
        label_id
        for spec in specs
        if spec
        for c in spec.conditions
        if c.field == "label" and c.operator in ("has_any_of", "has_all_of")
        for label_id in c.value
    }
    if not label_ids:
        return False
    entries = (
        sa.select(sa.literal(1))
        .where(ContactLabel.label_id.in_(sorted(label_ids)))
        .limit(LONG_LABEL_LIST + 1)
        .subquery()
    )
    counted = session.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one()
    return int(counted) > LONG_LABEL_LIST


def view_count_key(search: str, quick: FilterSpec, segment: FilterSpec | None) -> str:
    """The count cache's key of a view: the Segments page and the Leads board use the same
    key for a segment as All Contacts does, so each reuses the others' counts."""
    return count_cache.view_key("contacts", search, quick, segment)


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
    return view_filter(session, workspace_id, query, catalog, ctx).where


def sort_order(sort: str, descending: bool, dialect: str) -> list[sa.UnaryExpression[Any]]:
    if sort not in SORTABLE:
        raise FilterError(f"Contacts cannot be sorted by “{sort}”.")
    column = getattr(Contact, sort)
    # Names in alphabetical order whatever their case ("alice" beside "Alice", not after
    # "Zoe"): the expression of the index ix_contact_ws_name_ci.
    key = sa.func.lower(column) if sort == "name" else column
    ordered = key.desc() if descending else key.asc()
    if dialect == "postgresql" and column.nullable:
        # Match SQLite, where NULL sorts first ascending and last descending. (Only for
        # nullable columns: on the others the clause would stop PostgreSQL using the index.)
        ordered = ordered.nulls_last() if descending else ordered.nulls_first()
    return [ordered, Contact.id.desc() if descending else Contact.id.asc()]


def count_contacts(session: Session, workspace_id: int, query: ContactQuery) -> int:
    """How many contacts match the view (from the count cache when nothing changed)."""
    catalog = field_catalog(session, workspace_id)
    ctx = CompileContext.for_session(session)
    view = view_filter(session, workspace_id, query, catalog, ctx)
    return exact_count(session, workspace_id, view)


def capped_count(
    session: Session, workspace_id: int, view: ViewFilter, cap: int | None = None
) -> tuple[int, bool]:
    """(count, exact): the cached exact count if there is one; else the matches counted up
    to `cap` + 1 (`SELECT count(*) FROM (SELECT 1 … LIMIT cap + 1)`, which stops early on
    a broad search or filter). Over the cap: (cap, False). Under it the count is exact,
    and cached as such."""
    cap = COUNT_CAP if cap is None else cap
    where = count_cache.scope(session, workspace_id)
    found = count_cache.peek(where, view.count_key)
    if found is not None:
        return found, True
    # "More than `cap` match" is remembered too, under its own key.
    over = f"{view.count_key}|over {cap}"
    if count_cache.peek(where, over) is not None:
        return cap, False
    if view.probing is not None and _most_recent_match(session, workspace_id, view.probing, cap):
        count_cache.store(session, where, over, cap, view.relative)
        return cap, False
    matches = sa.select(sa.literal(1)).select_from(Contact).where(view.where).limit(cap + 1)
    if view.fts is not None:
        # The FTS5 matches drive the count and it stops at cap + 1: `id IN (matches)`
        # would first read every match into a list (54k for "mar" at 1M contacts).
        matches = (
            sa.select(sa.literal(1))
            .select_from(_contact_search.join(Contact, Contact.id == _contact_search.c.rowid))
            .where(_fts_matches(view.fts), view.rest)
            .limit(cap + 1)
        )
    counted = int(
        session.execute(sa.select(sa.func.count()).select_from(matches.subquery())).scalar_one()
    )
    if counted > cap:
        count_cache.store(session, where, over, cap, view.relative)
        return cap, False
    count_cache.store(session, where, view.count_key, counted, view.relative)
    return counted, True


def _most_recent_match(
    session: Session, workspace_id: int, probing: sa.ColumnElement[bool], cap: int
) -> bool:
    """Do more than `cap` of the workspace's SAMPLE_FOR_CAP newest contacts match?

    On SQLite a label rule is `id IN (contacts with the label)`, and that list is read whole
    before the first match is counted: 434k ids for "Customer" at a million contacts, 150 ms
    even to count 10,001 of them. Probing the newest contacts one by one answers a label
    held by more than a third of them in 30,000 probes (~20 ms); for a rarer label it finds
    too few, and the count goes the usual way (fast then: the list is short)."""
    newest = (
        sa.select(Contact.id)
        .where(Contact.workspace_id == workspace_id)
        .order_by(Contact.created_at.desc(), Contact.id.desc())
        .limit(max(SAMPLE_FOR_CAP, cap + 1))
        .subquery()
    )
    matches = (
        sa.select(sa.literal(1))
        .select_from(Contact)
        .where(Contact.id.in_(sa.select(newest.c.id)), probing)
        .limit(cap + 1)
    )
    counted = session.execute(sa.select(sa.func.count()).select_from(matches.subquery()))
    return int(counted.scalar_one()) > cap


def exact_count(session: Session, workspace_id: int, view: ViewFilter) -> int:
    def count() -> int:
        return int(
            session.execute(
                sa.select(sa.func.count()).select_from(Contact).where(view.where)
            ).scalar_one()
        )

    return count_cache.cached(session, workspace_id, view.count_key, view.relative, count)


def list_contacts(session: Session, workspace_id: int, query: ContactQuery) -> Page:
    """One page of rows and the total that match the view."""
    catalog = field_catalog(session, workspace_id)
    ctx = CompileContext.for_session(session)
    view = view_filter(session, workspace_id, query, catalog, ctx)
    return _page(session, workspace_id, query, view, catalog, ctx)


def contacts_view(
    session: Session, workspace_id: int, query: ContactQuery, exact: bool = False
) -> ContactsView:
    """The page, its quick filter and segment in words and the data version, read together
    (each spec compiled once for the rows and the words). The total is capped at
    COUNT_CAP (Page.exact False over it) unless `exact`."""
    version = data_version(session, workspace_id)
    catalog = field_catalog(session, workspace_id)
    ctx = CompileContext.for_session(session)
    view = view_filter(session, workspace_id, query, catalog, ctx)
    page = _page(session, workspace_id, query, view, catalog, ctx, capped=not exact)
    return ContactsView(page, list(view.chips), version, view.segment_words)


def _page(
    session: Session,
    workspace_id: int,
    query: ContactQuery,
    view: ViewFilter,
    catalog: FieldCatalog,
    ctx: CompileContext,
    capped: bool = False,
) -> Page:
    page_size = query.page_size if query.page_size in PAGE_SIZES else PAGE_SIZES[0]
    exact = True
    if capped:
        total, exact = capped_count(session, workspace_id, view)
        if not exact and query.page > math.ceil(total / page_size):
            # A page past the cap (from a link): it needs the real number of pages.
            total, exact = exact_count(session, workspace_id, view), True
    else:
        total = exact_count(session, workspace_id, view)
    page_count = max(1, math.ceil(total / page_size))
    page = min(max(1, query.page), page_count)
    contacts = page_contacts(
        session,
        workspace_id,
        query,
        view,
        catalog,
        ctx,
        offset=(page - 1) * page_size,
        limit=page_size,
        many=total >= COUNT_CAP,
    )
    rows = contact_rows(session, workspace_id, contacts, catalog)
    return Page(rows=rows, total=total, page=page, page_size=page_size, exact=exact)


def page_contacts(
    session: Session,
    workspace_id: int,
    query: ContactQuery,
    view: ViewFilter,
    catalog: FieldCatalog,
    ctx: CompileContext,
    *,
    offset: int,
    limit: int,
    many: bool,
) -> list[Contact]:
    """The contacts at `offset`..`offset + limit` of the view in `query.sort` order. Their
    ids come from count_cache.PAGES when nothing changed since they were read; `many`: the
    view has COUNT_CAP or more matches (on SQLite the query then walks the sort index)."""
    order = sort_order(query.sort, query.descending, ctx.dialect)
    where = count_cache.scope(session, workspace_id)
    key = f"{view.count_key}|{query.sort}|{query.descending}|{offset}|{limit}"
    ids = count_cache.PAGES.get(where, key) if where is not None else None
    if ids is None:
        condition = view.where
        if many and ctx.dialect == "sqlite":
            # Walk the sort index to the page (see CompileContext.walk_sort_index); a view
            # with a long label list has that condition compiled already (`probing`).
            if view.probing is not None:
                condition = view.probing
            else:
                walking = dataclasses.replace(ctx, walk_sort_index=True)
                condition = view_filter(session, workspace_id, query, catalog, walking).where
        ids = tuple(
            session.execute(
                sa.select(Contact.id).where(condition).order_by(*order).offset(offset).limit(limit)
            ).scalars()
        )
        if where is not None and not count_cache.wrote(session):
            count_cache.PAGES.put(where, key, ids, view.relative)
    if not ids:
        return []
    found = {
        contact.id: contact
        for contact in session.execute(sa.select(Contact).where(Contact.id.in_(ids))).scalars()
    }
    return [found[contact_id] for contact_id in ids if contact_id in found]


def get_contact(session: Session, workspace_id: int, contact_id: int) -> ContactDetails:
    """One contact with labels, every editable field, its recent conversations and its
    consent (opt-in) history."""
    contact = owned_contact(session, workspace_id, contact_id)
    catalog = field_catalog(session, workspace_id)
    (row,) = contact_rows(session, workspace_id, [contact], catalog)
    values = contact.custom_fields or {}
    builtins = [
        EditableField(key, label, type_name, getattr(row, key))
        for key, label, type_name in (
            ("name", "Name", "text"),
            ("email", "Email", "email"),
            ("phone", "Phone", "phone"),
            ("image_url", "Image URL", "url"),
        )
    ]
    custom = [
        EditableField(
            key=info.key,
            label=info.label,
            type=info.field_type,
            value=row.custom_fields.get(info.json_key, ""),
            chosen=list(row.multi_values.get(info.json_key, [])),
            options=list(info.options),
        )
        for info in catalog.fields.values()
        if info.source == "contact"
    ]
    return ContactDetails(
        **{f.name: getattr(row, f.name) for f in fields(ContactRow)},
        updated_at=iso(contact.updated_at),
        custom_values={
            info.json_key: values.get(info.json_key)
            for info in catalog.fields.values()
            if info.source == "contact"
        },
        editable_fields=builtins + custom,
        conversations=recent_conversations(session, workspace_id, contact_id),
        consent=audit.consent_lines(session, workspace_id, contact_id),
        merged_from=contact_merges.merged_from(session, workspace_id, contact_id),
    )


def recent_conversations(
    session: Session, workspace_id: int, contact_id: int, limit: int = 10, messages: int = 3
) -> list[ConversationSummary]:
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
    labels: dict[int, list[LabelTag]] = {}
    if ids:
        for conversation_id, label_id, name, color in session.execute(
            sa.select(ConversationLabel.conversation_id, Label.id, Label.name, Label.color)
            .join(Label, Label.id == ConversationLabel.label_id)
            .where(ConversationLabel.conversation_id.in_(ids))
        ):
            labels.setdefault(conversation_id, []).append(LabelTag(label_id, name, color))
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
            ConversationSummary(
                id=conversation.id or 0,
                channel=conversation.channel,
                status=conversation.status,
                created_at=iso(conversation.created_at),
                updated_at=iso(conversation.updated_at),
                labels=labels.get(conversation.id or 0, []),
                fields=[
                    FieldValue(d.label, display(d.type, value))
                    for key, d in definitions.items()
                    if (value := (conversation.custom_fields or {}).get(key)) not in (None, "", [])
                ],
                messages=[
                    MessageLine(m.direction, m.text, iso(m.sent_at))
                    for m in reversed(last_messages)
                ],
            )
        )
    return result


def owned_contact(session: Session, workspace_id: int, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.workspace_id != workspace_id:
        raise NotFound("That contact no longer exists.")
    return contact
