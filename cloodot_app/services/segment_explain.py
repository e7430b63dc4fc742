"""Why is this contact in this segment (or not): the segments a contact is in, and for one
segment each condition with whether it holds for the contact and the contact's own value.

There is no second evaluator: every answer comes from the one filter language. Each
condition is compiled on its own by `compile_spec` and the database is asked, in one query
over the one contact, which of them hold and whether the whole segment does, so the ✔/✘ a
user reads is exactly what the segment's SQL says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.errors import FilterError, NotFound
from cloodot_app.filters import (
    CompileContext,
    FieldInfo,
    FilterSpec,
    compile_spec,
    valid_id,
)
from cloodot_app.models import Contact, ContactLabel, ContactNote, Conversation, Label, Segment
from cloodot_app.services.contact_rows import display
from cloodot_app.services.segments import one_segment_query
from cloodot_app.services.workspaces import field_catalog

EMPTY = "empty"


@dataclass
class SegmentMembership:
    """A segment as the drawer's Segments section lists it."""

    id: int = 0
    name: str = ""
    color: str = "blue"
    member: bool = False
    problem: str = ""  # why its rules cannot be checked ("" when they can)


@dataclass
class ConditionCheck:
    """One condition of a segment, checked for one contact."""

    words: str = ""  # the condition in words: "Lifetime value ≥ 1000"
    holds: bool = False
    value: str = ""  # the contact's own value in words: "1,250", "VIP, Lead", "empty"
    value_time: str = ""  # ISO 8601 when the value is a moment (shown relative); else ""


@dataclass
class SegmentExplanation:
    segment_id: int = 0
    name: str = ""
    color: str = "blue"
    match: str = "all"  # "all": every condition must hold; "any": one is enough
    member: bool = False
    checks: list[ConditionCheck] = field(default_factory=list)
    problem: str = ""  # why the rules cannot be checked ("" when they can)


def _contact(session: Session, workspace_id: int, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id) if valid_id(contact_id) else None
    if contact is None or contact.workspace_id != workspace_id:
        raise NotFound("That contact no longer exists.")
    return contact


def _segment(session: Session, workspace_id: int, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id) if valid_id(segment_id) else None
    if segment is None or segment.workspace_id != workspace_id:
        raise NotFound("That segment no longer exists.")
    return segment


def _which_hold(
    session: Session, workspace_id: int, contact_id: int, conditions: list[sa.ColumnElement[bool]]
) -> list[bool]:
    """For one contact, whether each condition holds (as SQL says: NULL is "no"); one query."""
    if not conditions:
        return []
    columns = [sa.case((condition, True), else_=False) for condition in conditions]
    with one_segment_query(session):
        row = session.execute(
            sa.select(*columns).where(
                Contact.workspace_id == workspace_id, Contact.id == contact_id
            )
        ).one()
    return [bool(value) for value in row]


def contact_segments(
    session: Session, workspace_id: int, contact_id: int
) -> list[SegmentMembership]:
    """Every segment in list order, saying whether the contact is in it (one query for all;
    a segment whose rules cannot run says why and is not counted as either)."""
    _contact(session, workspace_id, contact_id)
    catalog = field_catalog(session, workspace_id)
    ctx = CompileContext.for_session(session)
    segments = session.execute(
        sa.select(Segment)
        .where(Segment.workspace_id == workspace_id)
        .order_by(Segment.position, Segment.id)
    ).scalars()
    result, compiled = [], []
    for segment in segments:
        line = SegmentMembership(segment.id or 0, segment.name, segment.color)
        try:
            compiled.append((line, compile_spec(segment.filter_spec, catalog, ctx).where))
        except FilterError as error:
            line.problem = str(error)
        result.append(line)
    try:
        holds = _which_hold(session, workspace_id, contact_id, [where for _, where in compiled])
    except FilterError:
        holds = []
        for line, where in compiled:
            try:
                holds.append(_which_hold(session, workspace_id, contact_id, [where])[0])
            except FilterError as error:
                line.problem = str(error)
                holds.append(False)
    for (line, _), member in zip(compiled, holds, strict=True):
        line.member = member
    return result


def explain_segment(
    session: Session, workspace_id: int, contact_id: int, segment_id: int
) -> SegmentExplanation:
    """Each condition of the segment with ✔/✘ for the contact and the contact's value, and
    whether the contact is in the segment (the whole spec, compiled as the segment runs)."""
    contact = _contact(session, workspace_id, contact_id)
    segment = _segment(session, workspace_id, segment_id)
    explanation = SegmentExplanation(segment.id or 0, segment.name, segment.color)
    catalog = field_catalog(session, workspace_id)
    ctx = CompileContext.for_session(session)
    try:
        whole = compile_spec(segment.filter_spec, catalog, ctx)
        explanation.match = whole.spec.match
        parts = [
            compile_spec(FilterSpec(conditions=[condition]), catalog, ctx)
            for condition in whole.spec.conditions
        ]
        member, *holds = _which_hold(
            session, workspace_id, contact_id, [whole.where, *(part.where for part in parts)]
        )
    except FilterError as error:
        explanation.problem = str(error)
        return explanation
    explanation.member = member
    for part, holds_here in zip(parts, holds, strict=True):
        info = catalog.get(part.spec.conditions[0].field)
        value, moment = contact_value(session, workspace_id, contact, info)
        explanation.checks.append(ConditionCheck(part.words, holds_here, value, moment))
    return explanation


# --------------------------------------------------------------------------- the contact's value


def contact_value(
    session: Session, workspace_id: int, contact: Contact, info: FieldInfo
) -> tuple[str, str]:
    """What the contact has in `info`'s field, in words, and its ISO time if it is one."""
    if info.source == "contact":
        return _custom_value(info, (contact.custom_fields or {}).get(info.json_key)), ""
    if info.source == "conversation":
        return _conversation_values(session, workspace_id, contact, info), ""
    key = info.key
    if key in ("created_at", "last_interaction_at"):
        moment = getattr(contact, key)
        return ("never", "") if moment is None else (moment.date().isoformat(), moment.isoformat())
    if key == "campaign_opt_in":
        return ("yes" if contact.campaign_opt_in else "no"), ""
    if key == "channel":
        return contact.channel, ""
    if key == "label":
        names = session.execute(
            sa.select(Label.name)
            .join(ContactLabel, ContactLabel.label_id == Label.id)
            .where(ContactLabel.contact_id == contact.id, Label.workspace_id == workspace_id)
            .order_by(Label.name)
        ).scalars()
        return ", ".join(names) or "no labels", ""
    if key == "has_conversations":
        count = _count(session, Conversation, Conversation.contact_id == contact.id)
        return _counted(count, "conversation"), ""
    if key == "notes":
        count = _count(session, ContactNote, ContactNote.contact_id == contact.id)
        return _counted(count, "note"), ""
    text = getattr(contact, key, None)
    return (text if isinstance(text, str) and text else EMPTY), ""


def _count(
    session: Session, table: type[Conversation] | type[ContactNote], where: sa.ColumnElement[bool]
) -> int:
    counted = session.execute(sa.select(sa.func.count()).select_from(table).where(where))
    return int(counted.scalar_one())


def _counted(count: int, noun: str) -> str:
    if count == 0:
        return f"no {noun}s"
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _custom_value(info: FieldInfo, stored: Any) -> str:
    if stored is None or stored == "" or stored == []:
        return EMPTY
    if info.kind == "number" and isinstance(stored, int | float) and not isinstance(stored, bool):
        whole = isinstance(stored, float) and stored.is_integer()
        return f"{int(stored):,}" if whole else f"{stored:,}"
    return display(info.field_type, stored) or EMPTY


def _conversation_values(
    session: Session, workspace_id: int, contact: Contact, info: FieldInfo
) -> str:
    """The distinct values the contact's conversations hold (any of them may match)."""
    shown: list[str] = []
    for values in session.execute(
        sa.select(Conversation.custom_fields)
        .where(Conversation.workspace_id == workspace_id, Conversation.contact_id == contact.id)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
    ).scalars():
        text = _custom_value(info, (values or {}).get(info.json_key))
        if text != EMPTY and text not in shown:
            shown.append(text)
    return ", ".join(shown) or EMPTY
