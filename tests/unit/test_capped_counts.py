"""Capped counts (services.contacts.capped_count / contacts_view) on SQLite and
PostgreSQL: over the cap the page says so (exact False) and still shows the right rows;
at or under it the count is exact; an exact count taken once (count_contacts) is what the
page shows afterwards; a page past the cap gets the real number of pages."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from cloodot_app import db
from cloodot_app.models import Contact
from cloodot_app.services import contacts as contacts_service
from cloodot_app.services import count_cache
from cloodot_app.services.contacts import ContactQuery, contacts_view, count_contacts


@pytest.fixture
def people(engine: sa.Engine, workspace_id: int) -> int:
    """12 contacts, "Mara 0" … "Mara 11"; the names of the last 3 also have "Zed"."""
    count_cache.clear()
    with db.session_scope(engine) as session:
        for number in range(12):
            suffix = " Zed" if number >= 9 else ""
            session.add(Contact(workspace_id=workspace_id, name=f"Mara {number}{suffix}"))
    return workspace_id


def view(engine: sa.Engine, ws: int, query: ContactQuery, **kwargs):
    with db.session_scope(engine) as session:
        return contacts_view(session, ws, query, **kwargs).page


def test_over_the_cap_the_total_is_a_lower_bound(engine, people, monkeypatch):
    monkeypatch.setattr(contacts_service, "COUNT_CAP", 5)
    page = view(engine, people, ContactQuery(search="mara", sort="name", descending=False))
    assert (page.total, page.exact) == (5, False)
    assert [row.name for row in page.rows][:3] == ["Mara 0", "Mara 1", "Mara 10 Zed"]
    assert len(page.rows) == 10


def test_at_the_cap_the_count_is_exact(engine, people, monkeypatch):
    monkeypatch.setattr(contacts_service, "COUNT_CAP", 12)
    page = view(engine, people, ContactQuery(search="mara"))
    assert (page.total, page.exact) == (12, True)
    monkeypatch.setattr(contacts_service, "COUNT_CAP", 11)
    count_cache.clear()
    page = view(engine, people, ContactQuery(search="mara"))
    assert (page.total, page.exact) == (11, False)


def test_a_narrow_view_is_exact_and_cached(engine, people, monkeypatch):
    monkeypatch.setattr(contacts_service, "COUNT_CAP", 5)
    page = view(engine, people, ContactQuery(search="zed"))
    assert (page.total, page.exact) == (3, True)
    hits = count_cache.CACHE.hits
    with db.session_scope(engine) as session:
        assert count_contacts(session, people, ContactQuery(search="zed")) == 3
    assert count_cache.CACHE.hits == hits + 1


def test_once_counted_exactly_the_page_shows_the_exact_total(engine, people, monkeypatch):
    monkeypatch.setattr(contacts_service, "COUNT_CAP", 5)
    with db.session_scope(engine) as session:
        assert count_contacts(session, people, ContactQuery(search="mara")) == 12
    page = view(engine, people, ContactQuery(search="mara"))
    assert (page.total, page.exact) == (12, True)


def test_exact_on_request(engine, people, monkeypatch):
    monkeypatch.setattr(contacts_service, "COUNT_CAP", 5)
    page = view(engine, people, ContactQuery(), exact=True)
    assert (page.total, page.exact) == (12, True)


def test_a_page_past_the_cap_is_counted_exactly(engine, people, monkeypatch):
    """A link to page 3 of 5-row pages with a cap of 5 (one capped page): the page is not
    clamped to what the cap alone would allow."""
    monkeypatch.setattr(contacts_service, "COUNT_CAP", 5)
    query = ContactQuery(sort="name", descending=False, page=2, page_size=10)
    page = view(engine, people, query)
    assert (page.total, page.exact, page.page) == (12, True, 2)
    assert [row.name for row in page.rows] == ["Mara 8", "Mara 9 Zed"]


@pytest.mark.parametrize("sort", ["created_at", "name", "last_interaction_at"])
@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("view_kind", ["search", "label", "label all of", "search and label"])
def test_walking_the_sort_index_gives_the_same_pages(
    engine, people, monkeypatch, sort, descending, view_kind
):
    """Over the cap, SQLite's page query walks the sort index (contact.id + 0 IN …);
    every page is the one the plain query gives."""
    from datetime import timedelta

    from cloodot_app.filters import FilterSpec
    from cloodot_app.models import ContactLabel, Label, utcnow

    with db.session_scope(engine) as session:
        gold = Label(workspace_id=people, name="Gold")
        session.add(gold)
        session.flush()
        ids = list(session.execute(sa.select(Contact.id).order_by(Contact.id)).scalars())
        for position, contact_id in enumerate(ids):
            if position % 3:
                session.add(ContactLabel(contact_id=contact_id, label_id=gold.id))
            contact = session.get(Contact, contact_id)
            contact.last_interaction_at = (
                None if position % 4 == 0 else utcnow() - timedelta(hours=position % 5)
            )
    label = {"field": "label", "operator": "has_any_of", "value": [gold.id]}
    every = {"field": "label", "operator": "has_all_of", "value": [gold.id]}
    filters = {
        "search": ("mara", []),
        "label": ("", [label]),
        "label all of": ("", [every]),
        "search and label": ("mar", [label]),
    }[view_kind]

    def pages(cap: int) -> list[list[str]]:
        monkeypatch.setattr(contacts_service, "COUNT_CAP", cap)
        result = []
        for number in (1, 2, 3):
            count_cache.clear()
            query = ContactQuery(
                search=filters[0],
                filter=FilterSpec.parse({"match": "all", "conditions": filters[1]}),
                sort=sort,
                descending=descending,
                page=number,
                page_size=10 if number == 1 else 3,
            )
            result.append([row.name for row in view(engine, people, query).rows])
        return result

    walked = pages(2)
    plain = pages(10_000)
    assert walked == plain
    assert any(walked)


def test_the_walking_plan_reads_the_sort_index(engine, people, dialect):
    if dialect != "sqlite":
        pytest.skip("the rewrite is for SQLite's planner")
    from cloodot_app.filters import CompileContext

    with db.session_scope(engine) as session:
        ctx = CompileContext.for_session(session)
        walking = CompileContext(ctx.dialect, ctx.now, walk_sort_index=True)
        where = contacts_service.search_condition("mara", walking)
        statement = (
            sa.select(Contact.id)
            .where(Contact.workspace_id == people, where)
            .order_by(Contact.created_at.desc(), Contact.id.desc())
            .limit(10)
        )
        compiled = statement.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        assert "contact.id + 0 IN" in str(compiled)
        plan = "\n".join(
            str(row[-1])
            for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
        )
        # The sort index, the matches as a list to probe; no rowid lookups, no sort.
        assert "ix_contact_ws_created" in plan, plan
        assert "LIST SUBQUERY" in plan, plan
        assert "TEMP B-TREE" not in plan and "INTEGER PRIMARY KEY" not in plan, plan


@pytest.mark.parametrize("share", ["most", "few"])
def test_a_long_label_list_is_first_probed_on_the_newest_contacts(
    engine, people, monkeypatch, dialect, share
):
    """On SQLite a label held by very many contacts is first probed on the newest ones
    (_most_recent_match) rather than read whole: over the cap that answers "cap+", under
    it the usual count still gives the exact number. Same totals and rows either way."""
    from cloodot_app.filters import FilterSpec
    from cloodot_app.models import ContactLabel, Label

    with db.session_scope(engine) as session:
        gold = Label(workspace_id=people, name="Gold")
        session.add(gold)
        session.flush()
        ids = list(session.execute(sa.select(Contact.id).order_by(Contact.id)).scalars())
        chosen = ids if share == "most" else ids[:2]
        for contact_id in chosen:
            session.add(ContactLabel(contact_id=contact_id, label_id=gold.id))
    query = ContactQuery(
        filter=FilterSpec.parse(
            {
                "match": "all",
                "conditions": [{"field": "label", "operator": "has_any_of", "value": [gold.id]}],
            }
        ),
        sort="name",
        descending=False,
    )
    monkeypatch.setattr(contacts_service, "COUNT_CAP", 5)
    plain = view(engine, people, query)
    count_cache.clear()
    monkeypatch.setattr(contacts_service, "LONG_LABEL_LIST", 1)
    probes = []
    real = contacts_service._most_recent_match
    monkeypatch.setattr(
        contacts_service,
        "_most_recent_match",
        lambda *args: probes.append(real(*args)) or probes[-1],
    )
    probed = view(engine, people, query)
    expected = [share == "most"] if dialect == "sqlite" else []  # SQLite's rewrite only
    assert probes == expected
    assert (probed.total, probed.exact) == (plain.total, plain.exact)
    assert [row.name for row in probed.rows] == [row.name for row in plain.rows]
    assert (plain.total, plain.exact) == ((5, False) if share == "most" else (2, True))


def test_a_search_count_is_driven_by_its_matches_and_stays_in_the_workspace(
    engine, people, make_workspace, monkeypatch, dialect
):
    """On SQLite the capped count of a search joins the FTS5 matches to the contacts and
    stops at cap + 1 (no list of every match first); matches in another workspace, which
    share the FTS5 table, are never counted."""
    with db.session_scope(engine) as session:
        other = make_workspace("globex")
        for number in range(4):
            session.add(Contact(workspace_id=other, name=f"Zed Other {number}"))
    monkeypatch.setattr(contacts_service, "COUNT_CAP", 5)
    narrow = view(engine, people, ContactQuery(search="zed"))
    assert (narrow.total, narrow.exact) == (3, True)
    assert sorted(row.name for row in narrow.rows) == ["Mara 10 Zed", "Mara 11 Zed", "Mara 9 Zed"]
    count_cache.clear()
    broad = view(engine, people, ContactQuery(search="mara"))
    assert (broad.total, broad.exact) == (5, False)
    if dialect != "sqlite":
        return
    statements: list[tuple[str, Any]] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2:4]))
    count_cache.clear()
    view(engine, people, ContactQuery(search="mara"))
    ((count, parameters),) = [s for s in statements if s[0].startswith("SELECT count(*)")]
    with engine.connect() as connection:
        plan = " ".join(
            str(row[-1])
            for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {count}", parameters)
        )
    assert "SCAN contact_search VIRTUAL TABLE" in plan, plan
    assert "LIST SUBQUERY" not in plan, plan
