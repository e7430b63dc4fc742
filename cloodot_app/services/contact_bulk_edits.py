"""Editing many contacts at once: add or remove a label, set a contact custom field or
campaign opt-in on a selection (listed ids, or a view frozen when the confirmation counted
it). It runs in chunks, one transaction each, and remembers what it changed so that Undo
puts back exactly that."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import json_sql
from cloodot_app.access import Identity
from cloodot_app.errors import FieldValueError, NotFound, SelectionChanged, UserError
from cloodot_app.fieldtypes import field_type
from cloodot_app.models import (
    BulkEdit,
    BulkEditChange,
    Contact,
    ContactLabel,
    CustomFieldDefinition,
    FieldEntity,
    Label,
    utcnow,
)
from cloodot_app.services import audit
from cloodot_app.services.audit import ConsentSource
from cloodot_app.services.contact_audit import OPT_IN, describe_view
from cloodot_app.services.contact_deletes import Selection
from cloodot_app.services.contact_rows import LabelTag, display
from cloodot_app.services.custom_fields.definitions import (
    FieldDefinitionSummary,
    field_definitions,
)
from cloodot_app.services.labels import label_tags
from cloodot_app.services.workspaces import bump_data_version

BULK_EDIT = "contacts.bulk_edit"
BULK_EDIT_UNDO = "contacts.bulk_edit_undo"

# Contacts per transaction: short enough that ingestion waits at most a moment for a row
# a chunk holds, long enough that 100,000 contacts are a hundred commits.
CHUNK_SIZE = 1000
# How long after it finished a bulk edit can be undone.
UNDO_WINDOW = timedelta(minutes=10)
UNDO_WORDS = "10 minutes"
# How many of the contacts' ids an audit entry keeps.
KEPT_IDS = 20

Sessions = Callable[[], AbstractContextManager[Session]]


class BulkAction(enum.StrEnum):
    ADD_LABEL = "add_label"
    REMOVE_LABEL = "remove_label"
    SET_FIELD = "set_field"
    SET_OPT_IN = "set_opt_in"


class BulkStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    STOPPED = "stopped"  # the database (or a bug) stopped it part-way
    UNDONE = "undone"


@dataclass
class BulkRequest:
    """What the dialog asks for, unvalidated: a label id, or a contact custom field's key
    (without "cf.") and a value as its editor sends it, or the opt-in value."""

    action: str
    label_id: int = 0
    field_key: str = ""
    value: Any = None


@dataclass
class BulkPlan:
    """A validated request: what will be stored, and the words that say it."""

    action: BulkAction
    label_id: int | None = None
    field_key: str = ""
    value: Any = None  # the stored form (None clears a field)
    # "Add the label “VIP”", "Set “Plan” to “Pro”", "Turn campaign opt-in on"
    words: str = ""
    # "Added the label “VIP” to", … : followed by "1,234 contacts"
    done_words: str = ""
    # "already have it", "already have that value", …
    already_words: str = ""


@dataclass
class BulkEditPreview:
    """What the confirmation tells: how many are selected and how many already have the
    value, for the selection as it was counted (what the confirmation edits)."""

    selected: int
    already: int
    plan: BulkPlan
    selection: Selection = field(default_factory=Selection)

    @property
    def to_change(self) -> int:
        return self.selected - self.already


@dataclass
class BulkEditResult:
    bulk_edit_id: int
    promised: int  # what the confirmation counted
    done: int  # selected contacts that were still there and still matched
    changed: int  # of which changed (the others already had the value)
    words: str  # "Added the label “VIP” to"
    undo_until: datetime | None = None

    @property
    def left_out(self) -> int:
        """Counted by the confirmation but changed or deleted meanwhile: left as they were."""
        return max(0, self.promised - self.done)


@dataclass
class UndoResult:
    reverted: int
    # Changed again since the bulk edit (or deleted): they keep their new value.
    kept: int


# --------------------------------------------------------------------------- the dialog


@dataclass
class BulkEditChoices:
    """What the dialog offers: the selection frozen as it opened, how many it holds, and
    the workspace's labels and contact fields."""

    selection: Selection
    selected: int
    labels: list[LabelTag]
    fields: list[FieldDefinitionSummary]


def bulk_edit_choices(session: Session, workspace_id: int, selection: Selection) -> BulkEditChoices:
    selection = selection.frozen(session, workspace_id)
    selected = session.execute(
        sa.select(sa.func.count())
        .select_from(Contact)
        .where(selection.condition(session, workspace_id))
    ).scalar_one()
    return BulkEditChoices(
        selection,
        selected,
        label_tags(session, workspace_id),
        field_definitions(session, workspace_id, FieldEntity.CONTACT.value),
    )


# --------------------------------------------------------------------------- the plan


def plan_bulk_edit(session: Session, workspace_id: int, request: BulkRequest) -> BulkPlan:
    """Validate the request with the same rules as a one-contact edit. Raises
    FieldValueError or NotFound, and changes nothing."""
    try:
        action = BulkAction(request.action)
    except ValueError:
        raise FieldValueError(
            "Choose what to change: a label, a field or campaign opt-in."
        ) from None
    if action in (BulkAction.ADD_LABEL, BulkAction.REMOVE_LABEL):
        label = session.execute(
            sa.select(Label).where(Label.workspace_id == workspace_id, Label.id == request.label_id)
        ).scalar_one_or_none()
        if label is None:
            raise NotFound("Choose a label (the one chosen no longer exists).")
        if action is BulkAction.ADD_LABEL:
            return BulkPlan(
                action,
                label.id,
                words=f"Add the label “{label.name}”",
                done_words=f"Added the label “{label.name}” to",
                already_words="already have it",
            )
        return BulkPlan(
            action,
            label.id,
            words=f"Remove the label “{label.name}”",
            done_words=f"Removed the label “{label.name}” from",
            already_words="do not have it",
        )
    if action is BulkAction.SET_OPT_IN:
        if not isinstance(request.value, bool):
            raise FieldValueError("Campaign opt-in is either on or off.")
        state = "on" if request.value else "off"
        return BulkPlan(
            action,
            value=request.value,
            words=f"Turn campaign opt-in {state}",
            done_words=f"Turned campaign opt-in {state} for",
            already_words=f"already have it {state}",
        )
    definition = session.execute(
        sa.select(CustomFieldDefinition).where(
            CustomFieldDefinition.workspace_id == workspace_id,
            CustomFieldDefinition.entity == FieldEntity.CONTACT.value,
            CustomFieldDefinition.key == request.field_key,
        )
    ).scalar_one_or_none()
    if definition is None:
        raise NotFound("Choose a field (the one chosen no longer exists).")
    stored = field_type(definition.type).validate(request.value, definition.options)
    shown = display(definition.type, stored)
    if stored is None:
        words, done = f"Clear “{definition.label}”", f"Cleared “{definition.label}” of"
    else:
        words = f"Set “{definition.label}” to “{shown}”"
        done = f"Set “{definition.label}” to “{shown}” on"
    return BulkPlan(
        action,
        field_key=definition.key,
        value=stored,
        words=words,
        done_words=done,
        already_words="already have that value" if stored is not None else "have no value",
    )


def _has_label(label_id: int | None) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        ContactLabel.contact_id == Contact.id, ContactLabel.label_id == label_id
    )


def already(plan: BulkPlan, dialect: str) -> sa.ColumnElement[bool]:
    """True for a contact that already has what the plan sets (SQL, on Contact)."""
    if plan.action is BulkAction.ADD_LABEL:
        return _has_label(plan.label_id)
    if plan.action is BulkAction.REMOVE_LABEL:
        return ~_has_label(plan.label_id)
    if plan.action is BulkAction.SET_OPT_IN:
        return Contact.campaign_opt_in.is_(bool(plan.value))
    return sa.and_(json_sql.key_is(Contact.custom_fields, plan.field_key, plan.value, dialect))


def bulk_edit_preview(
    session: Session, workspace_id: int, selection: Selection, request: BulkRequest
) -> BulkEditPreview:
    """Validate the request and count, for the selection frozen now, how many contacts
    it selects and how many already have the value."""
    plan = plan_bulk_edit(session, workspace_id, request)
    selection = selection.frozen(session, workspace_id)
    dialect = session.get_bind().dialect.name
    selected, has_it = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((already(plan, dialect), 1), else_=0)), 0),
        )
        .select_from(Contact)
        .where(selection.condition(session, workspace_id))
    ).one()
    return BulkEditPreview(selected, int(has_it), plan, selection)


# --------------------------------------------------------------------------- the run


def run_bulk_edit(
    sessions: Sessions,
    workspace_id: int,
    selection: Selection,
    plan: BulkPlan,
    *,
    actor: Identity | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> BulkEditResult:
    """Apply `plan` to the selection (as frozen by the preview) in chunks of `chunk_size`
    contacts, one transaction each; `sessions()` opens one (db.session_scope).

    The contacts are the ones the selection holds when the run starts (never more than the
    confirmation promised); each chunk locks its rows before it reads their values, so a
    concurrent edit or delivery is neither overwritten unseen nor lost. Every changed
    contact's previous value is kept for Undo, in the chunk's transaction; the last chunk
    writes the audit entry. If the run stops part-way, the chunks done stay done and a
    "stopped" entry says how far it got.
    """
    with sessions() as session:
        ids = list(
            session.execute(
                sa.select(Contact.id)
                .where(selection.condition(session, workspace_id))
                .order_by(Contact.id)
            ).scalars()
        )
        if selection.promised is not None and len(ids) > selection.promised:
            raise SelectionChanged(
                "The selection changed since you confirmed. Nothing was changed; review it again."
            )
        # The label or field may have been deleted since the dialog opened.
        plan = plan_bulk_edit(
            session,
            workspace_id,
            BulkRequest(plan.action.value, plan.label_id or 0, plan.field_key, plan.value),
        )
        edit = BulkEdit(
            workspace_id=workspace_id,
            actor_user_id=actor.user_id if actor is not None else None,
            action=plan.action.value,
            label_id=plan.label_id,
            field_key=plan.field_key,
            value={"value": plan.value},
            selected=selection.promised if selection.promised is not None else len(ids),
            summary=plan.words[:500],
        )
        session.add(edit)
        session.flush()
        assert edit.id is not None
        edit_id, promised = edit.id, edit.selected
        view = (
            "selected rows"
            if selection.query is None
            else describe_view(session, workspace_id, selection.query).text
        )

    done = changed = 0
    chunks = list(_chunks(ids, chunk_size)) or [[]]
    if progress is not None:
        progress(0, len(ids))
    try:
        for number, chunk in enumerate(chunks, start=1):
            with sessions() as session:
                present, changed_ids = _apply_chunk(session, workspace_id, edit_id, plan, chunk)
                done, changed = done + present, changed + len(changed_ids)
                last = number == len(chunks)
                _count(session, edit_id, done, changed, BulkStatus.DONE if last else None)
                if plan.action is BulkAction.SET_OPT_IN and changed_ids:
                    audit.record_consent_many(
                        session,
                        workspace_id,
                        [(cid, not plan.value, bool(plan.value)) for cid in changed_ids],
                        ConsentSource.BULK,
                        actor.user_id if actor is not None else None,
                    )
                if last:
                    _record_run(session, workspace_id, actor, edit_id, plan, view, done, changed)
            if progress is not None:
                progress(min(len(ids), number * chunk_size), len(ids))
    except BaseException:
        with sessions() as session:
            _count(session, edit_id, done, changed, BulkStatus.STOPPED)
            audit.record(
                session,
                workspace_id,
                actor,
                BULK_EDIT,
                f"Bulk edit stopped after {done:,} of {_contacts(len(ids))}: "
                f"{plan.words} ({changed:,} changed)",
                {"bulk_edit_id": edit_id, "status": BulkStatus.STOPPED.value, "changed": changed},
            )
        raise
    return BulkEditResult(edit_id, promised, done, changed, plan.done_words, utcnow() + UNDO_WINDOW)


def _apply_chunk(
    session: Session, workspace_id: int, edit_id: int, plan: BulkPlan, chunk: list[int]
) -> tuple[int, list[int]]:
    """(how many of `chunk` are still there, the ids this changed)."""
    if not chunk:
        return 0, []
    # Lock before reading, so the values read below stay what they are until this
    # transaction commits: a first write (to the bulk edit's own row) takes SQLite's write
    # lock, and FOR UPDATE takes the chunk's row locks on PostgreSQL (a no-op UPDATE of
    # the contacts would do both, but writes a new version of every row: twice the cost).
    session.execute(sa.update(BulkEdit).where(BulkEdit.id == edit_id).values(done=BulkEdit.done))
    present = list(
        session.execute(
            sa.select(Contact.id)
            .where(Contact.workspace_id == workspace_id, _in(Contact.id, chunk))
            .order_by(Contact.id)
            .with_for_update()
        ).scalars()
    )
    if not present:
        return 0, []
    old: dict[int, Any] = {}
    if plan.action in (BulkAction.ADD_LABEL, BulkAction.REMOVE_LABEL):
        having = set(
            session.execute(
                sa.select(ContactLabel.contact_id).where(
                    ContactLabel.label_id == plan.label_id, _in(ContactLabel.contact_id, present)
                )
            ).scalars()
        )
        adding = plan.action is BulkAction.ADD_LABEL
        targets = sorted(set(present) - having if adding else having)
        if targets and adding:
            session.execute(
                sa.insert(ContactLabel),
                [{"contact_id": cid, "label_id": plan.label_id} for cid in targets],
            )
        elif targets:
            session.execute(
                sa.delete(ContactLabel).where(
                    ContactLabel.label_id == plan.label_id, _in(ContactLabel.contact_id, targets)
                )
            )
        values: dict[str, Any] = {}
    elif plan.action is BulkAction.SET_OPT_IN:
        for cid, opt_in in session.execute(
            sa.select(Contact.id, Contact.campaign_opt_in).where(_in(Contact.id, present))
        ):
            if bool(opt_in) != plan.value:
                old[cid] = bool(opt_in)
        targets = sorted(old)
        values = {"campaign_opt_in": bool(plan.value)}
    else:
        for cid, custom in session.execute(
            sa.select(Contact.id, Contact.custom_fields).where(_in(Contact.id, present))
        ):
            current = (custom or {}).get(plan.field_key)
            if current != plan.value:
                old[cid] = current
        targets = sorted(old)
        dialect = session.get_bind().dialect.name
        values = {
            "custom_fields": json_sql.set_key(
                Contact.custom_fields, plan.field_key, plan.value, dialect
            )
        }
    if not targets:
        return len(present), []
    session.execute(
        sa.update(Contact)
        .where(_in(Contact.id, targets))
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.execute(
        sa.insert(BulkEditChange),
        [
            {"bulk_edit_id": edit_id, "contact_id": cid, "old": {"value": old.get(cid)}}
            for cid in targets
        ],
    )
    bump_data_version(session, workspace_id)
    return len(present), targets


def _count(
    session: Session, edit_id: int, done: int, changed: int, status: BulkStatus | None
) -> None:
    values: dict[str, Any] = {"done": done, "changed": changed}
    if status is not None:
        values.update(status=status.value, finished_at=utcnow())
    session.execute(sa.update(BulkEdit).where(BulkEdit.id == edit_id).values(**values))


def _record_run(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    edit_id: int,
    plan: BulkPlan,
    view: str,
    done: int,
    changed: int,
) -> None:
    ids = list(
        session.execute(
            sa.select(BulkEditChange.contact_id)
            .where(BulkEditChange.bulk_edit_id == edit_id)
            .order_by(BulkEditChange.contact_id)
            .limit(KEPT_IDS)
        ).scalars()
    )
    details = {
        "bulk_edit_id": edit_id,
        "action": plan.action.value,
        "label_id": plan.label_id,
        "field_key": plan.field_key,
        "value": plan.value,
        "selected": done,
        "changed": changed,
        "unchanged": done - changed,
        "ids": ids,
        "more_ids": max(0, changed - len(ids)),
        "view": view,
    }
    summary = (
        f"{plan.done_words} {_contacts(changed)} ({done - changed:,} {plan.already_words}) — {view}"
    )
    audit.record(session, workspace_id, actor, BULK_EDIT, summary, details)
    if plan.action is BulkAction.SET_OPT_IN and changed:
        audit.record(
            session,
            workspace_id,
            actor,
            OPT_IN,
            f"Bulk edit turned campaign opt-in {'on' if plan.value else 'off'} for "
            f"{_contacts(changed)}",
            {
                "source": ConsentSource.BULK.value,
                "count": changed,
                "new": bool(plan.value),
                "bulk_edit_id": edit_id,
            },
        )


# --------------------------------------------------------------------------- undo


def undo_bulk_edit(
    session: Session,
    workspace_id: int,
    bulk_edit_id: int,
    *,
    actor: Identity | None = None,
    now: datetime | None = None,
) -> UndoResult:
    """Put back the previous values of the contacts a bulk edit changed, in the caller's
    transaction: only where a contact still holds what the bulk edit set (one changed
    again since keeps its new value). Possible once, for UNDO_WINDOW after it finished."""
    now = now or utcnow()
    edit = session.execute(
        sa.select(BulkEdit).where(
            BulkEdit.id == bulk_edit_id, BulkEdit.workspace_id == workspace_id
        )
    ).scalar_one_or_none()
    if edit is None:
        raise NotFound("That bulk edit is not in this workspace.")
    finished = edit.finished_at
    if finished is not None and finished.tzinfo is None:
        finished = finished.replace(tzinfo=now.tzinfo)
    if edit.status == BulkStatus.UNDONE.value:
        raise UserError("That bulk edit was already undone.")
    if edit.status == BulkStatus.RUNNING.value or finished is None:
        raise UserError("That bulk edit is still running; undo it when it has finished.")
    if now > finished + UNDO_WINDOW:
        raise UserError(f"A bulk edit can be undone for {UNDO_WORDS}; this one is older.")
    # Claim it (one conditional UPDATE): a second Undo at the same time finds it taken.
    claimed = session.execute(
        sa.update(BulkEdit)
        .where(BulkEdit.id == edit.id, BulkEdit.status != BulkStatus.UNDONE.value)
        .values(status=BulkStatus.UNDONE.value, undone_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise UserError("That bulk edit was already undone.")
    action, value = BulkAction(edit.action), (edit.value or {}).get("value")
    changes = session.execute(
        sa.select(BulkEditChange.contact_id, BulkEditChange.old)
        .where(BulkEditChange.bulk_edit_id == edit.id)
        .order_by(BulkEditChange.contact_id)
    ).all()
    if action is BulkAction.REMOVE_LABEL and changes:
        exists = session.execute(
            sa.select(Label.id).where(Label.id == edit.label_id, Label.workspace_id == workspace_id)
        ).scalar_one_or_none()
        if exists is None:
            raise NotFound("The label was deleted since; there is nothing to put back.")
    reverted: list[int] = []
    dialect = session.get_bind().dialect.name
    for chunk in _chunks([(cid, (old or {}).get("value")) for cid, old in changes], CHUNK_SIZE):
        reverted += _revert_chunk(session, workspace_id, edit, action, value, chunk, dialect)
    if action is BulkAction.SET_OPT_IN and reverted:
        audit.record_consent_many(
            session,
            workspace_id,
            [(cid, bool(value), not value) for cid in reverted],
            ConsentSource.BULK,
            actor.user_id if actor is not None else None,
            now=now,
        )
    if reverted:
        bump_data_version(session, workspace_id)
    kept = len(changes) - len(reverted)
    audit.record(
        session,
        workspace_id,
        actor,
        BULK_EDIT_UNDO,
        f"Undid a bulk edit ({edit.summary}): {_contacts(len(reverted))} put back"
        + (f", {kept:,} changed since and kept" if kept else ""),
        {
            "bulk_edit_id": edit.id,
            "reverted": len(reverted),
            "kept": kept,
            "ids": reverted[:KEPT_IDS],
        },
    )
    session.flush()
    return UndoResult(len(reverted), kept)


def _revert_chunk(
    session: Session,
    workspace_id: int,
    edit: BulkEdit,
    action: BulkAction,
    value: Any,
    chunk: list[tuple[int, Any]],
    dialect: str,
) -> list[int]:
    """Put back the chunk's previous values where the bulk edit's value is still there;
    the ids put back."""
    ids = [cid for cid, _ in chunk]
    if action is BulkAction.ADD_LABEL:
        still = _holding(session, ContactLabel.label_id == edit.label_id, ids)
        if still:
            session.execute(
                sa.delete(ContactLabel).where(
                    ContactLabel.label_id == edit.label_id, _in(ContactLabel.contact_id, still)
                )
            )
    elif action is BulkAction.REMOVE_LABEL:
        having = set(_holding(session, ContactLabel.label_id == edit.label_id, ids))
        present = session.execute(
            sa.select(Contact.id).where(Contact.workspace_id == workspace_id, _in(Contact.id, ids))
        ).scalars()
        still = sorted(set(present) - having)
        if still:
            session.execute(
                sa.insert(ContactLabel),
                [{"contact_id": cid, "label_id": edit.label_id} for cid in still],
            )
    else:
        holds = (
            Contact.campaign_opt_in.is_(bool(value))
            if action is BulkAction.SET_OPT_IN
            else json_sql.key_is(Contact.custom_fields, edit.field_key, value, dialect)
        )
        still = list(
            session.execute(
                sa.select(Contact.id).where(
                    Contact.workspace_id == workspace_id, _in(Contact.id, ids), holds
                )
            ).scalars()
        )
        olds = dict(chunk)
        groups: dict[str, tuple[Any, list[int]]] = {}
        for cid in still:
            groups.setdefault(repr(olds[cid]), (olds[cid], []))[1].append(cid)
        for old, group in groups.values():
            if action is BulkAction.SET_OPT_IN:
                new_values: dict[str, Any] = {"campaign_opt_in": bool(old)}
            else:
                new_values = {
                    "custom_fields": json_sql.set_key(
                        Contact.custom_fields, edit.field_key, old, dialect
                    )
                }
            session.execute(
                sa.update(Contact)
                .where(_in(Contact.id, group), holds)
                .values(**new_values)
                .execution_options(synchronize_session=False)
            )
    if still:
        session.execute(
            sa.update(Contact)
            .where(_in(Contact.id, still))
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return sorted(still)


def _holding(session: Session, condition: sa.ColumnElement[bool], ids: list[int]) -> list[int]:
    return sorted(
        session.execute(
            sa.select(ContactLabel.contact_id).where(condition, _in(ContactLabel.contact_id, ids))
        ).scalars()
    )


# --------------------------------------------------------------------------- helpers


def _in(column: Any, ids: Sequence[int]) -> sa.ColumnElement[bool]:
    # Written into the SQL (integers only): PostgreSQL's generic plan for a prepared
    # "IN ($1, …, $1000)" can scan instead of using the index (see importer/check.py).
    return column.in_(sa.bindparam("ids", list(ids), literal_execute=True))  # type: ignore[no-any-return]


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _contacts(count: int) -> str:
    return f"{count:,} contact{'' if count == 1 else 's'}"
