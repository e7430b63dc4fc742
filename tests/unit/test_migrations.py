"""Alembic owns the schema: an empty database migrates to head on both dialects, the
migrations describe exactly the models (no drift), and SQLite (and PostgreSQL) can go down
to base and up again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import cloodot_app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from alembic import command
from cloodot_app.db import alembic_config, make_engine, migrate
from cloodot_app.search_index import include_in_autogenerate as include_object

APP_TABLES = {table.name for table in SQLModel.metadata.sorted_tables}

SQLITE_SEARCH_OBJECTS = {
    ("table", "contact_search"),
    ("trigger", "contact_search_ai"),
    ("trigger", "contact_search_ad"),
    ("trigger", "contact_search_au"),
}
POSTGRES_SEARCH_INDEXES = {
    "ix_contact_name_trgm",
    "ix_contact_email_trgm",
    "ix_contact_phone_digits_trgm",
}


def _reset_postgres(admin: sa.Engine) -> None:
    with admin.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def empty_database_url(request, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all: a new SQLite file, or PostgreSQL's public schema
    dropped and re-created (migrated again afterwards, for the tests that follow)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin: sa.Engine = request.getfixturevalue("postgres_admin_engine")
    url = admin.url.render_as_string(hide_password=False)
    _reset_postgres(admin)
    try:
        yield url
    finally:
        _reset_postgres(admin)
        migrate(url)


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _search_objects(engine: sa.Engine) -> set:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(
                sa.text("SELECT type, name FROM sqlite_master WHERE name LIKE 'contact_search%'")
            )
            return {(kind, name) for kind, name in rows}
        rows = connection.execute(
            sa.text(
                "SELECT indexname FROM pg_indexes"
                " WHERE schemaname = current_schema() AND indexname LIKE '%trgm'"
            )
        )
        return {name for (name,) in rows}


def _expected_search_objects(dialect: str) -> set:
    return SQLITE_SEARCH_OBJECTS if dialect == "sqlite" else POSTGRES_SEARCH_INDEXES


def _drift(engine: sa.Engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        return compare_metadata(context, SQLModel.metadata)


def _version(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_empty_database_migrates_to_head_without_drift(empty_database_url):
    engine = make_engine(empty_database_url)
    try:
        assert _tables(engine) == set()
        migrate(empty_database_url)
        assert _version(engine) == _head()
        assert _tables(engine) >= APP_TABLES
        assert _search_objects(engine) >= _expected_search_objects(engine.dialect.name)
        assert _drift(engine) == []
        # Migrating again is a no-op.
        migrate(empty_database_url)
        assert _version(engine) == _head()
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_database_url):
    engine = make_engine(empty_database_url)
    config = alembic_config(empty_database_url)
    try:
        command.upgrade(config, "head")
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO workspace (slug, name, ingest_token, data_version, created_at)"
                    " VALUES ('acme', 'Acme', 'token', 0, CURRENT_TIMESTAMP)"
                )
            )
        command.downgrade(config, "base")
        assert _version(engine) is None
        assert _tables(engine) <= {"alembic_version"}
        assert _search_objects(engine) == set()

        command.upgrade(config, "head")
        assert _version(engine) == _head()
        assert _tables(engine) >= APP_TABLES
        assert _search_objects(engine) >= _expected_search_objects(engine.dialect.name)
        assert _drift(engine) == []
        with engine.connect() as connection:
            count = connection.execute(sa.text("SELECT count(*) FROM workspace")).scalar_one()
        assert count == 0
    finally:
        engine.dispose()


def test_the_migrated_template_matches_the_models(database_url):
    """What every other test runs on (the session's template / migrated schema) is head."""
    engine = make_engine(database_url)
    try:
        assert _version(engine) == _head()
        assert _drift(engine) == []
    finally:
        engine.dispose()


def test_autogenerate_leaves_out_only_the_hand_written_ddl():
    """alembic/env.py uses this very rule (it imports it)."""
    source = (Path(__file__).resolve().parents[2] / "alembic" / "env.py").read_text()
    assert "include_object=include_in_autogenerate" in source
    assert not include_object(None, "contact_search", "table", True, None)
    assert not include_object(None, "contact_search_data", "table", True, None)
    assert not include_object(None, "ix_contact_name_trgm", "index", True, None)
    assert not include_object(None, "ix_contact_ws_last_interaction_pg", "index", True, None)
    assert include_object(None, "contact", "table", True, None)
    assert include_object(None, "ix_contact_ws_name", "index", True, None)
