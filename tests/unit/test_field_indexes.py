"""Expression indexes per contact custom field (services/custom_fields/indexes.py), on
SQLite and PostgreSQL: created with the field, on exactly the expression a filter compiles
to (the planner uses them, with the app's own bound parameters), changed with the field's
type, dropped with the field (but kept while another workspace's field of the same key
and kind needs them), made at start-up for definitions that have none."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import db
from cloodot_app.filters import FilterSpec
from cloodot_app.models import Contact, CustomFieldDefinition
from cloodot_app.services.contacts import ContactQuery, contact_condition, count_contacts
from cloodot_app.services.custom_fields import change_field_type, create_field, delete_field
from cloodot_app.services.custom_fields.indexes import (
    ensure_field_indexes,
    existing,
    index_name,
)
from cloodot_app.services.workspaces import ensure_workspace


def indexes(engine: sa.Engine) -> set[str]:
    with engine.connect() as connection:
        return existing(connection)


def spec(field: str, operator: str, value) -> FilterSpec:
    return FilterSpec.parse(
        {"match": "all", "conditions": [{"field": field, "operator": operator, "value": value}]}
    )


def plan(engine: sa.Engine, workspace_id: int, query: ContactQuery) -> str:
    """The database's plan for the count of a view, run as the app runs it: the statement
    compiled by SQLAlchemy with its bound parameters (not inlined for the test)."""
    with Session(engine) as session:
        where = contact_condition(session, workspace_id, query)
        statement = sa.select(sa.func.count()).select_from(Contact).where(where)
        connection = session.connection()
        compiled = statement.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        if connection.dialect.name == "postgresql":
            # A handful of rows: make the planner show which index it *can* use.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        else:
            positional = tuple(compiled.params[name] for name in compiled.positiontup or ())
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", positional)
        text = "\n".join(str(row[-1]) for row in rows)
        session.rollback()
    return text


@pytest.fixture
def acme(engine: sa.Engine, database_url: str, workspace_id: int) -> int:
    # PostgreSQL tests share one schema (tables are emptied between tests, indexes stay):
    # start without another test's field indexes.
    ensure_field_indexes(database_url)
    with db.session_scope(engine) as session:
        for number in range(30):
            session.add(
                Contact(
                    workspace_id=workspace_id,
                    name=f"Person {number}",
                    custom_fields={
                        "lifetime_value": number * 100,
                        "plan": "Pro" if number % 3 else "Free",
                    },
                )
            )
    return workspace_id


def make_field(engine, workspace_id, label, type_, options=None) -> int:
    with db.session_scope(engine) as session:
        return create_field(session, workspace_id, "contact", label, type_, options).id


def test_a_number_field_gets_its_index_and_filters_use_it(engine, acme):
    assert indexes(engine) == set()
    make_field(engine, acme, "Lifetime value", "number")
    name = index_name("lifetime_value", "n")
    assert indexes(engine) == {name}
    query = ContactQuery(filter=spec("cf.lifetime_value", "gte", 1000))
    assert name in plan(engine, acme, query)
    with db.session_scope(engine) as session:
        assert count_contacts(session, acme, query) == 20


def test_a_select_field_gets_its_index_and_filters_use_it(engine, acme):
    make_field(engine, acme, "Plan", "select", ["Free", "Pro"])
    name = index_name("plan", "t")
    assert indexes(engine) == {name}
    query = ContactQuery(filter=spec("cf.plan", "is", "Free"))
    assert name in plan(engine, acme, query)
    with db.session_scope(engine) as session:
        assert count_contacts(session, acme, query) == 10


def test_a_multi_select_field_gets_none(engine, acme):
    make_field(engine, acme, "Interests", "multi_select", ["Shoes", "Bags"])
    assert indexes(engine) == set()


def test_deleting_the_field_drops_its_index(engine, acme):
    field_id = make_field(engine, acme, "Lifetime value", "number")
    assert indexes(engine) == {index_name("lifetime_value", "n")}
    with db.session_scope(engine) as session:
        delete_field(session, acme, field_id)
    assert indexes(engine) == set()


def test_a_new_type_gets_the_new_expression(engine, acme):
    field_id = make_field(engine, acme, "Lifetime value", "number")
    with db.session_scope(engine) as session:
        change_field_type(session, acme, field_id, "text")
    assert indexes(engine) == {index_name("lifetime_value", "t")}
    query = ContactQuery(filter=spec("cf.lifetime_value", "contains", "10"))
    with db.session_scope(engine) as session:
        stored = [
            c.custom_fields.get("lifetime_value")
            for c in session.execute(sa.select(Contact)).scalars()
        ]
        expected = sum(1 for value in stored if isinstance(value, str) and "10" in value)
        assert expected >= 4  # 100, 1000, 1100, 2100 as text
        assert count_contacts(session, acme, query) == expected


def test_a_shared_index_stays_while_another_workspace_needs_it(engine, acme):
    with db.session_scope(engine) as session:
        other = ensure_workspace(session, "globex").id
    first = make_field(engine, acme, "Plan", "select", ["Free", "Pro"])
    make_field(engine, other, "Plan", "select", ["Gold"])
    assert indexes(engine) == {index_name("plan", "t")}
    with db.session_scope(engine) as session:
        delete_field(session, acme, first)
    assert indexes(engine) == {index_name("plan", "t")}


def test_start_up_makes_the_indexes_of_older_databases(engine, database_url, acme):
    assert indexes(engine) == set()
    with db.session_scope(engine) as session:
        session.add(
            CustomFieldDefinition(
                workspace_id=acme, entity="contact", key="score", label="Score", type="number"
            )
        )
        session.add(
            CustomFieldDefinition(
                workspace_id=acme, entity="conversation", key="topic", label="Topic", type="text"
            )
        )
    assert indexes(engine) == set()
    created, dropped = ensure_field_indexes(database_url)
    assert (created, dropped) == ([index_name("score", "n")], [])
    assert indexes(engine) == {index_name("score", "n")}
    assert ensure_field_indexes(database_url) == ([], [])


def test_keys_with_quotes_are_indexed_and_still_found(engine, database_url, acme):
    """Keys are slugs today; the index DDL and the query escape whatever a key holds."""
    with db.session_scope(engine) as session:
        session.add(
            CustomFieldDefinition(
                workspace_id=acme, entity="contact", key="o'brien", label="O'Brien", type="text"
            )
        )
        session.add(Contact(workspace_id=acme, name="Quoted", custom_fields={"o'brien": "yes"}))
    ensure_field_indexes(database_url)
    assert index_name("o'brien", "t") in indexes(engine)
    query = ContactQuery(filter=spec("cf.o'brien", "equals", "yes"))
    with db.session_scope(engine) as session:
        assert count_contacts(session, acme, query) == 1


def test_field_indexes_stay_out_of_the_models_metadata(engine, acme):
    make_field(engine, acme, "Lifetime value", "number")
    assert not [i for i in Contact.__table__.indexes if str(i.name).startswith("ix_contact_cf_")]
