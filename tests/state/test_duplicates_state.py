"""Contacts → Duplicates: the groups, the merge dialog's choices and the merge itself
(handlers called directly)."""

from __future__ import annotations

import sqlalchemy as sa

from cloodot_app.db import session_scope
from cloodot_app.models import Contact, ContactMerge
from cloodot_app.state.duplicates import DuplicatesState
from tests.state.conftest import Tab, drain, run


def twins(workspace: int) -> tuple[int, int]:
    """Two more contacts with one email, from two channels (the workspace's 23 all
    differ; ingestion would have found the first by its email, an import or an edit
    does not)."""
    ids = []
    with session_scope() as session:
        for n, channel in ((1, "instagram"), (2, "facebook")):
            contact = Contact(
                workspace_id=workspace,
                name=f"Twin {n}",
                email="twins@example.com",
                channel=channel,
                external_id=f"twin-{n}",
            )
            session.add(contact)
            session.flush()
            ids.append(contact.id)
    return ids[0], ids[1]


def test_a_manager_merges_a_group_choosing_the_primary_and_a_value(workspace):
    first, second = twins(workspace)
    tab = Tab()
    tab.sign_in(workspace, "manager")
    state = tab.of(DuplicatesState)
    drain(DuplicatesState.load.fn(state))
    assert [(g.kind, g.shared, g.size) for g in state.groups] == [("email", "twins@example.com", 2)]
    run(DuplicatesState.open_merge, state, 0)
    assert state.merge_open is True
    assert state.primary_id == str(first) and state.primary_name == "Twin 1"
    names = next(row for row in state.merge_rows if row.key == "name")
    assert names.differs and [c.shown for c in names.cells] == ["Twin 1", "Twin 2"]

    run(DuplicatesState.set_primary, state, str(second))
    assert state.primary_name == "Twin 2"
    run(DuplicatesState.choose, state, "name", str(first))
    answers = drain(DuplicatesState.confirm_merge.fn(state))
    assert "Merged 2 contacts into Twin 1." in str(answers)
    assert state.merge_open is False
    with session_scope() as session:
        survivor = session.get(Contact, second)
        assert survivor is not None and survivor.name == "Twin 1"
        assert session.get(Contact, first) is None
        alias = session.execute(sa.select(ContactMerge.external_id)).scalar_one()
        assert alias == "twin-1"


def test_an_agent_cannot_see_or_merge_duplicates(workspace):
    twins(workspace)
    tab = Tab()
    tab.sign_in(workspace, "agent")
    state = tab.of(DuplicatesState)
    answers = drain(DuplicatesState.load.fn(state))
    assert "Your role (Agent) cannot merge contacts" in str(answers)
    assert state.groups == []
