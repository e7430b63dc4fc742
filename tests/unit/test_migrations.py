"""Alembic owns the schema: an empty database migrates to head on both dialects, the
migrations describe exactly the models (no drift), SQLite (and PostgreSQL) can go down
to base and up again, and every revision upgrades a database full of data without losing
any of it (tests/unit/migration_helpers.py)."""

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
from tests.conftest import DIALECTS
from tests.unit.migration_helpers import (
    assert_nothing_lost,
    build_at,
    check_upgrade_keeps_data,
    fill_representative,
    fresh_database,
    snapshot,
    upgrade_to,
)

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


@pytest.fixture(params=DIALECTS)
def empty_database_url(request, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all: a new SQLite file, or PostgreSQL's public schema
    dropped and re-created (migrated again afterwards, for the tests that follow)."""
    yield from fresh_database(request, tmp_path)


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
    assert not include_object(None, "ix_contact_cf_n_0123456789abcdef", "index", True, None)


# --------------------------------------------------------------------------- upgrades with data


def _revision_steps() -> list[tuple[str, str]]:
    """(previous revision, revision) for every revision that has a previous one."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    steps = []
    for revision in script.walk_revisions():
        for previous in revision._normalized_down_revisions:
            steps.append((previous, revision.revision))
    return sorted(steps)


@pytest.mark.parametrize(("previous", "revision"), _revision_steps())
def test_every_revision_upgrades_a_full_database_without_losing_data(
    empty_database_url, previous, revision
):
    check_upgrade_keeps_data(empty_database_url, previous, revision)


UNIQUE_IDS = "6a45f45ff8c1"


def _insert(connection: sa.Connection, table: str, **values) -> int:
    columns = ", ".join(values)
    placeholders = ", ".join(f":{name}" for name in values)
    return connection.execute(
        sa.text(f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING id"),
        values,
    ).scalar_one()


def test_unique_ingestion_ids_backfills_every_message(empty_database_url):
    _, after = check_upgrade_keeps_data(empty_database_url, "7c29a6a99980", UNIQUE_IDS)
    conversations = after["conversation"]
    assert after["message"]
    for message in after["message"].values():
        owner = conversations[(message["conversation_id"],)]
        assert (message["workspace_id"], message["channel"]) == (
            owner["workspace_id"],
            owner["channel"],
        )


def test_unique_ingestion_ids_merges_the_duplicates_a_database_holds(empty_database_url):
    """Duplicates as the race made them (and as users then edited them): the oldest row
    of each group stays, everything that hung on the others moves to it, the rest of the
    data is untouched, and the unique indexes exist afterwards."""
    url = empty_database_url
    build_at(url, "7c29a6a99980")
    world = fill_representative(url)
    acme = world.workspaces["acme"]
    vip, lead, churned = (world.labels[n] for n in ("VIP", "Lead", "Churned"))
    t = [f"2026-11-0{day} 10:00:00" for day in range(1, 6)]
    engine = make_engine(url)
    with engine.begin() as connection:

        def contact(name, created, **values):
            defaults = {
                "workspace_id": acme,
                "name": name,
                "avatar_color": "teal",
                "channel": "whatsapp",
                "external_id": "wa-dup",
                "created_at": created,
                "updated_at": created,
                "campaign_opt_in": False,
                "custom_fields": "{}",
            }
            return _insert(connection, "contact", **{**defaults, **values})

        # The oldest (lowest id) has no email and an older last message.
        kept = contact(
            "Dana",
            t[1],
            phone="+34612000111",
            phone_digits="34612000111",
            last_interaction_at=t[1],
            last_message_text="first",
            last_message_direction="incoming",
            custom_fields='{"plan": "Pro", "company": "Old Co"}',
        )
        second = contact(
            "",
            t[0],
            email="dana@example.com",
            updated_at=t[4],
            last_interaction_at=t[3],
            last_message_text="latest",
            last_message_direction="outgoing",
            campaign_opt_in=True,
            custom_fields='{"plan": "Gold", "score": 9}',
        )
        third = contact("Dana Copy", t[2], image_url="https://img.example.com/d.png")
        # Same external id, other channel or workspace: not duplicates.
        other_channel = contact("Dana IG", t[2], channel="instagram")
        other_workspace = contact("Dana G", t[2], workspace_id=world.workspaces["globex"])
        for contact_id, label in ((kept, vip), (second, vip), (second, lead), (third, churned)):
            _insert_label = "INSERT INTO contact_label (contact_id, label_id) VALUES (:c, :l)"
            connection.execute(sa.text(_insert_label), {"c": contact_id, "l": label})
        conversations = {}
        for owner in (kept, second, third):
            conversations[owner] = _insert(
                connection,
                "conversation",
                workspace_id=acme,
                contact_id=owner,
                channel="whatsapp",
                status="open",
                created_at=t[0],
                updated_at=t[0],
                custom_fields='{"topic": "dup"}',
            )

        def message(conversation_id, external_id, text):
            return _insert(
                connection,
                "message",
                conversation_id=conversation_id,
                external_id=external_id,
                direction="incoming",
                text=text,
                sent_at=t[0],
            )

        first_copy = message(conversations[kept], "m-dup", "hello")
        later_copies = [
            message(conversations[second], "m-dup", "hello"),
            message(conversations[third], "m-dup", "hello"),
        ]
        own = message(conversations[second], "m-own", "only in the second")
        no_id = [message(conversations[third], None, "no id") for _ in range(2)]
    engine.dispose()
    before = snapshot(url)

    upgrade_to(url, UNIQUE_IDS)
    after = snapshot(url)

    # Everything that was not a duplicate is as it was.
    merged_away = {(second,), (third,)}
    assert_nothing_lost(
        before,
        after,
        removed={
            "contact": merged_away,
            "message": {(m,) for m in later_copies},
            "contact_label": {(second, vip), (second, lead), (third, churned)},
        },
        changed={
            "contact": {
                (kept,): {
                    "email",
                    "image_url",
                    "created_at",
                    "updated_at",
                    "last_interaction_at",
                    "last_message_text",
                    "last_message_direction",
                    "campaign_opt_in",
                    "custom_fields",
                }
            },
            "conversation": {(conversations[c],): {"contact_id"} for c in (second, third)},
        },
    )
    dana = after["contact"][(kept,)]
    assert (dana["name"], dana["email"], dana["phone"], dana["image_url"]) == (
        "Dana",
        "dana@example.com",
        "+34612000111",
        "https://img.example.com/d.png",
    )
    assert dana["custom_fields"] == {"plan": "Pro", "company": "Old Co", "score": 9}
    assert dana["created_at"] == before["contact"][(second,)]["created_at"]
    assert dana["updated_at"] == before["contact"][(second,)]["updated_at"]
    assert (dana["last_message_text"], dana["last_message_direction"]) == ("latest", "outgoing")
    assert dana["last_interaction_at"] == before["contact"][(second,)]["last_interaction_at"]
    assert dana["campaign_opt_in"] is True
    assert {label for (c, label) in after["contact_label"] if c == kept} == {vip, lead, churned}
    assert {conversations[c] for c in (kept, second, third)} == {
        key[0] for key, row in after["conversation"].items() if row["contact_id"] == kept
    }
    assert (other_channel,) in after["contact"] and (other_workspace,) in after["contact"]
    kept_messages = {m for (m,) in after["message"]}
    assert first_copy in kept_messages and own in kept_messages
    assert set(no_id) <= kept_messages

    # And from now on the database itself refuses a second copy.
    engine = make_engine(url)
    try:
        for statement in (
            "INSERT INTO contact (workspace_id, name, avatar_color, channel, external_id,"
            " created_at, updated_at, campaign_opt_in, custom_fields) VALUES"
            f" ({acme}, 'x', 'teal', 'whatsapp', 'wa-dup', '{t[0]}', '{t[0]}', false, '{{}}')",
            "INSERT INTO message (conversation_id, workspace_id, channel, external_id,"
            f" direction, text, sent_at) VALUES ({conversations[kept]}, {acme}, 'whatsapp',"
            f" 'm-dup', 'incoming', 'again', '{t[0]}')",
        ):
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def test_unique_ingestion_ids_downgrade_keeps_the_data(empty_database_url):
    check_upgrade_keeps_data(empty_database_url, "7c29a6a99980", UNIQUE_IDS)
    before = snapshot(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "7c29a6a99980")
    assert_nothing_lost(
        before, snapshot(empty_database_url), dropped={"message": {"workspace_id", "channel"}}
    )


NULLS_FIRST = "3f9c2d1a8b7e"


def test_last_interaction_order_index_on_postgresql(empty_database_url):
    """With data in it: the upgrade keeps every row and, on PostgreSQL, the page sorted by
    last interaction (NULL last, descending) reads the new index instead of sorting; the
    downgrade drops it. SQLite gets nothing (its index already sorts NULL first)."""
    from sqlalchemy.pool import NullPool

    check_upgrade_keeps_data(empty_database_url, "d7a3f5b9c1e2", NULLS_FIRST)
    engine = sa.create_engine(empty_database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if connection.dialect.name != "postgresql":
                names = connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE name LIKE '%_pg'"
                ).all()
                assert names == []
                return
            connection.exec_driver_sql("SET enable_seqscan = off")
            connection.exec_driver_sql("SET enable_sort = off")
            plan = "\n".join(
                row[0]
                for row in connection.exec_driver_sql(
                    "EXPLAIN SELECT id FROM contact WHERE workspace_id = 1 "
                    "ORDER BY last_interaction_at DESC NULLS LAST, id DESC LIMIT 10"
                )
            )
            assert "Index Scan Backward using ix_contact_ws_last_interaction_pg" in plan or (
                "Index Only Scan Backward using ix_contact_ws_last_interaction_pg" in plan
            ), plan
    finally:
        engine.dispose()
    downgrade_to = "d7a3f5b9c1e2"  # contact_merge, the revision before it
    from alembic import command
    from cloodot_app.db import alembic_config

    command.downgrade(alembic_config(empty_database_url), downgrade_to)
    engine = sa.create_engine(empty_database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            found = connection.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE indexname = "
                "'ix_contact_ws_last_interaction_pg'"
            ).all()
            assert found == []
    finally:
        engine.dispose()
