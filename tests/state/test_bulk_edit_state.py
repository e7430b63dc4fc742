"""Bulk edit from the selection bar: the dialog's frozen selection and counts, the run
with its progress and Undo toast, and Undo itself (handlers called directly)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cloodot_app.db import session_scope
from cloodot_app.models import Contact, ContactLabel, CustomFieldDefinition, Label
from cloodot_app.services.ingestion import IncomingMessage, ingest_message
from cloodot_app.state.bulk_edit import BulkEditState
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.selection import SelectionState
from tests.state.conftest import Tab, drain, run


@pytest.fixture
def state(tab, workspace):
    with session_scope() as session:
        session.add(Label(workspace_id=workspace, name="VIP", color="amber"))
        session.add(
            CustomFieldDefinition(
                workspace_id=workspace,
                entity="contact",
                key="plan",
                label="Plan",
                type="select",
                options=["Free", "Pro"],
            )
        )
    contacts = tab.of(ContactsState)
    run(ContactsState.load, contacts)
    return tab.of(BulkEditState)


def vip_id(workspace: int) -> int:
    with session_scope() as session:
        return session.execute(
            sa.select(Label.id).where(Label.workspace_id == workspace, Label.name == "VIP")
        ).scalar_one()


def labelled(label_id: int) -> int:
    with session_scope() as session:
        return session.execute(
            sa.select(sa.func.count()).where(ContactLabel.label_id == label_id)
        ).scalar_one()


def test_all_that_match_counts_then_adds_the_label_with_progress_and_undo(state, workspace):
    run(SelectionState.toggle_page, state, True)
    run(SelectionState.select_all_matching, state)
    run(BulkEditState.open_bulk_edit, state, "add_label")
    assert state.bulk_open is True
    assert state.bulk_selected == 23
    assert [label.name for label in state.bulk_labels] == ["VIP"]
    assert state.bulk_to_change == 0  # nothing chosen yet: nothing to apply

    vip = vip_id(workspace)
    run(BulkEditState.set_bulk_label, state, str(vip))
    assert (state.bulk_words, state.bulk_already, state.bulk_to_change) == (
        "Add the label “VIP”",
        0,
        23,
    )
    # A contact arriving while the dialog is open is not part of "all 23".
    with session_scope() as session:
        ingest_message(
            session, workspace, "whatsapp", IncomingMessage(external_id="late", text="hi")
        )

    assert run(BulkEditState.apply_bulk_edit, state) == BulkEditState.run_bulk_edit
    assert state.bulk_running is True
    toasts = drain(BulkEditState.run_bulk_edit.fn(state))
    assert labelled(vip) == 23
    assert state.bulk_running is False and state.bulk_open is False
    assert state.selected_count == 0
    assert state.bulk_done == 23  # the progress reached the end
    toast = str(toasts[-1])
    assert "Added the label “VIP” to 23 contacts." in toast
    assert "Undo" in toast and "10 minutes" in toast

    # Undo, as the toast's button calls it.
    with session_scope() as session:
        from cloodot_app.models import BulkEdit

        edit_id = session.execute(sa.select(BulkEdit.id)).scalar_one()
    answer = run(BulkEditState.undo_bulk_edit, state, edit_id)
    assert "Undone: 23 contacts put back." in str(answer)
    assert labelled(vip) == 0


def test_set_field_refuses_what_the_inline_editor_refuses(state, workspace):
    first = state.rows[0].id
    run(SelectionState.toggle_row, state, first, True)
    run(BulkEditState.open_bulk_edit, state, "set_field")
    assert [f.key for f in state.bulk_fields] == ["plan"]
    run(BulkEditState.set_bulk_field, state, "plan")
    run(BulkEditState.set_bulk_value, state, "Enterprise")
    assert "not one of" in state.bulk_error
    assert state.bulk_to_change == 0
    assert run(BulkEditState.apply_bulk_edit, state) is None

    run(BulkEditState.set_bulk_value, state, "Pro")
    assert state.bulk_error == ""
    assert (state.bulk_selected, state.bulk_to_change) == (1, 1)
    run(BulkEditState.apply_bulk_edit, state)
    drain(BulkEditState.run_bulk_edit.fn(state))
    with session_scope() as session:
        stored = session.execute(
            sa.select(Contact.custom_fields).where(Contact.id == first)
        ).scalar_one()
    assert stored == {"plan": "Pro"}


def test_opt_in_counts_those_already_on(state, workspace):
    run(SelectionState.toggle_page, state, True)
    run(BulkEditState.open_bulk_edit, state, "set_opt_in")
    assert state.bulk_value == "on"
    assert (state.bulk_selected, state.bulk_already, state.bulk_to_change) == (10, 0, 10)
    run(BulkEditState.set_bulk_value, state, "off")
    assert (state.bulk_already, state.bulk_to_change) == (10, 0)
    assert state.bulk_already_words == "already have it off"


def test_an_agent_cannot_open_the_bulk_edit(workspace):
    tab = Tab()
    tab.sign_in(workspace, "agent")
    state = tab.of(BulkEditState)
    run(ContactsState.load, tab.of(ContactsState))
    run(SelectionState.toggle_page, state, True)
    answer = run(BulkEditState.open_bulk_edit, state, "add_label")
    assert "Your role (Agent) cannot edit contacts in bulk" in str(answer)
    assert state.bulk_open is False
