"""The details drawer's Notes and Segments sections: writing, editing and deleting notes
as each member may, the table's "Latest note" and the segments following a note, and the
explanation of a segment the contact is in or not (also opened from the Leads board)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cloodot_app.db import session_scope
from cloodot_app.models import AuditEntry, Contact, ContactNote, Segment
from cloodot_app.state.columns import LATEST_NOTE_COLUMN, ColumnsState
from cloodot_app.state.contact_drawer import ContactDrawerState
from cloodot_app.state.contact_notes import ContactNotesState
from cloodot_app.state.contact_segments import ContactSegmentsState
from cloodot_app.state.contacts import ContactsState
from tests.state.conftest import Tab, drain, run


def spec(*conditions, match="all"):
    return {
        "match": match,
        "conditions": [{"field": f, "operator": o, "value": v} for f, o, v in conditions],
    }


@pytest.fixture
def segments(workspace):
    """Two segments: one about notes, one by name."""
    with session_scope() as session:
        refunds = Segment(
            workspace_id=workspace,
            name="Refund talk",
            filter_spec=spec(("notes", "contains", "refund")),
            position=0,
        )
        twos = Segment(
            workspace_id=workspace,
            name="Person 2s",
            filter_spec=spec(("name", "starts_with", "Person 2"), ("channel", "is", "facebook")),
            position=1,
        )
        session.add_all([refunds, twos])
        session.flush()
        return {"refunds": refunds.id, "twos": twos.id}


def contact_named(workspace: int, name: str) -> int:
    with session_scope() as session:
        return session.execute(
            sa.select(Contact.id).where(Contact.workspace_id == workspace, Contact.name == name)
        ).scalar_one()


def open_drawer(tab: Tab, contact_id: int) -> list:
    """Open the drawer as a click does, then run the loads it asks for."""
    table = tab.of(ContactsState)
    run(ContactsState.load, table)
    events = drain(ContactDrawerState.open_contact.fn(tab.of(ContactDrawerState), contact_id))
    run(ContactNotesState.load, tab.of(ContactNotesState), contact_id)
    run(ContactSegmentsState.load, tab.of(ContactSegmentsState), contact_id)
    return events


def notes_in_db(contact_id: int) -> list[str]:
    with session_scope() as session:
        return list(
            session.execute(
                sa.select(ContactNote.body)
                .where(ContactNote.contact_id == contact_id)
                .order_by(ContactNote.id)
            ).scalars()
        )


def test_opening_the_drawer_loads_its_notes_and_segments(workspace, segments):
    tab = Tab()
    tab.sign_in(workspace, "agent")
    contact = contact_named(workspace, "Person 2 Smith")
    events = open_drawer(tab, contact)
    (loads,) = [event for event in events if isinstance(event, list)]
    assert [(spec.handler.fn.__qualname__, spec.args[0][1]._var_value) for spec in loads] == [
        ("ContactNotesState.load", contact),
        ("ContactSegmentsState.load", contact),
    ]


def test_an_agent_writes_a_note_and_the_table_and_segments_follow(workspace, segments):
    tab = Tab()
    tab.sign_in(workspace, "agent")
    contact = contact_named(workspace, "Person 22 Smith")
    open_drawer(tab, contact)
    notes = tab.of(ContactNotesState)
    found = tab.of(ContactSegmentsState)
    assert [s.member for s in found.segments] == [False, True]  # Person 22 is on facebook

    # An empty note is refused next to the box; nothing is written.
    run(ContactNotesState.set_draft, notes, "   ")
    run(ContactNotesState.add, notes)
    assert notes.draft_error == "Write something in the note before saving it."
    assert notes_in_db(contact) == []

    run(ContactNotesState.set_draft, notes, "Asked for a refund of order 7")
    assert notes.draft_error == ""
    run(ContactNotesState.add, notes)
    assert notes.draft == "" and notes.draft_error == ""
    (line,) = notes.notes
    assert (line.body, line.author, line.can_change) == (
        "Asked for a refund of order 7",
        "Agent",
        True,
    )
    # The table's "Latest note" column and the Segments section follow at once.
    row = next(r for r in tab.of(ContactsState).rows if r.id == contact)
    assert row.latest_note == "Asked for a refund of order 7"
    assert [s.member for s in found.segments] == [True, True]
    assert [s.name for s in found.member_of] == ["Refund talk", "Person 2s"]


def test_a_note_is_edited_and_deleted_by_its_author(workspace, segments):
    tab = Tab()
    tab.sign_in(workspace, "agent")
    contact = contact_named(workspace, "Person 3 Smith")
    open_drawer(tab, contact)
    notes = tab.of(ContactNotesState)
    run(ContactNotesState.set_draft, notes, "First try")
    run(ContactNotesState.add, notes)
    note_id = notes.notes[0].id

    run(ContactNotesState.start_edit, notes, note_id)
    assert (notes.editing_id, notes.edit_text) == (note_id, "First try")
    run(ContactNotesState.set_edit_text, notes, "x" * 5001)
    run(ContactNotesState.save_edit, notes)
    assert notes.edit_error == "Keep a note to 5,000 characters (this one has 5,001)."
    assert notes.editing_id == note_id and notes_in_db(contact) == ["First try"]
    run(ContactNotesState.set_edit_text, notes, "Second try")
    run(ContactNotesState.save_edit, notes)
    assert notes.editing_id == 0
    assert notes.notes[0].body == "Second try" and notes.notes[0].edited_at != ""

    run(ContactNotesState.ask_delete, notes, note_id)
    assert notes.delete_id == note_id
    run(ContactNotesState.set_delete_open, notes, False)  # Cancel
    assert notes.delete_id == 0 and notes_in_db(contact) == ["Second try"]
    run(ContactNotesState.ask_delete, notes, note_id)
    run(ContactNotesState.delete, notes)
    assert notes.notes == [] and notes_in_db(contact) == []
    with session_scope() as session:
        actions = session.execute(
            sa.select(AuditEntry.action).where(AuditEntry.workspace_id == workspace)
        ).scalars()
        assert sorted(actions) == [
            "contacts.note_add",
            "contacts.note_delete",
            "contacts.note_edit",
        ]


def test_a_colleagues_note_is_read_only_for_an_agent_and_a_manager(workspace, segments):
    contact = contact_named(workspace, "Person 4 Smith")
    author = Tab()
    author.sign_in(workspace, "agent", email="author@example.com")
    open_drawer(author, contact)
    run(ContactNotesState.set_draft, author.of(ContactNotesState), "Only mine to change")
    run(ContactNotesState.add, author.of(ContactNotesState))
    note_id = author.of(ContactNotesState).notes[0].id

    for role in ("agent", "manager"):
        tab = Tab()
        tab.sign_in(workspace, role)
        open_drawer(tab, contact)
        notes = tab.of(ContactNotesState)
        assert notes.notes[0].can_change is False
        run(ContactNotesState.start_edit, notes, note_id)
        assert notes.editing_id == 0
        # A crafted save or delete is refused by the service: nothing changes.
        notes.editing_id, notes.edit_text = note_id, "Overwritten"
        refused = run(ContactNotesState.save_edit, notes)
        assert "Only the note's author or an admin can edit it." in str(refused)
        notes.delete_id = note_id
        refused = run(ContactNotesState.delete, notes)
        assert "Only the note's author or an admin can delete it." in str(refused)
        assert notes_in_db(contact) == ["Only mine to change"]

    admin = Tab()
    admin.sign_in(workspace, "admin")
    open_drawer(admin, contact)
    notes = admin.of(ContactNotesState)
    assert notes.notes[0].can_change is True
    run(ContactNotesState.start_edit, notes, note_id)
    run(ContactNotesState.set_edit_text, notes, "Corrected by an admin")
    run(ContactNotesState.save_edit, notes)
    assert notes_in_db(contact) == ["Corrected by an admin"]
    assert notes.notes[0].author == "Agent"  # still the author's note


def test_the_latest_note_column_is_in_the_column_chooser(tab, workspace):
    columns = tab.of(ColumnsState)
    assert columns.show_latest_note is False
    run(ColumnsState.toggle_column, columns, LATEST_NOTE_COLUMN, True)
    assert columns.show_latest_note is True
    run(ColumnsState.toggle_column, columns, LATEST_NOTE_COLUMN, False)
    assert columns.show_latest_note is False


def test_the_segments_section_explains_in_and_not_in(workspace, segments):
    tab = Tab()
    tab.sign_in(workspace, "agent")
    contact = contact_named(workspace, "Person 2 Smith")
    open_drawer(tab, contact)
    found = tab.of(ContactSegmentsState)
    # The first segment it is in is explained at once.
    assert found.chosen_id == segments["twos"]
    explanation = found.explanation
    assert explanation.member is True and explanation.match == "all"
    assert [(c.words, c.holds, c.value) for c in explanation.checks] == [
        ("Name starts with Person 2", True, "Person 2 Smith"),
        ("Channel is facebook", True, "facebook"),
    ]
    # One it is not in: which condition fails, and what the contact has instead.
    run(ContactSegmentsState.choose, found, str(segments["refunds"]))
    assert found.chosen_value == str(segments["refunds"])
    assert found.explanation.member is False
    assert [(c.words, c.holds, c.value) for c in found.explanation.checks] == [
        ("Notes contain refund", False, "no notes"),
    ]
    # Ids that are not this workspace's segments are ignored.
    for crafted in ("0", "abc", "99999999", str(2**70)):
        run(ContactSegmentsState.choose, found, crafted)
        assert found.chosen_id == segments["refunds"]


def test_the_leads_cards_menu_opens_the_drawer_on_that_segment(workspace, segments):
    tab = Tab()
    tab.sign_in(workspace, "agent")
    contact = contact_named(workspace, "Person 6 Smith")
    found = tab.of(ContactSegmentsState)
    opened = run(ContactSegmentsState.explain_from_board, found, contact, segments["refunds"])
    assert "open_contact" in str(opened)
    run(ContactSegmentsState.load, found, contact)
    assert found.chosen_id == segments["refunds"]
    assert found.explanation.name == "Refund talk" and found.explanation.member is False
    # The next opening of the drawer (not from the board) explains the first segment the
    # contact is in: it is in none, so none is chosen.
    run(ContactSegmentsState.load, found, contact)
    assert found.chosen_id == 0 and found.explanation.segment_id == 0
    assert found.member_of == []
