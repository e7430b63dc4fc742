"""The bulk_edit revision upgrades a database that already holds data and loses none of
it; its tables work with the old rows, and going down again keeps them (SQLite and
PostgreSQL). The generic step test in test_migrations.py runs it too."""

from __future__ import annotations

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

BEFORE = "c4a9e2f1b7d3"  # channel_connection, the revision before bulk_edit
REVISION = "c4d8e2f1a9b3"


@pytest.fixture(params=DIALECTS)
def empty_database_url(request, tmp_path):
    yield from fresh_database(request, tmp_path)


def test_bulk_edit_revision_keeps_every_row(empty_database_url):
    url = empty_database_url
    build_at(url, BEFORE)
    world = fill_representative(url)
    before = snapshot(url)
    engine = make_engine(url)
    try:
        upgrade_to(url, REVISION)
        tables = sa.inspect(engine).get_table_names()
        assert {"bulk_edit", "bulk_edit_change"} <= set(tables)
        assert_nothing_lost(before, snapshot(url))
        with engine.begin() as connection:
            workspace = next(iter(world.workspaces.values()))
            contact = connection.execute(
                sa.text("SELECT id FROM contact WHERE workspace_id = :w LIMIT 1"), {"w": workspace}
            ).scalar_one()
            edit = connection.execute(
                sa.text(
                    "INSERT INTO bulk_edit (workspace_id, action, field_key, value, selected,"
                    " summary, status, done, changed, started_at)"
                    " VALUES (:w, 'set_opt_in', '', '{\"value\": true}', 1, 'Turn opt-in on',"
                    " 'done', 1, 1, CURRENT_TIMESTAMP) RETURNING id"
                ),
                {"w": workspace},
            ).scalar_one()
            connection.execute(
                sa.text(
                    "INSERT INTO bulk_edit_change (bulk_edit_id, contact_id, old)"
                    " VALUES (:e, :c, '{\"value\": false}')"
                ),
                {"e": edit, "c": contact},
            )

        # And back: the bulk edit tables go, the rest stays.
        command.downgrade(alembic_config(url), BEFORE)
        tables = sa.inspect(engine).get_table_names()
        assert "bulk_edit" not in tables and "bulk_edit_change" not in tables
        assert_nothing_lost(before, snapshot(url))
    finally:
        engine.dispose()
