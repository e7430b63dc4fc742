"""Notes on a contact: add, edit and delete (the author, or an admin), each audited, and
the reads the details drawer and the table's "Latest note" column make."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.access import Identity, Role
from cloodot_app.errors import AccessDenied, NotFound, UserError
from cloodot_app.filters.values import is_text
from cloodot_app.models import Contact, ContactNote, User, utcnow
from cloodot_app.services import audit
from cloodot_app.services.workspaces import bump_data_version

MAX_NOTE_LENGTH = 5000
# What the table's "Latest note" column shows of a note (the cell ends with "…" past it).
LATEST_NOTE_CHARS = 80

ADD = audit.NOTE_ADD
EDIT = audit.NOTE_EDIT
DELETE = audit.NOTE_DELETE


class NoteError(UserError):
    """A note that cannot be saved as written."""


@dataclass
class NoteLine:
    """One note as the drawer shows it (plain values for the browser)."""

    id: int = 0
    body: str = ""
    author: str = ""  # the member's name (or email), or "A deleted user"
    created_at: str = ""  # ISO 8601
    edited_at: str = ""  # ISO 8601, "" when never edited
    can_change: bool = False  # the viewer wrote it, or is an admin


def clean_body(body: object) -> str:
    """The note's text as stored, or a NoteError saying what to fix (nothing is saved)."""
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        raise NoteError("Write something in the note before saving it.")
    if "\x00" in text or not is_text(text):
        raise NoteError("A note can only contain text (it has a character that is not).")
    if len(text) > MAX_NOTE_LENGTH:
        raise NoteError(
            f"Keep a note to {MAX_NOTE_LENGTH:,} characters (this one has {len(text):,})."
        )
    return text


def may_change(actor: Identity, note: ContactNote) -> bool:
    """The author may change their note; an admin may change anyone's."""
    return actor.role == Role.ADMIN or (
        note.author_user_id is not None and note.author_user_id == actor.user_id
    )


def contact_notes(
    session: Session, workspace_id: int, contact_id: int, viewer: Identity | None = None
) -> list[NoteLine]:
    """A contact's notes, newest first, with what `viewer` may change."""
    owned_contact(session, workspace_id, contact_id)
    rows = session.execute(
        sa.select(ContactNote, User.name, User.email)
        .outerjoin(User, User.id == ContactNote.author_user_id)
        .where(ContactNote.workspace_id == workspace_id, ContactNote.contact_id == contact_id)
        .order_by(ContactNote.created_at.desc(), ContactNote.id.desc())
    ).all()
    return [
        NoteLine(
            id=note.id or 0,
            body=note.body,
            author=name or email or "A deleted user",
            created_at=note.created_at.isoformat(),
            edited_at=note.edited_at.isoformat() if note.edited_at else "",
            can_change=viewer is not None and may_change(viewer, note),
        )
        for note, name, email in rows
    ]


def latest_notes(session: Session, workspace_id: int, ids: Sequence[int]) -> dict[int, str]:
    """Per contact of `ids`: its newest note, cut to LATEST_NOTE_CHARS (one query)."""
    if not ids:
        return {}
    newest = (
        sa.select(
            ContactNote.contact_id,
            ContactNote.body,
            sa.func.row_number()
            .over(
                partition_by=ContactNote.contact_id,
                order_by=(ContactNote.created_at.desc(), ContactNote.id.desc()),
            )
            .label("rank"),
        )
        .where(ContactNote.workspace_id == workspace_id, ContactNote.contact_id.in_(ids))
        .subquery()
    )
    rows = session.execute(sa.select(newest.c.contact_id, newest.c.body).where(newest.c.rank == 1))
    return {contact_id: shorten(body) for contact_id, body in rows}


def shorten(body: str, limit: int = LATEST_NOTE_CHARS) -> str:
    """One line of at most `limit` characters, ending with "…" when cut."""
    line = " ".join(body.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def owned_contact(session: Session, workspace_id: int, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id) if isinstance(contact_id, int) else None
    if contact is None or contact.workspace_id != workspace_id:
        raise NotFound("That contact no longer exists.")
    return contact


def _owned_note(session: Session, workspace_id: int, note_id: int) -> ContactNote:
    note = session.get(ContactNote, note_id) if isinstance(note_id, int) else None
    if note is None or note.workspace_id != workspace_id:
        raise NotFound("That note no longer exists (someone may have deleted it).")
    return note


def _check_actor(actor: Identity, workspace_id: int) -> None:
    if actor.workspace_id != workspace_id:
        raise AccessDenied("You cannot write notes in another workspace from this one.")


def add_note(
    session: Session,
    workspace_id: int,
    actor: Identity,
    contact_id: int,
    body: str,
    *,
    now: datetime | None = None,
) -> NoteLine:
    """Write a note on a contact as `actor` (audited)."""
    _check_actor(actor, workspace_id)
    text = clean_body(body)
    contact = owned_contact(session, workspace_id, contact_id)
    note = ContactNote(
        workspace_id=workspace_id,
        contact_id=contact_id,
        author_user_id=actor.user_id,
        body=text,
        created_at=now or utcnow(),
    )
    session.add(note)
    session.flush()
    audit.record(
        session,
        workspace_id,
        actor,
        ADD,
        f"Added a note to {contact.name or 'a contact'} (#{contact_id})",
        {"contact_id": contact_id, "note_id": note.id, "length": len(text)},
    )
    bump_data_version(session, workspace_id)
    return NoteLine(
        id=note.id or 0,
        body=text,
        author=actor.name or actor.email,
        created_at=note.created_at.isoformat(),
        can_change=True,
    )


def edit_note(
    session: Session,
    workspace_id: int,
    actor: Identity,
    note_id: int,
    body: str,
    *,
    now: datetime | None = None,
) -> None:
    """Change a note's text: its author, or an admin (audited)."""
    _check_actor(actor, workspace_id)
    note = _owned_note(session, workspace_id, note_id)
    if not may_change(actor, note):
        raise AccessDenied("Only the note's author or an admin can edit it.")
    text = clean_body(body)
    if text == note.body:
        return
    old_length = len(note.body)
    note.body, note.edited_at = text, now or utcnow()
    session.add(note)
    session.flush()
    audit.record(
        session,
        workspace_id,
        actor,
        EDIT,
        f"Edited a note on contact #{note.contact_id}",
        {
            "contact_id": note.contact_id,
            "note_id": note.id,
            "author_user_id": note.author_user_id,
            "old_length": old_length,
            "length": len(text),
        },
    )
    bump_data_version(session, workspace_id)


def delete_note(session: Session, workspace_id: int, actor: Identity, note_id: int) -> None:
    """Delete a note: its author, or an admin (audited)."""
    _check_actor(actor, workspace_id)
    note = _owned_note(session, workspace_id, note_id)
    if not may_change(actor, note):
        raise AccessDenied("Only the note's author or an admin can delete it.")
    details = {
        "contact_id": note.contact_id,
        "note_id": note.id,
        "author_user_id": note.author_user_id,
        "length": len(note.body),
    }
    session.delete(note)
    session.flush()
    audit.record(
        session,
        workspace_id,
        actor,
        DELETE,
        f"Deleted a note on contact #{details['contact_id']}",
        details,
    )
    bump_data_version(session, workspace_id)
