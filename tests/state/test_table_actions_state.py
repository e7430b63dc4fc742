"""ContactsState's mixins (selection, bulk delete, inline editing, columns) and the
filter drawer, details drawer, export dialog and Live mode states."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from cloodot_app.db import session_scope
from cloodot_app.models import Contact, CustomFieldDefinition, Label
from cloodot_app.state.columns import ColumnsState
from cloodot_app.state.contact_drawer import ContactDrawerState
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.export import ExportState
from cloodot_app.state.filter_drawer import FilterDrawerState
from cloodot_app.state.inline_edit import InlineEditState
from cloodot_app.state.selection import SelectionState
from tests.state.conftest import drain, run


@pytest.fixture
def state(tab):
    state = tab.of(ContactsState)
    run(ContactsState.load, state)
    return state


@pytest.fixture
def selection(tab, state):
    return tab.of(SelectionState)


@pytest.fixture
def editor(tab, state):
    return tab.of(InlineEditState)


@pytest.fixture
def columns(tab, state):
    return tab.of(ColumnsState)


@pytest.fixture
def plan_field(workspace):
    with session_scope() as session:
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
        label = Label(workspace_id=workspace, name="VIP", color="amber")
        session.add(label)
        session.flush()
        return label.id


def stored(contact_id: int, column):
    with session_scope() as session:
        return session.execute(sa.select(column).where(Contact.id == contact_id)).scalar_one()


def test_selecting_rows_and_the_whole_page(selection):
    state = selection
    first = state.rows[0].id
    run(SelectionState.toggle_row, state, first, True)
    assert state.selected_ids == [first]
    assert state.selected_count == 1
    run(SelectionState.toggle_page, state, True)
    assert state.page_selected is True
    assert state.selected_count == 10
    run(SelectionState.select_all_matching, state)
    assert state.selected_count == 23
    run(SelectionState.toggle_row, state, first, False)
    assert state.all_matching is False
    assert first not in state.selected_ids
    run(SelectionState.clear_selection, state)
    assert state.selected_count == 0


def test_delete_preview_counts_then_deletes_every_match(selection):
    state = selection
    run(SelectionState.set_search, state, "Person 1")
    run(SelectionState.load, state)
    run(SelectionState.toggle_page, state, True)
    run(SelectionState.select_all_matching, state)
    run(SelectionState.open_delete, state)
    assert state.delete_open is True
    # "Person 1", "Person 10" … "Person 19": eleven contacts, all with conversations.
    assert (state.delete_count, state.delete_with_conversations) == (11, 11)
    assert state.delete_without_conversations == 0
    drain(SelectionState.confirm_delete.fn(state))
    assert state.delete_open is False
    assert state.selected_ids == []
    run(SelectionState.clear_filters, state)
    run(SelectionState.load, state)
    assert state.total == 12


def test_cancelled_delete_deletes_nothing(selection):
    state = selection
    run(SelectionState.toggle_row, state, state.rows[0].id, True)
    run(SelectionState.open_delete, state)
    run(SelectionState.set_delete_open, state, False)
    assert state.delete_open is False
    run(SelectionState.load, state)
    assert state.total == 23


def test_inline_edit_rejects_a_bad_email_and_keeps_the_editor(editor):
    state = editor
    row = state.rows[0]
    run(InlineEditState.start_edit, state, row.id, "email", row.email)
    run(InlineEditState.set_edit_value, state, "not an email")
    run(InlineEditState.save_edit, state)
    assert state.editing_cell == f"{row.id}:email"
    assert "not a valid email" in state.edit_error
    assert stored(row.id, Contact.email) == row.email
    run(InlineEditState.cancel_edit, state)
    assert (state.editing_cell, state.edit_error) == ("", "")


def test_inline_edit_saves_a_phone_in_e164_and_refreshes_the_row(editor):
    state = editor
    row = state.rows[0]
    run(InlineEditState.start_edit, state, row.id, "phone", row.phone)
    run(InlineEditState.set_edit_value, state, "+44 (20) 7946 0999")
    run(InlineEditState.save_edit, state)
    assert state.editing_cell == ""
    assert stored(row.id, Contact.phone) == "+442079460999"
    assert next(r for r in state.rows if r.id == row.id).phone == "+442079460999"


def test_enter_saves_and_escape_cancels(editor):
    state = editor
    assert run(InlineEditState.on_edit_key, state, "Enter") == InlineEditState.save_edit
    assert run(InlineEditState.on_edit_key, state, "Escape") == InlineEditState.cancel_edit
    assert run(InlineEditState.on_edit_key, state, "a") is None


def test_select_editor_and_an_unknown_option(editor, plan_field):
    state = editor
    row = state.rows[0]
    run(InlineEditState.save_value, state, row.id, "cf.plan", "Pro", "")
    assert stored(row.id, Contact.custom_fields) == {"plan": "Pro"}
    run(InlineEditState.save_value, state, row.id, "cf.plan", "Gold", "Pro")
    assert stored(row.id, Contact.custom_fields) == {"plan": "Pro"}


def test_column_choice_is_kept_as_json(columns, plan_field):
    state = columns
    run(ColumnsState.load_columns, state)
    assert state.visible_ids == ["contact:plan"]  # default: the first contact fields
    run(ColumnsState.toggle_column, state, "contact:plan", False)
    assert json.loads(state.visible_columns_json) == []
    assert state.visible_columns == []
    run(ColumnsState.toggle_column, state, "contact:plan", True)
    assert [c.key for c in state.visible_columns] == ["plan"]


def test_filter_drawer_applies_only_a_valid_spec(tab):
    drawer = tab.of(FilterDrawerState)
    run(FilterDrawerState.open_with, drawer, {})
    assert drawer.is_open is True
    assert drawer.drafts[0].field == "name"
    assert run(FilterDrawerState.apply, drawer) is None
    assert drawer.error.startswith("Condition 1:")
    run(FilterDrawerState.set_value, drawer, 0, "Person 2")
    run(FilterDrawerState.add_condition, drawer)
    run(FilterDrawerState.set_field, drawer, 1, "campaign_opt_in")
    assert drawer.drafts[1].input_kind == "boolean"
    run(FilterDrawerState.set_match, drawer, "any")
    event = run(FilterDrawerState.apply, drawer)
    assert drawer.is_open is False and drawer.error == ""
    spec = event.args[0][1]._var_value
    assert spec == {
        "match": "any",
        "conditions": [
            {"field": "name", "operator": "contains", "value": "Person 2"},
            {"field": "campaign_opt_in", "operator": "is", "value": True},
        ],
    }


def test_filter_drawer_operator_change_keeps_a_compatible_value(tab):
    drawer = tab.of(FilterDrawerState)
    run(FilterDrawerState.open_with, drawer, {})
    run(FilterDrawerState.set_value, drawer, 0, "abc")
    run(FilterDrawerState.set_operator, drawer, 0, "starts_with")
    assert drawer.drafts[0].value == "abc"
    run(FilterDrawerState.set_operator, drawer, 0, "is_empty")
    assert drawer.drafts[0].input_kind == "none"
    run(FilterDrawerState.remove_condition, drawer, 0)
    assert drawer.drafts == []


def test_details_drawer_edits_a_field_and_labels(tab, state, plan_field):
    drawer = tab.of(ContactDrawerState)
    contact_id = state.rows[0].id
    drain(ContactDrawerState.open_contact.fn(drawer, contact_id))
    assert drawer.is_open and drawer.contact.name == state.rows[0].name
    assert len(drawer.contact.conversations) == 1
    email = next(i for i, f in enumerate(drawer.fields) if f.key == "email")
    run(ContactDrawerState.set_field_value, drawer, email, "broken@")
    run(ContactDrawerState.save_field, drawer, email)
    assert drawer.fields[email].error
    assert stored(contact_id, Contact.email) == state.rows[0].email
    run(ContactDrawerState.add_label, drawer, str(plan_field))
    assert [label.name for label in drawer.contact.labels] == ["VIP"]
    run(ContactDrawerState.remove_label, drawer, plan_field)
    assert drawer.contact.labels == []


def test_export_dialog_refuses_bad_numbers_and_hands_out_a_ticket(tab, state):
    export = tab.of(ExportState)
    run(ExportState.open_dialog, export)
    assert (export.limit, export.matching) == ("23", 23)
    run(ExportState.set_limit, export, "many")
    run(ExportState.confirm, export)
    assert "whole number" in export.error
    run(ExportState.set_limit, export, "0")
    run(ExportState.confirm, export)
    assert export.error
    run(ExportState.set_limit, export, "5")
    events = run(ExportState.confirm, export)
    assert export.error == "" and export.is_open is False
    assert "ticket=" in str(events[0])


def test_inline_edit_of_a_value_changed_meanwhile_asks_keep_theirs_or_use_mine(editor):
    state = editor
    row = state.rows[0]
    run(InlineEditState.start_edit, state, row.id, "name", row.name)
    # A colleague renames the contact while this cell's editor is open.
    with session_scope() as session:
        contact = session.get(Contact, row.id)
        contact.name = "Renamed Elsewhere"
    run(InlineEditState.set_edit_value, state, "Mine")
    run(InlineEditState.save_edit, state)
    assert "Changed by someone else since you opened it: “Renamed Elsewhere”" in (
        state.conflict_message
    )
    assert stored(row.id, Contact.name) == "Renamed Elsewhere"
    run(InlineEditState.use_mine, state)
    assert state.conflict_message == ""
    assert stored(row.id, Contact.name) == "Mine"
    assert next(r for r in state.rows if r.id == row.id).name == "Mine"


def test_keep_theirs_saves_nothing_and_shows_their_value(editor):
    state = editor
    row = state.rows[0]
    with session_scope() as session:
        session.get(Contact, row.id).campaign_opt_in = not row.campaign_opt_in
    run(InlineEditState.set_opt_in, state, row.id, not row.campaign_opt_in)
    assert state.conflict_message.startswith("Changed by someone else")
    run(InlineEditState.keep_theirs, state)
    assert state.conflict_message == ""
    refreshed = next(r for r in state.rows if r.id == row.id)
    assert refreshed.campaign_opt_in is (not row.campaign_opt_in)


def test_details_drawer_asks_before_overwriting_a_colleagues_change(tab, state):
    drawer = tab.of(ContactDrawerState)
    contact_id = state.rows[0].id
    drain(ContactDrawerState.open_contact.fn(drawer, contact_id))
    email = next(i for i, f in enumerate(drawer.fields) if f.key == "email")
    with session_scope() as session:
        session.get(Contact, contact_id).email = "theirs@example.com"
    run(ContactDrawerState.set_field_value, drawer, email, "mine@example.com")
    run(ContactDrawerState.save_field, drawer, email)
    assert "“theirs@example.com”" in drawer.conflict_message
    assert stored(contact_id, Contact.email) == "theirs@example.com"
    run(ContactDrawerState.keep_theirs, drawer)
    assert drawer.fields[email].value == "theirs@example.com"
    # The table behind the drawer shows their value too.
    assert next(r for r in state.rows if r.id == contact_id).email == "theirs@example.com"
