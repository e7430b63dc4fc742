"""The Leads board: one column per segment, cards sorted by most recent interaction."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.filters import (
    CONTACT_FIELD_PREFIX,
    CompileContext,
    FieldCatalog,
    FilterError,
    FilterSpec,
)
from cloodot_app.models import Contact, ContactLabel, Segment, utcnow
from cloodot_app.services.contact_rows import ContactRow, contact_rows
from cloodot_app.services.contacts import (
    ContactQuery,
    NotFound,
    _owned_contact,
    contact_condition,
    sort_order,
    update_contact_field,
)
from cloodot_app.services.workspaces import bump_data_version, data_version, field_catalog

CARDS_PER_LOAD = 25


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
    except FilterError:
        return None
    if len(parsed.conditions) != 1:
        return None
    condition = parsed.conditions[0]
    info = catalog.fields.get(condition.field)
    if info is None:
        return None
    value = condition.value
    single_label = isinstance(value, list) and len(value) == 1
    if info.kind == "label" and condition.operator == "has_any_of" and single_label:
        try:
            label_id = int(value[0])
        except (TypeError, ValueError):
            return None
        if label_id in info.label_names:
            name = info.label_names[label_id]
            return DropAction("label", str(label_id), name, f"adds the label {name}")
    if (
        info.source == "contact"
        and info.kind == "select"
        and condition.operator == "is"
        and value in info.options
    ):
        return DropAction(
            "field",
            CONTACT_FIELD_PREFIX + info.json_key,
            str(value),
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
    session: Session, workspace_id: int, segment_id: int, search: str, loaded: int
) -> tuple[list[ContactRow], int]:
    """The next cards of a column (after the `loaded` ones) and the column's total."""
    catalog = field_catalog(session, workspace_id)
    ctx = CompileContext.for_session(session)
    query = ContactQuery(search=search, segment_id=segment_id)
    where = contact_condition(session, workspace_id, query, catalog, ctx)
    total = session.execute(
        sa.select(sa.func.count()).select_from(Contact).where(where)
    ).scalar_one()
    # An offset, not a page: `loaded` is how many cards the board holds, which need not be
    # a multiple of CARDS_PER_LOAD (a short last load, or cards the board de-duplicated).
    offset = max(0, loaded)
    if offset >= total:
        return [], total
    contacts = (
        session.execute(
            sa.select(Contact)
            .where(where)
            .order_by(*sort_order("last_interaction_at", True, ctx.dialect))
            .offset(offset)
            .limit(CARDS_PER_LOAD)
        )
        .scalars()
        .all()
    )
    return contact_rows(session, workspace_id, list(contacts), catalog), total


def move_card(session: Session, workspace_id: int, contact_id: int, segment_id: int) -> str:
    """Make a contact match a column's segment; returns what was done, in words."""
    segment = session.get(Segment, segment_id)
    if segment is None or segment.workspace_id != workspace_id:
        raise NotFound("That column's segment no longer exists.")
    catalog = field_catalog(session, workspace_id)
    action = drop_action(segment.filter_spec, catalog)
    if action is None:
        raise FilterError(f"Cards cannot be dropped on “{segment.name}”.")
    contact = _owned_contact(session, workspace_id, contact_id)
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
class BoardColumn:
    segment_id: int = 0
    name: str = ""
    color: str = "blue"
    total: int = 0
    cards: list[ContactRow] = field(default_factory=list)
    # What dropping a card here does, in words ("" when cards cannot be dropped here).
    drop_words: str = ""
    problem: str = ""


@dataclass
class Board:
    columns: list[BoardColumn]
    # The workspace data version the board was read at (for Live mode).
    version: int


def load_board(
    session: Session, workspace_id: int, search: str, loaded: dict[int, int] | None = None
) -> Board:
    """Every board column with as many cards as it showed before (`loaded`: segment id ->
    cards shown; at least one load each), so a refresh keeps how far each was scrolled."""
    loaded = loaded or {}
    version = data_version(session, workspace_id)
    catalog = field_catalog(session, workspace_id)
    columns = []
    for segment in board_segments(session, workspace_id):
        action = drop_action(segment.filter_spec, catalog)
        column = BoardColumn(
            segment_id=segment.id or 0,
            name=segment.name,
            color=segment.color,
            drop_words=action.words if action else "",
        )
        want = max(loaded.get(column.segment_id, 0), CARDS_PER_LOAD)
        try:
            while True:
                cards, column.total = column_cards(
                    session, workspace_id, column.segment_id, search, len(column.cards)
                )
                column.cards.extend(cards)
                if not cards or len(column.cards) >= min(want, column.total):
                    break
        except (FilterError, NotFound) as error:
            column.problem = str(error)
        columns.append(column)
    return Board(columns, version)
