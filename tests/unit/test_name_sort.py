"""Sorting by name ignores case (lower(name), then id) on SQLite and PostgreSQL, and the
revision that adds its index (f1a3b5c7d9e2) upgrades a database holding data."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cloodot_app import db
from cloodot_app.db import make_engine
from cloodot_app.models import Contact
from cloodot_app.services.contacts import ContactQuery, list_contacts, sort_order
from tests.conftest import DIALECTS
from tests.unit.migration_helpers import check_upgrade_keeps_data, fresh_database

NAMES = ["Zoe Zimmer", "alice Archer", "Bob Baker", "carol Cole", "ALAN Ames", "bea Brook"]


def names(engine: sa.Engine, workspace_id: int, descending: bool) -> list[str]:
    with db.session_scope(engine) as session:
        query = ContactQuery(sort="name", descending=descending, page_size=10)
        return [row.name for row in list_contacts(session, workspace_id, query).rows]


def test_names_sort_whatever_their_case(engine, workspace_id):
    with db.session_scope(engine) as session:
        for name in NAMES:
            session.add(Contact(workspace_id=workspace_id, name=name))
    expected = ["ALAN Ames", "alice Archer", "bea Brook", "Bob Baker", "carol Cole", "Zoe Zimmer"]
    assert names(engine, workspace_id, descending=False) == expected
    assert names(engine, workspace_id, descending=True) == expected[::-1]


def test_the_same_name_in_two_cases_keeps_a_stable_order(engine, workspace_id):
    with db.session_scope(engine) as session:
        ids = []
        for name in ("ann", "Ann", "ANN"):
            contact = Contact(workspace_id=workspace_id, name=name)
            session.add(contact)
            session.flush()
            ids.append(contact.id)
    # Equal ignoring case: by id, so pages never repeat or skip one of them.
    assert names(engine, workspace_id, descending=False) == ["ann", "Ann", "ANN"]
    assert names(engine, workspace_id, descending=True) == ["ANN", "Ann", "ann"]


def test_the_name_order_walks_its_index_on_sqlite(engine, workspace_id, dialect):
    if dialect != "sqlite":
        pytest.skip("PostgreSQL's planner reads a table this small sequentially")
    statement = (
        sa.select(Contact.id)
        .where(Contact.workspace_id == workspace_id)
        .order_by(*sort_order("name", False, dialect))
        .limit(10)
    )
    compiled = statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        plan = " ".join(
            str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
        )
    assert "ix_contact_ws_name_ci" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


@pytest.fixture(params=DIALECTS)
def empty_database_url(request, tmp_path):
    yield from fresh_database(request, tmp_path)


def test_the_revision_adds_the_index_and_keeps_every_row(empty_database_url):
    check_upgrade_keeps_data(empty_database_url, "e5b7c9d1f3a2", "f1a3b5c7d9e2")
    engine = make_engine(empty_database_url)
    if engine.dialect.name == "sqlite":  # (SQLAlchemy does not reflect expression indexes)
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contact'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE tablename = 'contact'"
    try:
        with engine.connect() as connection:
            indexes = set(connection.exec_driver_sql(query).scalars())
        assert "ix_contact_ws_name_ci" in indexes
    finally:
        engine.dispose()
