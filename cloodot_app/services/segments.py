"""Segments: saved filter specs (never lists of ids), their counts and their words."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.filters import (
    CompileContext,
    FieldCatalog,
    FilterError,
    FilterSpec,
    compile_filter,
    describe_spec,
    validate_spec,
)
from cloodot_app.models import Contact, Segment, utcnow
from cloodot_app.services.workspaces import field_catalog

SEGMENT_COLORS = ("blue", "green", "orange", "purple", "crimson", "teal", "amber", "indigo")


def list_segments(session: Session, workspace_id: int) -> list[dict[str, Any]]:
    """Every segment, with its rules in words, or why it is broken."""
    catalog = field_catalog(session, workspace_id)
    segments = session.execute(
        sa.select(Segment)
        .where(Segment.workspace_id == workspace_id)
        .order_by(Segment.position, Segment.id)
    ).scalars()
    return [_segment_dict(segment, catalog) for segment in segments]


def _segment_dict(segment: Segment, catalog: FieldCatalog) -> dict[str, Any]:
    problem, words = "", ""
    try:
        spec = validate_spec(FilterSpec.parse(segment.filter_spec), catalog)
        words = describe_spec(spec, catalog)
    except FilterError as error:
        problem = str(error)
    return {
        "id": segment.id,
        "name": segment.name,
        "description": segment.description,
        "color": segment.color,
        "filter_spec": segment.filter_spec,
        "rules": words,
        "problem": problem,
        "position": segment.position,
        "updated_at": segment.updated_at.isoformat() if segment.updated_at else "",
    }


def segment_count(session: Session, workspace_id: int, segment_id: int) -> int:
    from cloodot_app.services.contacts import ContactQuery, count_contacts

    return count_contacts(session, workspace_id, ContactQuery(segment_id=segment_id))


def segment_counts(session: Session, workspace_id: int) -> dict[int, int | None]:
    """Contacts per segment, in one query; None for a segment whose rules are broken."""
    catalog = field_catalog(session, workspace_id)
    ctx = CompileContext.for_session(session)
    columns, counts = [], {}
    segments = (
        session.execute(sa.select(Segment).where(Segment.workspace_id == workspace_id))
        .scalars()
        .all()
    )
    for segment in segments:
        try:
            condition = compile_filter(FilterSpec.parse(segment.filter_spec), catalog, ctx)
        except FilterError:
            counts[segment.id] = None
            continue
        columns.append(
            sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0).label(
                f"s{segment.id}"
            )
        )
    if columns:
        row = session.execute(
            sa.select(*columns).select_from(Contact).where(Contact.workspace_id == workspace_id)
        ).one()
        for column, value in zip(columns, row, strict=True):
            counts[int(column.name[1:])] = int(value)
    return counts


def create_segment(
    session: Session,
    workspace_id: int,
    name: str,
    spec: FilterSpec | dict,
    description: str = "",
    color: str | None = None,
) -> Segment:
    """Validate the name and the rules, then store; raises FilterError with a message."""
    name = " ".join((name or "").split())
    if not name:
        raise FilterError("Give the segment a name.")
    if len(name) > 120:
        raise FilterError("Keep the segment name under 120 characters.")
    exists = session.execute(
        sa.select(Segment.id).where(
            Segment.workspace_id == workspace_id, sa.func.lower(Segment.name) == name.lower()
        )
    ).first()
    if exists:
        raise FilterError(f"A segment called “{name}” already exists.")
    checked = validate_spec(FilterSpec.parse(spec), field_catalog(session, workspace_id))
    if not checked.conditions:
        raise FilterError("Add at least one condition before saving a segment.")
    position = session.execute(
        sa.select(sa.func.coalesce(sa.func.max(Segment.position), -1) + 1).where(
            Segment.workspace_id == workspace_id
        )
    ).scalar_one()
    segment = Segment(
        workspace_id=workspace_id,
        name=name,
        description=(description or "").strip()[:500],
        color=color or SEGMENT_COLORS[position % len(SEGMENT_COLORS)],
        filter_spec=checked.model_dump(mode="json"),
        position=position,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(segment)
    session.flush()
    return segment
