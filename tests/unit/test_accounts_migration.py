"""The accounts revision upgrades a database that already holds contacts, labels, segments,
conversations and messages: nothing is lost, the new tables arrive empty and usable with
the old rows, and it goes down again keeping the data (the generic upgrade test in
test_migrations.py runs it too; this one adds what is particular to it)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from alembic import command
from cloodot_app.db import alembic_config, make_engine
from tests.conftest import DIALECTS
from tests.unit.migration_helpers import (
    assert_nothing_lost,
    build_at,
    fill_representative,
    fresh_database,
    snapshot,
    upgrade_to,
)

PREVIOUS = "6a45f45ff8c1"
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


@pytest.fixture(params=DIALECTS)
def empty_database_url(request, tmp_path):
    yield from fresh_database(request, tmp_path)


def test_upgrading_a_database_with_data_loses_nothing(empty_database_url):
    url = empty_database_url
    build_at(url, PREVIOUS)
    world = fill_representative(url)
    before = snapshot(url)
    engine = make_engine(url)
    try:
        assert not NEW_TABLES & set(sa.inspect(engine).get_table_names())
        upgrade_to(url, ACCOUNTS)
        assert_nothing_lost(before, snapshot(url))
        assert set(sa.inspect(engine).get_table_names()) >= NEW_TABLES

        # The new tables work with the old rows: a member of an existing workspace, an
        # opt-in change of an existing contact.
        workspace_id = next(iter(world.workspaces.values()))
        contact_id = next(iter(world.contacts.values()))
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
                    " VALUES (:u, :w, 'admin', :at)"
                ),
                {"u": user_id, "w": workspace_id, "at": AT},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO consent_change (workspace_id, contact_id, old_value,"
                    " new_value, source, actor_user_id, created_at)"
                    " VALUES (:w, :c, true, false, 'agent', :u, :at)"
                ),
                {"w": workspace_id, "c": contact_id, "u": user_id, "at": AT},
            )

        command.downgrade(alembic_config(url), PREVIOUS)
        assert_nothing_lost(before, snapshot(url))
        assert not NEW_TABLES & set(sa.inspect(engine).get_table_names())

        upgrade_to(url, "head")
        assert_nothing_lost(before, snapshot(url))
    finally:
        engine.dispose()
