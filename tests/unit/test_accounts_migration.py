"""The accounts revision upgrades a database that already holds contacts, labels, segments
and conversations: nothing is lost, the new tables arrive empty and usable, and it goes
down again keeping the data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic import command
from cloodot_app.db import alembic_config, make_engine, migrate

PREVIOUS = "7c29a6a99980"
ACCOUNTS = "488724613dd1"
NEW_TABLES = {
    "user",
    "membership",
    "auth_session",
    "invitation",
    "password_reset",
    "audit_entry",
    "consent_change",
    "export_ticket_use",
}
AT = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)

# Rows of the previous revision's tables, in foreign-key order.
ROWS: dict[str, list[dict[str, Any]]] = {
    "workspace": [
        {"id": 1, "slug": "acme", "name": "Acme", "ingest_token": "tok-acme",
         "data_version": 7, "created_at": AT},
    ],
    "contact": [
        {"id": 10, "workspace_id": 1, "name": "Zoë Ángel", "email": "zoe@acme.example",
         "phone": "+14155550123", "phone_digits": "14155550123", "image_url": None,
         "avatar_color": "plum", "channel": "whatsapp", "external_id": "wa-1",
         "created_at": AT, "updated_at": AT, "last_interaction_at": AT,
         "last_message_text": "Hola", "last_message_direction": "incoming",
         "campaign_opt_in": True, "custom_fields": {"tier": "gold", "score": 4}},
        {"id": 11, "workspace_id": 1, "name": "Bo", "email": None, "phone": None,
         "phone_digits": None, "image_url": None, "avatar_color": "indigo",
         "channel": "imported", "external_id": None, "created_at": AT, "updated_at": AT,
         "last_interaction_at": None, "last_message_text": None,
         "last_message_direction": None, "campaign_opt_in": False, "custom_fields": {}},
    ],
    "label": [{"id": 20, "workspace_id": 1, "name": "VIP", "color": "gold"}],
    "contact_label": [{"contact_id": 10, "label_id": 20}],
    "custom_field_definition": [
        {"id": 30, "workspace_id": 1, "entity": "contact", "key": "tier", "label": "Tier",
         "type": "select", "options": ["gold", "silver"], "position": 0},
    ],
    "segment": [
        {"id": 40, "workspace_id": 1, "name": "Gold", "description": "", "color": "blue",
         "filter_spec": {"join": "all", "conditions": [
             {"field": "cf.tier", "operator": "is", "value": "gold"}]},
         "position": 0, "on_board": True, "created_at": AT, "updated_at": AT},
    ],
    "conversation": [
        {"id": 50, "workspace_id": 1, "contact_id": 10, "channel": "whatsapp",
         "status": "open", "created_at": AT, "updated_at": AT, "custom_fields": {}},
    ],
    "message": [
        {"id": 60, "conversation_id": 50, "external_id": "m-1", "direction": "incoming",
         "text": "Hola", "sent_at": AT},
    ],
}  # fmt: skip


def _reset_postgres(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))


def _fix_sequences(connection: sa.Connection, tables: dict[str, sa.Table]) -> None:
    """Explicit ids do not advance PostgreSQL's sequences; move them past the rows."""
    for name, table in tables.items():
        if "id" in table.c and name in ROWS:
            connection.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'),"
                    f' (SELECT max(id) FROM "{name}"))'
                )
            )


def build_database_at(url: str, revision: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Migrate an empty database to `revision` and insert `rows` through that revision's
    own tables (reflected, so the current models play no part)."""
    command.upgrade(alembic_config(url), revision)
    engine = make_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.begin() as connection:
            for name, table_rows in rows.items():
                connection.execute(metadata.tables[name].insert(), table_rows)
            if engine.dialect.name == "postgresql":
                _fix_sequences(connection, dict(metadata.tables))
    finally:
        engine.dispose()


def snapshot(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of the previous revision's tables, in a comparable form."""
    metadata = sa.MetaData()
    metadata.reflect(engine, only=list(ROWS))
    with engine.connect() as connection:
        return {
            name: sorted(
                tuple(_comparable(value) for value in row)
                for row in connection.execute(sa.select(metadata.tables[name]))
            )
            for name in ROWS
        }


def _comparable(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(UTC)
    return value


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def empty_url(request, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'previous.db'}"
        return
    admin: sa.Engine = request.getfixturevalue("postgres_admin_engine")
    url = admin.url.render_as_string(hide_password=False)
    _reset_postgres(admin)
    try:
        yield url
    finally:
        _reset_postgres(admin)
        migrate(url)  # the tests that follow expect a migrated schema


def test_upgrading_a_database_with_data_loses_nothing(empty_url):
    build_database_at(empty_url, PREVIOUS, ROWS)
    engine = make_engine(empty_url)
    try:
        before = snapshot(engine)
        assert sum(len(rows) for rows in before.values()) == 9
        assert not NEW_TABLES & set(sa.inspect(engine).get_table_names())

        command.upgrade(alembic_config(empty_url), ACCOUNTS)
        assert snapshot(engine) == before
        assert set(sa.inspect(engine).get_table_names()) >= NEW_TABLES

        # The new tables work with the old rows: a member of the existing workspace, an
        # audit entry, an opt-in change of the existing contact.
        with engine.begin() as connection:
            user_id = connection.execute(
                sa.text(
                    'INSERT INTO "user" (email, name, password_hash, created_at)'
                    " VALUES ('ada@acme.example', 'Ada', '!x', :at) RETURNING id"
                ),
                {"at": AT},
            ).scalar_one()
            connection.execute(
                sa.text(
                    "INSERT INTO membership (user_id, workspace_id, role, created_at)"
                    " VALUES (:u, 1, 'admin', :at)"
                ),
                {"u": user_id, "at": AT},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO consent_change (workspace_id, contact_id, old_value,"
                    " new_value, source, actor_user_id, created_at)"
                    " VALUES (1, 10, true, false, 'agent', :u, :at)"
                ),
                {"u": user_id, "at": AT},
            )

        command.downgrade(alembic_config(empty_url), PREVIOUS)
        assert snapshot(engine) == before
        assert not NEW_TABLES & set(sa.inspect(engine).get_table_names())

        command.upgrade(alembic_config(empty_url), "head")
        assert snapshot(engine) == before
    finally:
        engine.dispose()
