"""Labels: the workspace's list (with usage counts), create / rename / recolour, delete.

Deleting a label removes it from every contact and conversation; segments whose rules name
it are left as they are and report the problem (filters.validate_spec: "A label used here
(#N) has been deleted.") until someone edits them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.errors import LabelError, NotFound
from cloodot_app.models import ContactLabel, ConversationLabel, Label
from cloodot_app.services.contact_rows import LabelTag
from cloodot_app.services.segments import readable_specs
from cloodot_app.services.workspaces import bump_data_version

# Radix colour names (the UI's palette).
LABEL_COLORS: tuple[str, ...] = (
    "gray",
    "tomato",
    "red",
    "crimson",
    "pink",
    "plum",
    "purple",
    "violet",
    "indigo",
    "blue",
    "cyan",
    "teal",
    "green",
    "grass",
    "orange",
    "amber",
    "brown",
)

LABEL_NAME_MAX_LENGTH = 80


# --------------------------------------------------------------------------- reading


@dataclass
class LabelUsage:
    """What uses a label: what its delete confirmation tells."""

    contacts: int = 0
    conversations: int = 0
    segments: list[str] = field(default_factory=list)  # segment names, in list order


@dataclass
class LabelSummary(LabelUsage):
    """A row of the Labels settings page."""

    id: int = 0
    name: str = ""
    color: str = "gray"


def _sorted_labels(session: Session, workspace_id: int) -> list[Label]:
    return sorted(
        session.execute(sa.select(Label).where(Label.workspace_id == workspace_id)).scalars(),
        # Sorted here, not in SQL: the same order on both databases, accents included.
        key=lambda label: (label.name.casefold(), label.id),
    )


def label_tags(session: Session, workspace_id: int) -> list[LabelTag]:
    """Every label as a badge shows it, by name (what a label picker offers)."""
    return [
        LabelTag(label.id or 0, label.name, label.color)
        for label in _sorted_labels(session, workspace_id)
    ]


def list_labels(session: Session, workspace_id: int) -> list[LabelSummary]:
    """Every label with how many contacts and conversations have it and which segments
    use it, ordered by name (case-insensitive)."""
    contacts = _link_counts(session, workspace_id, ContactLabel)
    conversations = _link_counts(session, workspace_id, ConversationLabel)
    segments = _segments_by_label(session, workspace_id)
    return [
        LabelSummary(
            id=label.id or 0,
            name=label.name,
            color=label.color,
            contacts=contacts.get(label.id or 0, 0),
            conversations=conversations.get(label.id or 0, 0),
            segments=segments.get(label.id or 0, []),
        )
        for label in _sorted_labels(session, workspace_id)
    ]


def label_usage(session: Session, workspace_id: int, label_id: int) -> LabelUsage:
    """What the delete confirmation tells."""
    label = _owned_label(session, workspace_id, label_id)
    contacts = _link_counts(session, workspace_id, ContactLabel, label.id)
    conversations = _link_counts(session, workspace_id, ConversationLabel, label.id)
    return LabelUsage(
        contacts=contacts.get(label_id, 0),
        conversations=conversations.get(label_id, 0),
        segments=_segments_by_label(session, workspace_id).get(label_id, []),
    )


def _link_counts(
    session: Session,
    workspace_id: int,
    link: type[ContactLabel] | type[ConversationLabel],
    label_id: int | None = None,
) -> dict[int, int]:
    """Label id -> how many contacts (or conversations) have it: one GROUP BY over the
    link table's (label_id, ...) index, scoped by the label's workspace."""
    query = (
        sa.select(link.label_id, sa.func.count())
        .join(Label, Label.id == link.label_id)
        .where(Label.workspace_id == workspace_id)
        .group_by(link.label_id)
    )
    if label_id is not None:
        query = query.where(link.label_id == label_id)
    return {row[0]: row[1] for row in session.execute(query)}


def _segments_by_label(session: Session, workspace_id: int) -> dict[int, list[str]]:
    """Label id -> names of the segments (in their list order) with a "label" condition
    naming it. A spec that cannot be read names no label."""
    result: dict[int, list[str]] = {}
    for name, spec in readable_specs(session, workspace_id):
        used: set[int] = set()
        for condition in spec.conditions:
            if condition.field != "label":
                continue
            values = (
                condition.value if isinstance(condition.value, list | tuple) else [condition.value]
            )
            for value in values:
                if isinstance(value, bool):
                    continue
                try:
                    used.add(int(value))
                except (TypeError, ValueError):
                    continue
        for label_id in used:
            result.setdefault(label_id, []).append(name)
    return result


# --------------------------------------------------------------------------- writing


def create_label(session: Session, workspace_id: int, name: str, color: str) -> Label:
    """Validate and store a new label; raises LabelError with a message for the user."""
    label = Label(
        workspace_id=workspace_id,
        name=_clean_name(session, workspace_id, name, None),
        color=_clean_color(color),
    )
    session.add(label)
    session.flush()
    bump_data_version(session, workspace_id)
    return label


def update_label(
    session: Session, workspace_id: int, label_id: int, name: str, color: str
) -> Label:
    """Rename and / or recolour a label (the same rules as create_label)."""
    label = _owned_label(session, workspace_id, label_id)
    label.name = _clean_name(session, workspace_id, name, label.id)
    label.color = _clean_color(color)
    session.add(label)
    session.flush()
    bump_data_version(session, workspace_id)
    return label


def delete_label(session: Session, workspace_id: int, label_id: int) -> None:
    """Remove the label from every contact and conversation, then the label itself.
    Segments naming it are not edited: they report it as deleted."""
    label = _owned_label(session, workspace_id, label_id)
    session.execute(sa.delete(ContactLabel).where(ContactLabel.label_id == label.id))
    session.execute(sa.delete(ConversationLabel).where(ConversationLabel.label_id == label.id))
    session.delete(label)
    bump_data_version(session, workspace_id)
    session.flush()


def _owned_label(session: Session, workspace_id: int, label_id: int) -> Label:
    label = session.execute(
        sa.select(Label).where(Label.workspace_id == workspace_id, Label.id == label_id)
    ).scalar_one_or_none()
    if label is None:
        raise NotFound("That label no longer exists.")
    return label


def _clean_name(session: Session, workspace_id: int, name: str, except_id: int | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise LabelError("Give the label a name.")
    if len(name) > LABEL_NAME_MAX_LENGTH:
        raise LabelError(f"Keep the label name to {LABEL_NAME_MAX_LENGTH} characters or fewer.")
    # Compared here, not with SQL lower(): SQLite's only folds ASCII.
    for label_id, existing in session.execute(
        sa.select(Label.id, Label.name).where(Label.workspace_id == workspace_id)
    ):
        if label_id != except_id and existing.casefold() == name.casefold():
            raise LabelError(f"A label called “{existing}” already exists.")
    return name


def _clean_color(color: str) -> str:
    if color not in LABEL_COLORS:
        raise LabelError(f"Choose one of the colours: {', '.join(LABEL_COLORS)}.")
    return color
