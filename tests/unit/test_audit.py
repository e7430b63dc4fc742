"""The audit log (append-only, filtered, paged) and the consent (opt-in) history."""

from __future__ import annotations

import ast
import inspect
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cloodot_app.access import Role
from cloodot_app.errors import NotFound
from cloodot_app.models import AuditEntry, ConsentChange, Contact, utcnow
from cloodot_app.services import audit
from tests.unit.accounts_helpers import isolate_accounts, make_member, sign_in_as


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    isolate_accounts(monkeypatch)


@pytest.fixture
def ada(session, workspace_id):
    """Ada, admin of Acme, signed in: her Identity."""
    user = make_member(session, workspace_id, "ada@acme.example", Role.ADMIN, name="Ada")
    return sign_in_as(session, user, workspace_id)[1]


def add_contact(session, workspace_id, name="Zoe", opt_in=False) -> int:
    contact = Contact(workspace_id=workspace_id, name=name, campaign_opt_in=opt_in)
    session.add(contact)
    session.commit()
    return contact.id


def test_an_entry_says_who_did_what_when(session, workspace_id, ada):
    at = utcnow()
    audit.record(
        session,
        workspace_id,
        ada,
        "contacts.export",
        "Exported 120 contacts (segment VIP)",
        {"rows": 120, "segment_id": 4},
        now=at,
    )
    session.commit()
    rows, total = audit.list_entries(session, workspace_id)
    assert total == 1
    row = rows[0]
    assert (row.action, row.summary, row.details) == (
        "contacts.export",
        "Exported 120 contacts (segment VIP)",
        {"rows": 120, "segment_id": 4},
    )
    assert (row.actor_kind, row.actor_user_id, row.actor_name, row.actor_email) == (
        "user",
        ada.user_id,
        "Ada",
        "ada@acme.example",
    )
    assert row.created_at == at


def test_entries_without_a_user_name_what_acted(session, workspace_id):
    audit.record(session, workspace_id, None, "contacts.import", "Imported 3", None, "import")
    audit.record(session, workspace_id, None, "workspace.seed", "Demo data")
    rows, _ = audit.list_entries(session, workspace_id)
    assert {(r.action, r.actor_kind, r.actor_user_id) for r in rows} == {
        ("contacts.import", "import", None),
        ("workspace.seed", "system", None),
    }
    with pytest.raises(ValueError):
        audit.record(session, workspace_id, None, "x.y", "bad kind", actor_kind="robot")


def test_an_actor_from_another_workspace_cannot_be_recorded(
    session, workspace_id, ada, make_workspace
):
    other = make_workspace("globex")
    with pytest.raises(ValueError):
        audit.record(session, other, ada, "contacts.delete", "Deleted 1")


def test_entries_are_listed_newest_first_filtered_and_paged(
    session, workspace_id, ada, make_workspace
):
    start = utcnow() - timedelta(days=10)
    for day in range(10):
        audit.record(
            session,
            workspace_id,
            ada if day % 2 else None,
            "contacts.export" if day % 3 else "members.invite",
            f"day {day}",
            now=start + timedelta(days=day),
        )
    other = make_workspace("globex")
    audit.record(session, other, None, "contacts.export", "elsewhere")
    session.commit()

    rows, total = audit.list_entries(session, workspace_id, page=1, page_size=4)
    assert total == 10
    assert [r.summary for r in rows] == ["day 9", "day 8", "day 7", "day 6"]
    rows, _ = audit.list_entries(session, workspace_id, page=3, page_size=4)
    assert [r.summary for r in rows] == ["day 1", "day 0"]

    rows, total = audit.list_entries(session, workspace_id, action="members.invite")
    assert total == 4 and {r.summary for r in rows} == {"day 0", "day 3", "day 6", "day 9"}
    _, total = audit.list_entries(session, workspace_id, action="contacts")
    assert total == 6
    _, total = audit.list_entries(session, workspace_id, action="contact")  # a group, not a prefix
    assert total == 0

    rows, total = audit.list_entries(session, workspace_id, actor_user_id=ada.user_id)
    assert total == 5 and all(r.actor_user_id == ada.user_id for r in rows)

    rows, total = audit.list_entries(
        session, workspace_id, since=start + timedelta(days=2), until=start + timedelta(days=5)
    )
    assert [r.summary for r in rows] == ["day 4", "day 3", "day 2"]
    assert audit.audit_actions(session, workspace_id) == ["contacts.export", "members.invite"]


def test_the_audit_module_has_no_way_to_change_or_delete_an_entry():
    source = inspect.getsource(audit)
    tree = ast.parse(source)
    called = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert not {"update", "delete"} & called
    public = {name for name, _ in inspect.getmembers(audit, inspect.isfunction)}
    assert not {name for name in public if "delete" in name or "update" in name}


# --------------------------------------------------------------------------- consent


def test_each_opt_in_change_is_kept_with_its_source_and_author(session, workspace_id, ada):
    contact_id = add_contact(session, workspace_id)
    start = utcnow()
    audit.record_consent(session, workspace_id, contact_id, None, False, "import", now=start)
    audit.record_consent(
        session,
        workspace_id,
        contact_id,
        False,
        True,
        audit.ConsentSource.AGENT,
        ada.user_id,
        now=start + timedelta(minutes=1),
    )
    audit.record_consent(
        session,
        workspace_id,
        contact_id,
        True,
        False,
        "ingestion",
        now=start + timedelta(minutes=2),
    )
    session.commit()
    history = audit.consent_history(session, workspace_id, contact_id)
    assert [(h.old_value, h.new_value, h.source, h.actor_name) for h in history] == [
        (True, False, "ingestion", ""),
        (False, True, "agent", "Ada"),
        (None, False, "import", ""),
    ]
    assert history[1].created_at == start + timedelta(minutes=1)


def test_an_unchanged_value_is_not_a_change(session, workspace_id):
    contact_id = add_contact(session, workspace_id, opt_in=True)
    assert audit.record_consent(session, workspace_id, contact_id, True, True, "agent") is None
    assert audit.consent_history(session, workspace_id, contact_id) == []


def test_bulk_changes_are_recorded_in_one_call(session, workspace_id, ada):
    ids = [add_contact(session, workspace_id, f"c{n}") for n in range(5)]
    written = audit.record_consent_many(
        session,
        workspace_id,
        [(cid, False, True) for cid in ids] + [(ids[0], True, True)],
        audit.ConsentSource.BULK,
        ada.user_id,
    )
    session.commit()
    assert written == 5
    assert all(
        [h.source for h in audit.consent_history(session, workspace_id, cid)] == ["bulk"]
        for cid in ids
    )


def test_consent_is_scoped_by_workspace(session, workspace_id, make_workspace):
    other = make_workspace("globex")
    theirs = add_contact(session, other)
    with pytest.raises(NotFound):
        audit.record_consent(session, workspace_id, theirs, False, True, "agent")
    session.rollback()
    audit.record_consent(session, other, theirs, False, True, "agent")
    session.commit()
    assert audit.consent_history(session, workspace_id, theirs) == []
    assert len(audit.consent_history(session, other, theirs)) == 1


def test_an_unknown_source_is_refused(session, workspace_id):
    contact_id = add_contact(session, workspace_id)
    with pytest.raises(ValueError):
        audit.record_consent(session, workspace_id, contact_id, False, True, "telepathy")


def test_deleting_a_contact_deletes_its_consent_history(session, workspace_id):
    contact_id = add_contact(session, workspace_id)
    audit.record_consent(session, workspace_id, contact_id, False, True, "agent")
    session.commit()
    session.execute(sa.delete(Contact).where(Contact.id == contact_id))
    session.commit()
    assert session.execute(sa.select(sa.func.count()).select_from(ConsentChange)).scalar() == 0
    assert session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar() == 0
