"""Notes on a contact: everyone writes them; the author (or an admin) edits and deletes
them; a bad note is refused with a message and nothing changes; every change is one audit
entry; the table's "Latest note" column reads the newest. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.access import Identity, Role
from cloodot_app.errors import AccessDenied, NotFound
from cloodot_app.models import AuditEntry, Contact, ContactNote, User
from cloodot_app.services import notes
from cloodot_app.services.contact_deletes import Selection, delete_contacts
from cloodot_app.services.contacts import ContactQuery, list_contacts
from cloodot_app.services.notes import MAX_NOTE_LENGTH, NoteError
from cloodot_app.services.workspaces import data_version

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def member(session: Session, workspace_id: int, name: str, role: Role) -> Identity:
    user = User(email=f"{name.lower()}@acme.example", name=name, password_hash="!")
    session.add(user)
    session.commit()
    assert user.id is not None
    return Identity(user.id, user.email, name, workspace_id, "Acme", role, session_id=0)


@pytest.fixture
def people(session, workspace_id):
    return {
        "agent": member(session, workspace_id, "Agnes", Role.AGENT),
        "other_agent": member(session, workspace_id, "Otto", Role.AGENT),
        "manager": member(session, workspace_id, "Mona", Role.MANAGER),
        "admin": member(session, workspace_id, "Ada", Role.ADMIN),
    }


@pytest.fixture
def contact_id(session, workspace_id) -> int:
    contact = Contact(workspace_id=workspace_id, name="Zoe Client")
    session.add(contact)
    session.commit()
    assert contact.id is not None
    return contact.id


def audit_actions(session: Session, workspace_id: int) -> list[str]:
    return list(
        session.execute(
            sa.select(AuditEntry.action)
            .where(AuditEntry.workspace_id == workspace_id)
            .order_by(AuditEntry.id)
        ).scalars()
    )


def test_a_note_is_written_read_back_with_its_author_and_audited(
    session, workspace_id, people, contact_id
):
    version = data_version(session, workspace_id)
    line = notes.add_note(
        session, workspace_id, people["agent"], contact_id, "  Wants a call on Monday \n", now=T0
    )
    session.commit()
    assert line.body == "Wants a call on Monday"
    (read,) = notes.contact_notes(session, workspace_id, contact_id, people["agent"])
    assert (read.body, read.author, read.created_at, read.edited_at, read.can_change) == (
        "Wants a call on Monday",
        "Agnes",
        T0.isoformat(),
        "",
        True,
    )
    entry = session.execute(sa.select(AuditEntry)).scalar_one()
    assert entry.action == "contacts.note_add"
    assert entry.actor_user_id == people["agent"].user_id
    assert entry.details == {"contact_id": contact_id, "note_id": read.id, "length": 22}
    assert "Zoe Client" in entry.summary
    # Live mode sees it.
    assert data_version(session, workspace_id) == version + 1


def test_notes_are_listed_newest_first(session, workspace_id, people, contact_id):
    for hours, body in ((0, "first"), (2, "third"), (1, "second")):
        notes.add_note(
            session,
            workspace_id,
            people["agent"],
            contact_id,
            body,
            now=T0 + timedelta(hours=hours),
        )
    session.commit()
    bodies = [n.body for n in notes.contact_notes(session, workspace_id, contact_id)]
    assert bodies == ["third", "second", "first"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write something in the note before saving it."),
        ("   \n\t ", "Write something in the note before saving it."),
        (None, "Write something in the note before saving it."),
        ("x" * (MAX_NOTE_LENGTH + 1), "Keep a note to 5,000 characters (this one has 5,001)."),
        ("a\x00b", "A note can only contain text"),
        ("lone \ud800 surrogate", "A note can only contain text"),
    ],
)
def test_a_bad_note_is_refused_with_a_message_and_nothing_changes(
    session, workspace_id, people, contact_id, body, message
):
    with pytest.raises(NoteError, match=message.replace("(", r"\(").replace(")", r"\)")):
        notes.add_note(session, workspace_id, people["agent"], contact_id, body)
    session.rollback()
    assert session.execute(sa.select(sa.func.count()).select_from(ContactNote)).scalar() == 0
    assert audit_actions(session, workspace_id) == []


def test_the_longest_note_is_kept_whole(session, workspace_id, people, contact_id):
    notes.add_note(session, workspace_id, people["agent"], contact_id, "é" * MAX_NOTE_LENGTH)
    session.commit()
    (read,) = notes.contact_notes(session, workspace_id, contact_id)
    assert read.body == "é" * MAX_NOTE_LENGTH


def test_the_author_edits_and_deletes_their_own(session, workspace_id, people, contact_id):
    agent = people["agent"]
    line = notes.add_note(session, workspace_id, agent, contact_id, "Draft", now=T0)
    later = T0 + timedelta(minutes=5)
    notes.edit_note(session, workspace_id, agent, line.id, "Final words", now=later)
    session.commit()
    (read,) = notes.contact_notes(session, workspace_id, contact_id, agent)
    assert (read.body, read.created_at, read.edited_at) == (
        "Final words",
        T0.isoformat(),
        later.isoformat(),
    )
    notes.delete_note(session, workspace_id, agent, line.id)
    session.commit()
    assert notes.contact_notes(session, workspace_id, contact_id) == []
    assert audit_actions(session, workspace_id) == [
        "contacts.note_add",
        "contacts.note_edit",
        "contacts.note_delete",
    ]
    edit, delete = session.execute(
        sa.select(AuditEntry.details).where(AuditEntry.action != "contacts.note_add")
    ).scalars()
    assert edit["old_length"] == 5 and edit["length"] == 11
    assert delete["author_user_id"] == agent.user_id


def test_saving_the_same_text_changes_nothing(session, workspace_id, people, contact_id):
    line = notes.add_note(session, workspace_id, people["agent"], contact_id, "Same")
    notes.edit_note(session, workspace_id, people["agent"], line.id, "  Same  ")
    session.commit()
    assert audit_actions(session, workspace_id) == ["contacts.note_add"]
    assert notes.contact_notes(session, workspace_id, contact_id)[0].edited_at == ""


@pytest.mark.parametrize("who", ["other_agent", "manager"])
def test_someone_elses_note_cannot_be_changed_by_an_agent_or_a_manager(
    session, workspace_id, people, contact_id, who
):
    line = notes.add_note(session, workspace_id, people["agent"], contact_id, "Mine")
    session.commit()
    assert (
        notes.contact_notes(session, workspace_id, contact_id, people[who])[0].can_change is False
    )
    with pytest.raises(AccessDenied, match="Only the note's author or an admin can edit it."):
        notes.edit_note(session, workspace_id, people[who], line.id, "Theirs")
    with pytest.raises(AccessDenied, match="Only the note's author or an admin can delete it."):
        notes.delete_note(session, workspace_id, people[who], line.id)
    session.rollback()
    (read,) = notes.contact_notes(session, workspace_id, contact_id)
    assert (read.body, read.edited_at) == ("Mine", "")
    assert audit_actions(session, workspace_id) == ["contacts.note_add"]


def test_an_admin_edits_and_deletes_anyones(session, workspace_id, people, contact_id):
    line = notes.add_note(session, workspace_id, people["agent"], contact_id, "Agent's")
    session.commit()
    admin = people["admin"]
    assert notes.contact_notes(session, workspace_id, contact_id, admin)[0].can_change is True
    notes.edit_note(session, workspace_id, admin, line.id, "Tidied by the admin")
    session.commit()
    (read,) = notes.contact_notes(session, workspace_id, contact_id)
    # Still the agent's note: the admin edited it.
    assert (read.body, read.author) == ("Tidied by the admin", "Agnes")
    notes.delete_note(session, workspace_id, admin, line.id)
    session.commit()
    assert notes.contact_notes(session, workspace_id, contact_id) == []
    actors = session.execute(
        sa.select(AuditEntry.actor_user_id).where(AuditEntry.action != "contacts.note_add")
    ).scalars()
    assert set(actors) == {admin.user_id}


def test_another_workspaces_notes_and_contacts_are_out_of_reach(
    session, workspace_id, make_workspace, people, contact_id
):
    line = notes.add_note(session, workspace_id, people["agent"], contact_id, "Private")
    session.commit()
    globex = make_workspace("globex")
    stranger = member(session, globex, "Stranger", Role.ADMIN)
    with pytest.raises(NotFound):
        notes.contact_notes(session, globex, contact_id)
    with pytest.raises(NotFound):
        notes.add_note(session, globex, stranger, contact_id, "Hello")
    with pytest.raises(NotFound):
        notes.edit_note(session, globex, stranger, line.id, "Changed")
    with pytest.raises(NotFound):
        notes.delete_note(session, globex, stranger, line.id)
    # An identity of another workspace is refused outright.
    with pytest.raises(AccessDenied):
        notes.add_note(session, workspace_id, stranger, contact_id, "Hello")
    session.rollback()
    assert [n.body for n in notes.contact_notes(session, workspace_id, contact_id)] == ["Private"]


def test_a_deleted_authors_notes_stay_and_say_so(session, workspace_id, people, contact_id):
    notes.add_note(session, workspace_id, people["other_agent"], contact_id, "Left behind")
    session.commit()
    session.execute(sa.delete(User).where(User.id == people["other_agent"].user_id))
    session.commit()
    (read,) = notes.contact_notes(session, workspace_id, contact_id, people["agent"])
    assert (read.body, read.author, read.can_change) == ("Left behind", "A deleted user", False)
    assert notes.contact_notes(session, workspace_id, contact_id, people["admin"])[0].can_change


def test_the_latest_note_column_shows_the_newest_on_one_short_line(
    session, workspace_id, people, contact_id
):
    quiet = Contact(workspace_id=workspace_id, name="Quiet Person")
    session.add(quiet)
    session.commit()
    agent = people["agent"]
    notes.add_note(session, workspace_id, agent, contact_id, "Old news", now=T0)
    long_text = "Called twice\nabout the invoice " + "and more " * 20
    notes.add_note(session, workspace_id, agent, contact_id, long_text, now=T0 + timedelta(hours=1))
    session.commit()
    rows = {row.name: row for row in list_contacts(session, workspace_id, ContactQuery()).rows}
    latest = rows["Zoe Client"].latest_note
    assert latest.startswith("Called twice about the invoice and more")
    assert latest.endswith("…") and len(latest) == notes.LATEST_NOTE_CHARS
    assert "\n" not in latest
    assert rows["Quiet Person"].latest_note == ""


def test_deleting_a_contact_deletes_its_notes(session, workspace_id, people, contact_id):
    notes.add_note(session, workspace_id, people["agent"], contact_id, "Gone soon")
    session.commit()
    delete_contacts(session, workspace_id, Selection(ids=[contact_id]), actor=people["admin"])
    session.commit()
    assert session.execute(sa.select(sa.func.count()).select_from(ContactNote)).scalar() == 0
