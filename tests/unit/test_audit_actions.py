"""What the audit log and the consent history record of the actions that change contact
data in bulk or let it leave: exports, bulk deletes, imports and opt-in changes. Each
action writes exactly one entry (who, what, how many) in its own transaction, so a
refused or failed action writes none. SQLite and PostgreSQL.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from functools import partial

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import db
from cloodot_app.access import Role
from cloodot_app.api import build_api
from cloodot_app.errors import (
    EditConflict,
    FieldValueError,
    ImportInterrupted,
    NotFound,
    SelectionChanged,
)
from cloodot_app.filters import FilterSpec
from cloodot_app.models import ConsentChange, Contact, Segment
from cloodot_app.routes import API_CONTACTS_EXPORT
from cloodot_app.services import audit, contact_audit
from cloodot_app.services.contact_deletes import Selection, delete_contacts
from cloodot_app.services.contact_edits import update_contact_field
from cloodot_app.services.contacts import ContactQuery, get_contact
from cloodot_app.services.export import ExportOptions, make_ticket, ticket_secret
from cloodot_app.services.importer import CsvImportError, read_csv, run_import
from cloodot_app.settings import settings
from tests.conftest import member_session, session_cookie
from tests.unit.accounts_helpers import isolate_accounts, make_member, sign_in_as

NAME_HAS_ADA = FilterSpec.parse(
    {"conditions": [{"field": "name", "operator": "contains", "value": "Ada"}]}
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    isolate_accounts(monkeypatch)


@pytest.fixture
def ada(session, workspace_id):
    """Ada, admin of the workspace, signed in: her Identity."""
    user = make_member(session, workspace_id, "ada@acme.example", Role.ADMIN, name="Ada Admin")
    return sign_in_as(session, user, workspace_id)[1]


def add_contacts(session: Session, workspace_id: int, *names: str, opt_in=False) -> list[int]:
    contacts = [Contact(workspace_id=workspace_id, name=n, campaign_opt_in=opt_in) for n in names]
    session.add_all(contacts)
    session.commit()
    return [c.id for c in contacts]


def entries(engine, workspace_id: int, action: str | None = None) -> list[audit.AuditRow]:
    """The workspace's entries as committed (read through a fresh session)."""
    with Session(engine) as fresh:
        return audit.list_entries(fresh, workspace_id, action, page_size=200)[0]


def consent(engine, workspace_id: int) -> list[tuple[int, bool | None, bool, str, int | None]]:
    with Session(engine) as fresh:
        return sorted(
            (c.contact_id, c.old_value, c.new_value, c.source, c.actor_user_id)
            for c in fresh.execute(
                sa.select(ConsentChange).where(ConsentChange.workspace_id == workspace_id)
            ).scalars()
        )


def count_all(engine, model) -> int:
    with Session(engine) as fresh:
        return fresh.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


# --------------------------------------------------------------------------- the view


def test_a_view_in_words_names_search_segment_and_filters(session, workspace_id):
    segment = Segment(workspace_id=workspace_id, name="VIP buyers", filter_spec={})
    session.add(segment)
    session.flush()
    query = ContactQuery(search="  ada ", segment_id=segment.id, filter=NAME_HAS_ADA)
    words = contact_audit.describe_view(session, workspace_id, query)
    assert words.text == "search “ada”; segment “VIP buyers”; filters: Name contains Ada"
    assert contact_audit.describe_view(session, workspace_id, ContactQuery()).text == (
        "all contacts"
    )


def test_a_view_in_words_never_fails_on_what_was_deleted(session, workspace_id, make_workspace):
    theirs = Segment(workspace_id=make_workspace("other"), name="Not yours", filter_spec={})
    session.add(theirs)
    session.flush()
    gone = FilterSpec.parse({"conditions": [{"field": "cf.gone", "operator": "is_empty"}]})
    words = contact_audit.describe_view(
        session, workspace_id, ContactQuery(segment_id=theirs.id, filter=gone)
    )
    assert words.text == "segment “a deleted segment”; filters: a filter that no longer applies"


# --------------------------------------------------------------------------- deletes


def test_a_bulk_delete_writes_one_entry_with_who_how_many_and_which(
    session, engine, workspace_id, ada
):
    ids = add_contacts(session, workspace_id, "Ann", "Bo", "Cy")
    assert delete_contacts(session, workspace_id, Selection(ids=ids[:2]), actor=ada) == 2
    session.commit()
    (entry,) = entries(engine, workspace_id)
    assert (entry.action, entry.actor_user_id, entry.actor_kind) == (
        "contacts.delete",
        ada.user_id,
        "user",
    )
    assert entry.details["count"] == 2 and entry.details["ids"] == ids[:2]
    assert entry.summary == f"Deleted 2 contacts — selected rows (ids {ids[0]}, {ids[1]})"
    assert entry.who == "Ada Admin"


def test_deleting_a_view_keeps_its_words_and_the_first_ids(session, engine, workspace_id, ada):
    ids = add_contacts(session, workspace_id, *(f"Ada {n}" for n in range(25)), "Bob")
    selection = Selection(query=ContactQuery(filter=NAME_HAS_ADA))
    assert delete_contacts(session, workspace_id, selection, actor=ada) == 25
    session.commit()
    (entry,) = entries(engine, workspace_id)
    assert entry.details["ids"] == ids[: contact_audit.KEPT_IDS]
    assert entry.details["more_ids"] == 25 - contact_audit.KEPT_IDS
    assert entry.summary.startswith("Deleted 25 contacts — filters: Name contains Ada (ids ")
    assert entry.summary.endswith(", …)")


def test_a_delete_without_a_member_is_the_systems(session, engine, workspace_id):
    (only,) = add_contacts(session, workspace_id, "Ann")
    delete_contacts(session, workspace_id, Selection(ids=[only]))
    session.commit()
    (entry,) = entries(engine, workspace_id)
    assert (entry.actor_kind, entry.actor_user_id, entry.who) == ("system", None, "System")
    assert entry.summary == f"Deleted 1 contact — selected rows (id {only})"


def test_a_delete_that_deletes_nothing_or_is_refused_writes_no_entry(
    session, engine, workspace_id, ada
):
    ids = add_contacts(session, workspace_id, "Ann", "Bo")
    assert delete_contacts(session, workspace_id, Selection(ids=[ids[0] + 1000]), actor=ada) == 0
    promised_one = Selection(query=ContactQuery(), promised=1)
    with pytest.raises(SelectionChanged):
        delete_contacts(session, workspace_id, promised_one, actor=ada)
    session.commit()
    assert entries(engine, workspace_id) == []


def test_a_delete_rolled_back_takes_its_entry_with_it(session, engine, workspace_id, ada):
    ids = add_contacts(session, workspace_id, "Ann", "Bo")
    delete_contacts(session, workspace_id, Selection(ids=ids), actor=ada)
    session.rollback()
    assert entries(engine, workspace_id) == []
    assert count_all(engine, Contact) == 2


def test_an_actor_of_another_workspace_cannot_sign_an_entry_here(
    session, engine, workspace_id, make_workspace
):
    other = make_workspace("other")
    user = make_member(session, other, "eve@other.example", Role.ADMIN)
    eve = sign_in_as(session, user, other)[1]
    (only,) = add_contacts(session, workspace_id, "Ann")
    with pytest.raises(ValueError, match="must belong to its workspace"):
        delete_contacts(session, workspace_id, Selection(ids=[only]), actor=eve)
    session.rollback()
    assert entries(engine, workspace_id) == [] and count_all(engine, Contact) == 1


# --------------------------------------------------------------------------- opt-in


def test_an_agents_opt_in_change_is_in_the_consent_history_and_the_log(
    session, engine, workspace_id, ada
):
    (zoe,) = add_contacts(session, workspace_id, "Zoe")
    update_contact_field(session, workspace_id, zoe, "campaign_opt_in", True, "off", actor=ada)
    session.commit()
    assert consent(engine, workspace_id) == [(zoe, False, True, "agent", ada.user_id)]
    (entry,) = entries(engine, workspace_id)
    assert (entry.action, entry.actor_user_id) == ("contacts.opt_in", ada.user_id)
    assert entry.summary == "Turned campaign opt-in on for Zoe (was off)"
    assert entry.details == {"contact_id": zoe, "old": False, "new": True, "source": "agent"}

    update_contact_field(session, workspace_id, zoe, "campaign_opt_in", False, actor=ada)
    session.commit()
    (line_off, line_on) = get_contact(session, workspace_id, zoe).consent
    assert (line_off.opted_in, line_off.was, line_off.by) == (False, "on", "Ada Admin")
    assert (line_on.opted_in, line_on.was, line_on.source) == (True, "off", "agent")
    assert len(entries(engine, workspace_id, "contacts.opt_in")) == 2


def test_an_opt_in_change_without_a_member_names_its_source(session, engine, workspace_id):
    (zoe,) = add_contacts(session, workspace_id, "Zoe")
    update_contact_field(session, workspace_id, zoe, "campaign_opt_in", True, source="ingestion")
    session.commit()
    assert consent(engine, workspace_id) == [(zoe, False, True, "ingestion", None)]
    (entry,) = entries(engine, workspace_id)
    assert (entry.actor_kind, entry.who) == ("ingestion", "Ingestion")
    assert get_contact(session, workspace_id, zoe).consent[0].by == "Ingestion"


def test_no_opt_in_change_no_record(session, engine, workspace_id, ada):
    (zoe,) = add_contacts(session, workspace_id, "Zoe", opt_in=True)
    # The same value again, another field, a refused value, a conflict, a stranger's id.
    update_contact_field(session, workspace_id, zoe, "campaign_opt_in", True, actor=ada)
    update_contact_field(session, workspace_id, zoe, "name", "Zoë", actor=ada)
    with pytest.raises(FieldValueError):
        update_contact_field(session, workspace_id, zoe, "campaign_opt_in", "yes", actor=ada)
    with pytest.raises(EditConflict):
        update_contact_field(session, workspace_id, zoe, "campaign_opt_in", False, "off", actor=ada)
    with pytest.raises(NotFound):
        update_contact_field(session, workspace_id, zoe + 99, "campaign_opt_in", False, actor=ada)
    session.commit()
    assert consent(engine, workspace_id) == [] and entries(engine, workspace_id) == []
    assert get_contact(session, workspace_id, zoe).consent == []


def test_an_opt_in_change_rolled_back_leaves_no_history(session, engine, workspace_id, ada):
    (zoe,) = add_contacts(session, workspace_id, "Zoe")
    update_contact_field(session, workspace_id, zoe, "campaign_opt_in", True, actor=ada)
    session.rollback()
    assert consent(engine, workspace_id) == [] and entries(engine, workspace_id) == []


# --------------------------------------------------------------------------- imports


@pytest.fixture
def factory(engine):
    return partial(db.session_scope, engine)


def do_import(factory, workspace_id, lines, mapping, **kwargs):
    parsed = read_csv(("\r\n".join(lines) + "\r\n").encode())
    return run_import(factory, workspace_id, parsed, mapping, **kwargs)


OPT_IN_FILE = (
    "Name,Email,Consent",
    "Ann,ann@example.com,yes",  # exists, opted out: turned on
    "Bo,bo@example.com,yes",  # exists, opted in: unchanged
    "Cy,cy@example.com,no",  # new: off (first value)
    "Di,di@example.com,",  # new, no value: no consent recorded
    "Ed,ed@example.com,yes",  # new: on (first value)
    "Broken,not-an-email,yes",  # fails: nothing
)
OPT_IN_MAPPING = {"Name": "name", "Email": "email", "Consent": "campaign_opt_in"}


def _existing(session, workspace_id) -> dict[str, int]:
    ann = Contact(workspace_id=workspace_id, name="Ann", email="ann@example.com")
    bo = Contact(workspace_id=workspace_id, name="Bo", email="bo@example.com", campaign_opt_in=True)
    session.add_all([ann, bo])
    session.commit()
    return {"ann": ann.id, "bo": bo.id}


def test_an_import_writes_one_entry_and_the_consent_it_changed(
    session, engine, factory, workspace_id, ada
):
    existing = _existing(session, workspace_id)
    report = do_import(
        factory,
        workspace_id,
        OPT_IN_FILE,
        OPT_IN_MAPPING,
        on_duplicate="update",
        file_name="leads.csv",
        actor=ada,
        chunk_size=2,
    )
    assert (report.created, report.updated, report.failed) == (3, 2, 1)
    assert (report.opted_in, report.opted_out) == (2, 1)
    ids = {c.email: c.id for c in _contacts(engine, workspace_id)}
    assert consent(engine, workspace_id) == sorted(
        [
            (existing["ann"], False, True, "import", ada.user_id),
            (ids["cy@example.com"], None, False, "import", ada.user_id),
            (ids["ed@example.com"], None, True, "import", ada.user_id),
        ]
    )
    (entry,) = entries(engine, workspace_id, "contacts.import")
    assert (entry.actor_user_id, entry.actor_kind) == (ada.user_id, "user")
    assert entry.summary == "Imported “leads.csv”: 6 rows (3 created, 2 updated, 1 failed)"
    assert {k: entry.details[k] for k in ("created", "updated", "failed", "opt_in_changes")} == {
        "created": 3,
        "updated": 2,
        "failed": 1,
        "opt_in_changes": 3,
    }
    (opt_in,) = entries(engine, workspace_id, "contacts.opt_in")
    assert (
        opt_in.summary
        == "Import of “leads.csv” changed campaign opt-in of 3 contacts (2 on, 1 off)"
    )
    lines = get_contact(session, workspace_id, existing["ann"]).consent
    assert [(line.opted_in, line.was, line.by) for line in lines] == [(True, "off", "Ada Admin")]


def _contacts(engine, workspace_id) -> list[Contact]:
    with Session(engine) as fresh:
        return list(
            fresh.execute(sa.select(Contact).where(Contact.workspace_id == workspace_id))
            .scalars()
            .all()
        )


def test_an_import_without_an_opt_in_column_records_no_consent(engine, factory, workspace_id, ada):
    do_import(factory, workspace_id, OPT_IN_FILE[:3], {"Name": "name", "Email": "email"}, actor=ada)
    assert consent(engine, workspace_id) == []
    assert [e.action for e in entries(engine, workspace_id)] == ["contacts.import"]


def test_an_import_without_a_member_is_the_imports(engine, factory, workspace_id):
    do_import(factory, workspace_id, OPT_IN_FILE[:2], OPT_IN_MAPPING)
    assert [(e.action, e.actor_kind, e.who) for e in entries(engine, workspace_id)] == [
        ("contacts.opt_in", "import", "Import"),
        ("contacts.import", "import", "Import"),
    ]
    ((_, old, new, source, user),) = consent(engine, workspace_id)
    assert (old, new, source, user) == (None, True, "import", None)


def test_a_refused_import_writes_nothing(engine, factory, workspace_id, ada):
    with pytest.raises(CsvImportError):
        do_import(factory, workspace_id, OPT_IN_FILE, {"Consent": "campaign_opt_in"}, actor=ada)
    assert entries(engine, workspace_id) == [] and consent(engine, workspace_id) == []


def test_an_import_the_database_stops_records_only_what_was_committed(engine, workspace_id, ada):
    """Chunk 2 of 3 fails before its commit: its consent changes go with it, and the
    entry says where the import stopped."""
    sessions = 0

    @contextmanager
    def failing_factory():
        nonlocal sessions
        sessions += 1
        with db.session_scope(engine) as session:
            yield session
            if sessions == 3:  # 1: job start; 2: chunk 1; 3: chunk 2
                session.flush()
                raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    lines = ("Name,Email,Consent", *(f"P{n},p{n}@example.com,yes" for n in range(6)))
    with pytest.raises(ImportInterrupted):
        do_import(failing_factory, workspace_id, lines, OPT_IN_MAPPING, chunk_size=2, actor=ada)
    assert len(consent(engine, workspace_id)) == 2  # chunk 1's two new contacts
    (entry,) = entries(engine, workspace_id, "contacts.import")
    assert entry.details["status"] == "failed" and entry.details["rows_done"] == 2
    assert (
        entry.summary == "Import of “contacts.csv” stopped (failed) after 2 of 6 rows (2 created)"
    )
    (opt_in,) = entries(engine, workspace_id, "contacts.opt_in")
    assert opt_in.details["count"] == 2


def test_an_import_cancelled_part_way_says_so(engine, factory, workspace_id, ada):
    def progress(done, total):
        if done >= 2:
            raise KeyboardInterrupt

    lines = ("Name,Email", *(f"P{n},p{n}@example.com" for n in range(6)))
    with pytest.raises(KeyboardInterrupt):
        do_import(
            factory,
            workspace_id,
            lines,
            {"Name": "name", "Email": "email"},
            chunk_size=2,
            actor=ada,
            progress=progress,
        )
    (entry,) = entries(engine, workspace_id)
    assert (entry.details["status"], entry.details["created"]) == ("interrupted", 2)


# --------------------------------------------------------------------------- exports


@pytest.fixture
def client(database_url, monkeypatch):
    from starlette.testclient import TestClient

    monkeypatch.setattr(db, "settings", replace(settings, database_url=database_url))
    db.get_engine.cache_clear()
    with TestClient(build_api()) as test_client:
        yield test_client
    db.get_engine().dispose()
    db.get_engine.cache_clear()


def test_an_export_writes_one_entry_with_the_view_and_the_rows(
    client, session, engine, workspace_id
):
    add_contacts(session, workspace_id, "Ada One", "Ada Two", "Bob")
    token = member_session(session, workspace_id, "manager", "max@acme.example")
    query = ContactQuery(filter=NAME_HAS_ADA)
    ticket = make_ticket(workspace_id, ExportOptions(query=query, limit=50), ticket_secret())
    response = client.get(
        API_CONTACTS_EXPORT, params={"ticket": ticket}, headers=session_cookie(token)
    )
    assert response.status_code == 200
    (entry,) = entries(engine, workspace_id)
    assert (entry.action, entry.actor_kind, entry.actor_email) == (
        "contacts.export",
        "user",
        "max@acme.example",
    )
    assert entry.summary == "Exported 2 contacts — view: filters: Name contains Ada"
    assert (entry.details["rows"], entry.details["limit"]) == (2, 50)


def test_a_refused_or_invalid_export_writes_no_entry(client, session, engine, workspace_id):
    add_contacts(session, workspace_id, "Ada One")
    manager = session_cookie(member_session(session, workspace_id, "manager"))
    agent = session_cookie(member_session(session, workspace_id, "agent"))

    def get(options: ExportOptions, headers):
        ticket = make_ticket(workspace_id, options, ticket_secret())
        return client.get(API_CONTACTS_EXPORT, params={"ticket": ticket}, headers=headers)

    assert get(ExportOptions(), agent).status_code == 403
    assert get(ExportOptions(limit=settings.export_max_rows + 1), manager).status_code == 400
    gone = FilterSpec.parse({"conditions": [{"field": "cf.gone", "operator": "is_empty"}]})
    assert get(ExportOptions(query=ContactQuery(filter=gone)), manager).status_code == 400
    assert entries(engine, workspace_id) == []

    ticket = make_ticket(workspace_id, ExportOptions(), ticket_secret())
    assert (
        client.get(API_CONTACTS_EXPORT, params={"ticket": ticket}, headers=manager).status_code
        == 200
    )
    again = client.get(API_CONTACTS_EXPORT, params={"ticket": ticket}, headers=manager)
    assert again.status_code == 403
    assert len(entries(engine, workspace_id)) == 1


# --------------------------------------------------------------------------- the page


def test_the_pages_filters_offer_the_actions_and_the_people_of_the_log(
    session, workspace_id, ada, make_workspace
):
    bea = make_member(session, workspace_id, "bea@acme.example", Role.AGENT, name="Bea")
    make_member(session, workspace_id, "quiet@acme.example", Role.AGENT, name="Quiet")
    (zoe,) = add_contacts(session, workspace_id, "Zoe")
    update_contact_field(session, workspace_id, zoe, "campaign_opt_in", True, actor=ada)
    audit.record(session, workspace_id, None, "contacts.import", "x", actor_user_id=bea.id)
    audit.record(session, make_workspace("other"), None, "elsewhere.thing", "y")
    session.commit()
    page = audit.audit_log_page(session, workspace_id, page_size=1)
    assert page.total == 2 and len(page.rows) == 1
    assert page.actions == ["contacts.import", "contacts.opt_in"]
    assert [(a.user_id, a.name) for a in page.actors] == [
        (ada.user_id, "Ada Admin"),
        (bea.id, "Bea"),
    ]
    assert audit.action_words("contacts.opt_in") == "Changed campaign opt-in"
    assert audit.action_words("something.new") == "something.new"
