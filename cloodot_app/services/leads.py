"""The Leads board: one column per segment, cards sorted by most recent interaction."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.filters import (
    CONTACT_FIELD_PREFIX,
    CompileContext,
    FieldCatalog,
    FilterError,
    FilterSpec,
    valid_id,
    validate_spec,
)
from cloodot_app.models import ContactLabel, Segment, utcnow
from cloodot_app.services.contact_edits import update_contact_field
from cloodot_app.services.contact_rows import ContactRow, LabelTag, contact_rows
from cloodot_app.services.contacts import (
    COUNT_CAP,
    ContactQuery,
    NotFound,
    exact_count,
    owned_contact,
    page_contacts,
    view_filter,
)
from cloodot_app.services.segment_trends import SegmentTrend
from cloodot_app.services.segments import one_segment_query
from cloodot_app.services.workspaces import bump_data_version, data_version, field_catalog

CARDS_PER_LOAD = 25
# A card shows two lines of the last message; a WhatsApp text can be 4,096 characters,
# and every card is kept in each open board's state.
CARD_TEXT_CHARACTERS = 160


@dataclass
class BoardCard:
    """A contact as a board card shows it. Not a whole ContactRow: that also carries the
    email, phone, every custom and conversation field, and the board holds 25+ cards per
    column in the state of every open tab (a 6-column board was 82 KB in Redis per tab,
    half of it never shown; bench/README.md "Issue 10: 200 idle Live tabs")."""

    id: int = 0
    name: str = ""
    initials: str = ""
    image_url: str = ""
    avatar_color: str = "gray"
    channel: str = ""
    last_interaction_at: str = ""
    last_message_text: str = ""
    labels: list[LabelTag] = field(default_factory=list)

    @classmethod
    def of(cls, row: ContactRow) -> BoardCard:
        text = row.last_message_text
        if len(text) > CARD_TEXT_CHARACTERS:
            text = text[: CARD_TEXT_CHARACTERS - 1].rstrip() + "…"
        return cls(
            id=row.id,
            name=row.name,
            initials=row.initials,
            image_url=row.image_url,
            # A handful of values, interned so a state pickles each once (4 KB less
            # per 6-column board).
            avatar_color=sys.intern(row.avatar_color),
            channel=sys.intern(row.channel),
            last_interaction_at=row.last_interaction_at,
            last_message_text=text,
            labels=row.labels,
        )


@dataclass(frozen=True)
class DropAction:
    """What dropping a card on a column does: add a label, or set a select field."""

    kind: str  # "label" | "field"
    target: str  # label id, or the contact custom field's key ("cf.plan")
    value: str  # the label's name, or the option
    words: str  # "adds the label VIP" / "sets Plan to Enterprise"


def drop_action(spec: FilterSpec | dict, catalog: FieldCatalog) -> DropAction | None:
    """Only a column defined by exactly one "has label X" or "<select field> is X"
    condition can take a dropped card: anything else has no single edit that would make
    the contact match."""
    try:
        parsed = FilterSpec.parse(spec)
        checked = validate_spec(parsed, catalog)
    except FilterError:
        return None
    if len(checked.conditions) != 1:
        return None
    condition = checked.conditions[0]
    info = catalog.fields[condition.field]
    value = condition.value  # coerced: label ids are ints, an option is one of the options
    as_stored = parsed.conditions[0].value
    one_label = isinstance(as_stored, list) and len(as_stored) == len(value) == 1
    if info.kind == "label" and condition.operator == "has_any_of" and one_label:
        name = info.label_names[value[0]]
        return DropAction("label", str(value[0]), name, f"adds the label {name}")
    if info.source == "contact" and info.kind == "select" and condition.operator == "is":
        return DropAction(
            "field",
            CONTACT_FIELD_PREFIX + info.json_key,
            value,
            f"sets {info.label} to {value}",
        )
    return None


def board_segments(session: Session, workspace_id: int) -> list[Segment]:
    return list(
        session.execute(
            sa.select(Segment)
            .where(Segment.workspace_id == workspace_id, Segment.on_board.is_(True))
            .order_by(Segment.position, Segment.id)
        ).scalars()
    )


def column_cards(
    session: Session,
    workspace_id: int,
    segment_id: int,
    search: str,
    loaded: int,
    catalog: FieldCatalog | None = None,
) -> tuple[list[BoardCard], int]:
    """The next cards of a column (after the `loaded` ones) and the column's total. A
    segment whose rules are broken is a FilterError (NotFound when it is gone), which the
    board shows on that column only. `catalog`: the workspace's fields, when the caller
    has read them already (the board, once for every column)."""
    if not valid_id(segment_id):
        raise NotFound("That segment no longer exists.")
    catalog = catalog or field_catalog(session, workspace_id)
    ctx = CompileContext.for_session(session)
    query = ContactQuery(
        search=search, segment_id=segment_id, sort="last_interaction_at", descending=True
    )
    view = view_filter(session, workspace_id, query, catalog, ctx)
    with one_segment_query(session):
        total = exact_count(session, workspace_id, view)
        # An offset, not a page: `loaded` is how many cards the board holds, which need not
        # be a multiple of CARDS_PER_LOAD (a short last load, or cards it de-duplicated).
        offset = max(0, loaded) if isinstance(loaded, int) else 0
        if offset >= total:
            return [], total
        contacts = page_contacts(
            session,
            workspace_id,
            query,
            view,
            catalog,
            ctx,
            offset=offset,
            limit=CARDS_PER_LOAD,
            many=total >= COUNT_CAP,
        )
    rows = contact_rows(session, workspace_id, list(contacts), catalog)
    return [BoardCard.of(row) for row in rows], total


@dataclass
class BoardColumn:
    """One column of the board as the page shows it."""

    segment_id: int = 0
    name: str = ""
    color: str = "blue"
    total: int = 0
    cards: list[BoardCard] = field(default_factory=list)
    drop_words: str = ""  # what dropping a card here does ("" when it cannot be done)
    problem: str = ""  # why this column shows no cards (a broken or deleted segment)
    trend: SegmentTrend = field(
        default_factory=SegmentTrend
    )  # the last 30 days (filled by the page)


def board_columns(
    session: Session, workspace_id: int, search: str, loaded: dict[int, int] | None = None
) -> list[BoardColumn]:
    """Every column of the board, each with as many cards as it showed before (`loaded`:
    segment id -> cards; at least one load). A broken segment is reported on its own
    column (problem) and never stops the others from loading."""
    loaded = loaded or {}
    catalog = field_catalog(session, workspace_id)
    columns = []
    for segment in board_segments(session, workspace_id):
        column = BoardColumn(segment_id=segment.id, name=segment.name, color=segment.color)
        action = drop_action(segment.filter_spec, catalog)
        column.drop_words = action.words if action else ""
        want = max(loaded.get(segment.id, 0), CARDS_PER_LOAD)
        try:
            while True:
                rows, column.total = column_cards(
                    session, workspace_id, segment.id, search, len(column.cards), catalog
                )
                column.cards.extend(rows)
                if not rows or len(column.cards) >= min(want, column.total):
                    break
        except (FilterError, NotFound) as error:
            column.problem = str(error)
        columns.append(column)
    return columns


def move_card(session: Session, workspace_id: int, contact_id: int, segment_id: int) -> str:
    """Make a contact match a column's segment; returns what was done, in words."""
    segment = session.get(Segment, segment_id) if valid_id(segment_id) else None
    if segment is None or segment.workspace_id != workspace_id:
        raise NotFound("That column's segment no longer exists.")
    if not valid_id(contact_id):
        raise NotFound("That contact no longer exists.")
    catalog = field_catalog(session, workspace_id)
    action = drop_action(segment.filter_spec, catalog)
    if action is None:
        raise FilterError(f"Cards cannot be dropped on “{segment.name}”.")
    contact = owned_contact(session, workspace_id, contact_id)
    if action.kind == "label":
        label_id = int(action.target)
        exists = session.execute(
            sa.select(ContactLabel).where(
                ContactLabel.contact_id == contact.id, ContactLabel.label_id == label_id
            )
        ).first()
        if exists:
            return f"{contact.name} already has the label {action.value}."
        session.add(ContactLabel(contact_id=contact.id, label_id=label_id))
        contact.updated_at = utcnow()  # as set_contact_labels does
        session.add(contact)
        bump_data_version(session, workspace_id)
        session.flush()
    else:
        key = action.target.removeprefix(CONTACT_FIELD_PREFIX)
        if (contact.custom_fields or {}).get(key) == action.value:
            label = catalog.fields[action.target].label
            return f"{contact.name} already has {label} set to {action.value}."
        update_contact_field(session, workspace_id, contact.id, action.target, action.value)
    return f"{contact.name}: {action.words}."


@dataclass
class Board:
    columns: list[BoardColumn]
    # The workspace data version the board was read at (for Live mode).
    version: int


def load_board(
    session: Session, workspace_id: int, search: str, loaded: dict[int, int] | None = None
) -> Board:
    """The board's columns (see board_columns) and the data version they were read at."""
    version = data_version(session, workspace_id)
    return Board(board_columns(session, workspace_id, search, loaded), version)
