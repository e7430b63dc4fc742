"""Capped counts (services.contacts.capped_count / contacts_view) on SQLite and
PostgreSQL: over the cap the page says so (exact False) and still shows the right rows;
at or under it the count is exact; an exact count taken once (count_contacts) is what the
page shows afterwards; a page past the cap gets the real number of pages."""

from __future__ import annotations

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
    count_cache.CACHE.clear()
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
    count_cache.CACHE.clear()
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
