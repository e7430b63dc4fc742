"""ContactsState: each event handler changes the view and loads the right page."""

from __future__ import annotations

import pytest

from cloodot_app.state.contacts import ContactsState, _page_items, view_from_query
from cloodot_app.state.inline_edit import InlineEditState
from tests.state.conftest import run


@pytest.fixture
def state(tab):
    state = tab.of(ContactsState)
    run(ContactsState.load, state)
    return state


def test_load_fills_one_page_and_the_total(state):
    assert state.total == 23
    assert len(state.rows) == 10
    assert state.page_count == 3
    assert state.loading is False
    assert state.range_label == "1–10 of 23 contacts"


def test_search_resets_to_page_one_and_narrows(state):
    run(ContactsState.go_to_page, state, 3)
    assert state.page == 3
    assert run(ContactsState.set_search, state, "Person 2") is not None
    assert state.page == 1
    run(ContactsState.load, state)
    assert {row.name for row in state.rows} == {
        "Person 2 Smith",
        "Person 20 Smith",
        "Person 21 Smith",
        "Person 22 Smith",
    }


def test_sort_by_toggles_direction_on_the_same_column(state):
    run(ContactsState.sort_by, state, "name")
    run(ContactsState.load, state)
    assert state.rows[0].name == "Person 0 Smith"
    assert state.descending is False
    run(ContactsState.sort_by, state, "name")
    run(ContactsState.load, state)
    assert state.rows[0].name == "Person 9 Smith"


def test_sort_by_an_unknown_column_is_ignored(state):
    run(ContactsState.sort_by, state, "password")
    assert state.sort == "created_at"


def test_paging_and_page_size(state):
    run(ContactsState.next_page, state)
    run(ContactsState.go_to_page, state, 2)
    run(ContactsState.load, state)
    assert state.range_label == "11–20 of 23 contacts"
    run(ContactsState.go_to_page, state, 99)
    assert state.page == 3
    run(ContactsState.set_page_size, state, "25")
    run(ContactsState.load, state)
    assert (state.page, state.page_size, len(state.rows)) == (1, 25, 23)
    run(ContactsState.set_page_size, state, "7")
    assert state.page_size == 10


def test_opt_in_switch_saves_and_updates_the_row(tab, state, workspace):
    from tests.state.conftest import Tab

    contact_id = state.rows[0].id
    run(InlineEditState.set_opt_in, tab.of(InlineEditState), contact_id, True)
    assert state.rows[0].campaign_opt_in is True
    other_tab = Tab()
    other_tab.sign_in(workspace, "agent")
    fresh = other_tab.of(ContactsState)
    run(ContactsState.load, fresh)
    assert next(r for r in fresh.rows if r.id == contact_id).campaign_opt_in is True


def test_opt_in_for_a_missing_contact_changes_nothing(tab, state):
    before = [row.campaign_opt_in for row in state.rows]
    run(InlineEditState.set_opt_in, tab.of(InlineEditState), 999999, True)
    assert [row.campaign_opt_in for row in state.rows] == before


@pytest.mark.parametrize(
    ("page", "count", "expected"),
    [
        (1, 1, ["1"]),
        (3, 7, ["1", "2", "3", "4", "5", "6", "7"]),
        (1, 20, ["1", "2", "…", "19", "20"]),
        (10, 20, ["1", "2", "…", "9", "10", "11", "…", "19", "20"]),
        (20, 20, ["1", "2", "…", "19", "20"]),
    ],
)
def test_page_numbers_use_ellipses_for_long_ranges(page, count, expected):
    assert _page_items(page, count) == expected


HOSTILE_LINKS = [
    ({"segment": str(2**70)}, "segment"),
    ({"segment": "2**70"}, "segment"),
    ({"segment": "-3"}, "segment"),
    ({"f": "[" * 5000 + "]" * 5000}, "filters"),
    ({"f": '{"match": "all", "conditions": [' + ",".join(["{}"] * 10) + "]}"}, "filters"),
    ({"f": "x" * 50_000}, "filters"),
    ({"f": "not json"}, "filters"),
    ({"segment": "abc", "f": "{"}, "segment and filters"),
]


@pytest.mark.parametrize(("params", "named"), HOSTILE_LINKS, ids=[str(i) for i in range(8)])
def test_a_link_with_unusable_parts_still_shows_the_table_and_says_so(params, named):
    view = view_from_query(params)
    assert view.segment_id == 0
    assert view.filter_spec == {"match": "all", "conditions": []}
    assert f"This link's {named} could not be read" in view.problem


def test_a_link_with_odd_paging_and_search_is_tamed():
    view = view_from_query(
        {"q": "ab\x00c" + "x" * 500, "page": str(2**80), "size": "1000", "sort": "-password"}
    )
    assert view.search.startswith("abc") and len(view.search) == 200
    assert (view.page, view.page_size, view.sort, view.descending) == (1, 10, "created_at", True)
    assert view.problem == ""


def test_loading_a_hostile_link_ends_with_rows_not_a_stuck_table(tab):
    state = tab.of(ContactsState)
    view = view_from_query({"segment": str(2**70), "f": "[" * 5000})
    state.segment_id, state.filter_spec = view.segment_id, view.filter_spec
    run(ContactsState.load, state)
    assert state.loading is False
    assert state.total == 23


def test_sign_out_everywhere_ends_every_session_of_the_member(workspace):
    from cloodot_app.state.session import SessionState
    from tests.state.conftest import Tab

    laptop, phone = Tab(), Tab()
    laptop.sign_in(workspace, "agent")
    phone.sign_in(workspace, "agent")
    run(SessionState.load, phone.of(SessionState))
    assert phone.of(SessionState).signed_in
    run(SessionState.sign_out_everywhere, laptop.of(SessionState))
    # The phone's next event is refused: it goes to the sign-in page.
    refused = run(ContactsState.load, phone.of(ContactsState))
    assert "/signin?next=" in str(refused)


def test_a_member_of_two_workspaces_switches_between_them(workspace):
    from cloodot_app.db import session_scope
    from cloodot_app.services import accounts
    from cloodot_app.services.workspaces import ensure_workspace
    from cloodot_app.state.session import SessionState
    from tests.state.conftest import Tab

    tab = Tab()
    user_id = tab.sign_in(workspace, "manager")
    with session_scope() as session:
        other = ensure_workspace(session, "globex", "Globex").id
        accounts.add_member(session, other, user_id, "agent")
    session_state = tab.of(SessionState)
    run(SessionState.load, session_state)
    assert [w.name for w in session_state.workspaces] == ["Demo", "Globex"]
    contacts = tab.of(ContactsState)
    run(ContactsState.load, contacts)
    assert contacts.total == 23
    run(SessionState.switch_workspace, session_state, str(other))
    run(SessionState.load, session_state)
    assert (session_state.workspace_name, session_state.role) == ("Globex", "agent")
    run(ContactsState.load, contacts)
    assert contacts.total == 0
    # Not a workspace of theirs: refused, nothing switched.
    run(SessionState.switch_workspace, session_state, "999999")
    run(SessionState.load, session_state)
    assert session_state.workspace_name == "Globex"


@pytest.fixture
def cap_of_twelve(monkeypatch):
    from cloodot_app.services import contacts as contacts_service
    from cloodot_app.services import count_cache

    count_cache.clear()
    monkeypatch.setattr(contacts_service, "COUNT_CAP", 12)


def test_a_total_over_the_cap_shows_as_at_least_and_is_counted_after(tab, cap_of_twelve):
    state = tab.of(ContactsState)
    events = run(ContactsState.load, state)
    assert (state.total, state.total_exact) == (12, False)
    assert state.total_words == "12+"
    assert state.range_label == "1–10 of 12+ contacts (counting all…)"
    assert len(state.rows) == 10
    assert state.page_items == ["1", "2", "…"]
    assert any("count_exactly" in str(event) for event in events)
    run(ContactsState.count_exactly, state)
    assert (state.total, state.total_exact, state.page_count) == (23, True, 3)
    assert state.range_label == "1–10 of 23 contacts"
    assert state.page_items == ["1", "2", "3"]
    # Counted once: the same view loads with its exact total from the count cache.
    run(ContactsState.load, state)
    assert (state.total, state.total_exact) == (23, True)


def test_a_total_under_the_cap_is_exact_at_once(tab, cap_of_twelve):
    state = tab.of(ContactsState)
    run(ContactsState.set_search, state, "Person 2")
    run(ContactsState.load, state)
    assert (state.total, state.total_exact) == (4, True)
    assert state.range_label == "1–4 of 4 contacts"


def test_the_exact_count_is_dropped_when_the_view_changed_meanwhile(
    tab, cap_of_twelve, monkeypatch
):
    import cloodot_app.state.contacts as contacts_state

    state = tab.of(ContactsState)
    run(ContactsState.load, state)
    assert state.total_exact is False
    real = contacts_state.in_workspace

    async def typed_while_counting(service, *args, **kwargs):
        state.search = "Person 2"  # that count is not this view's any more
        return await real(service, *args, **kwargs)

    monkeypatch.setattr(contacts_state, "in_workspace", typed_while_counting)
    run(ContactsState.count_exactly, state)
    assert (state.total, state.total_exact) == (12, False)
