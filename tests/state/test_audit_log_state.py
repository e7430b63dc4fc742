"""The Audit log page's state, and what the contacts states write to the log and the
consent history as the signed-in member (the drawer, the table's switch, bulk delete)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cloodot_app.db import session_scope
from cloodot_app.models import AuditEntry, ConsentChange
from cloodot_app.services import audit
from cloodot_app.state.audit_log import ANY, PAGE_SIZE, AuditLogState
from cloodot_app.state.contact_drawer import ContactDrawerState
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.inline_edit import InlineEditState
from cloodot_app.state.selection import SelectionState
from tests.state.conftest import Tab, drain, run

# Tuesday 10 November 2026, 23:30 in Madrid (22:30 UTC): still the 10th there.
LATE_EVENING = datetime(2026, 11, 10, 22, 30, tzinfo=UTC)


def log(workspace_id: int) -> list[tuple[str, int | None, str]]:
    with session_scope() as session:
        rows, _ = audit.list_entries(session, workspace_id, page_size=200)
        return [(row.action, row.actor_user_id, row.summary) for row in rows]


@pytest.fixture
def admin(workspace):
    tab = Tab()
    user_id = tab.sign_in(workspace, "admin", email="ada@example.com")
    return tab, user_id


def test_the_drawers_opt_in_switch_writes_the_consent_history_it_shows(workspace, admin):
    tab, user_id = admin
    table = tab.of(ContactsState)
    run(ContactsState.load, table)
    drawer = tab.of(ContactDrawerState)
    row = table.rows[0]
    drain(ContactDrawerState.open_contact.fn(drawer, row.id))
    assert drawer.contact.consent == []
    run(ContactDrawerState.set_opt_in, drawer, True)
    assert drawer.contact.campaign_opt_in is True
    (line,) = drawer.contact.consent
    assert (line.opted_in, line.was, line.by, line.source) == (True, "off", "Admin", "agent")
    assert log(workspace) == [
        ("contacts.opt_in", user_id, f"Turned campaign opt-in on for {row.name} (was off)")
    ]


def test_the_tables_opt_in_switch_is_the_members_change(workspace, admin):
    tab, user_id = admin
    editor = tab.of(InlineEditState)
    run(ContactsState.load, tab.of(ContactsState))
    row = editor.rows[0]
    run(InlineEditState.set_opt_in, editor, row.id, True)
    with session_scope() as session:
        change = session.execute(sa.select(ConsentChange)).scalar_one()
        assert (change.contact_id, change.old_value, change.new_value) == (row.id, False, True)
        assert (change.source, change.actor_user_id) == ("agent", user_id)


def test_an_opt_in_change_of_a_contact_that_is_gone_records_nothing(workspace):
    tab = Tab()
    tab.sign_in(workspace, "agent")
    drawer = tab.of(ContactDrawerState)
    drawer.contact_id = 10_000  # gone
    run(ContactDrawerState.set_opt_in, drawer, True)
    with session_scope() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar() == 0


def test_bulk_delete_is_logged_as_the_member_who_confirmed(workspace, admin):
    tab, user_id = admin
    selection = tab.of(SelectionState)
    run(ContactsState.load, tab.of(ContactsState))
    ids = sorted(row.id for row in selection.rows[:2])
    for contact_id in ids:
        run(SelectionState.toggle_row, selection, contact_id, True)
    run(SelectionState.open_delete, selection)
    drain(SelectionState.confirm_delete.fn(selection))
    assert log(workspace) == [
        ("contacts.delete", user_id, f"Deleted 2 contacts — selected rows (ids {ids[0]}, {ids[1]})")
    ]


# --------------------------------------------------------------------------- the page


@pytest.fixture
def entries(workspace, admin):
    """30 entries, one a day from 1 November 2026 (late evening, Madrid time); the 10th's
    is an export, the others member invitations."""
    _, user_id = admin
    with session_scope() as session:
        for day in range(30):
            at = LATE_EVENING + timedelta(days=day - 9)
            action = "contacts.export" if day == 9 else "members.invite"
            audit.record(
                session,
                workspace,
                None,
                action,
                f"day {day + 1}",
                actor_kind="user",
                actor_user_id=user_id,
                now=at,
            )
    return user_id


@pytest.fixture
def page(admin, entries) -> AuditLogState:
    tab, _ = admin
    state = tab.of(AuditLogState)
    run(AuditLogState.load, state)
    return state


def test_the_log_lists_newest_first_a_page_at_a_time(page, entries):
    assert page.total == 30 and page.page_count == 2
    assert [line.summary for line in page.entries[:2]] == ["day 30", "day 29"]
    assert len(page.entries) == PAGE_SIZE
    assert page.range_label == f"1–{PAGE_SIZE} of 30 entries"
    first = page.entries[0]
    assert (first.who, first.who_email, first.action_words) == (
        "Admin",
        "ada@example.com",
        "Invited a member",
    )
    run(AuditLogState.next_page, page)
    assert page.page == 2 and [line.summary for line in page.entries][-1] == "day 1"
    run(AuditLogState.next_page, page)
    assert page.page == 2
    run(AuditLogState.previous_page, page)
    assert page.page == 1


def test_the_filters_offer_what_the_log_holds(page, entries):
    assert [(c.value, c.label) for c in page.actions] == [
        ("contacts.export", "Exported contacts"),
        ("members.invite", "Invited a member"),
    ]
    assert [(c.value, c.label) for c in page.actors] == [(str(entries), "Admin")]


def test_filter_by_action_and_member(page, entries, workspace):
    run(AuditLogState.set_action, page, "contacts.export")
    assert [line.summary for line in page.entries] == ["day 10"] and page.filtered
    run(AuditLogState.set_actor, page, str(entries + 1))
    assert page.entries == [] and page.total == 0 and page.range_label == "No entries"
    run(AuditLogState.clear_filters, page)
    assert page.total == 30 and not page.filtered
    run(AuditLogState.set_actor, page, str(entries))
    assert page.total == 30


def test_dates_are_whole_days_in_the_viewers_time_zone(page):
    run(AuditLogState.set_time_zone, page, "Europe/Madrid")
    run(AuditLogState.set_date_from, page, "2026-11-10")
    run(AuditLogState.set_date_to, page, "2026-11-11")
    assert [line.summary for line in page.entries] == ["day 11", "day 10"]
    # 22:30 UTC: the same days in UTC.
    run(AuditLogState.set_time_zone, page, "UTC")
    assert [line.summary for line in page.entries] == ["day 11", "day 10"]
    run(AuditLogState.set_time_zone, page, "Asia/Tokyo")  # 07:30 the next morning there
    assert [line.summary for line in page.entries] == ["day 10", "day 9"]


def test_unreadable_or_reversed_dates_are_explained(page):
    run(AuditLogState.set_time_zone, page, "Not/AZone")
    run(AuditLogState.set_date_from, page, "2026-11-12")
    run(AuditLogState.set_date_to, page, "2026-11-10")
    assert page.error == "The “From” date is after the “To” date." and page.entries == []
    run(AuditLogState.set_date_to, page, "soon")
    assert page.error == "Enter the dates as shown by the date picker."
    run(AuditLogState.set_date_to, page, "")
    assert page.error == "" and page.total == 30 - 11


def test_the_empty_log(workspace, admin):
    tab, _ = admin
    state = tab.of(AuditLogState)
    run(AuditLogState.load, state)
    assert (state.entries, state.total, state.loading, state.action) == ([], 0, False, ANY)
