"""The import_job revision upgrades a database that already holds data and loses none of
it; the new table works with the old rows, and going down again keeps them (SQLite and
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

BEFORE = "488724613dd1"  # the revision before import_job
REVISION = "b5e1c3a7d2f4"


@pytest.fixture(params=DIALECTS)
def empty_database_url(request, tmp_path):
    yield from fresh_database(request, tmp_path)


def test_import_job_revision_keeps_every_row(empty_database_url):
    url = empty_database_url
    build_at(url, BEFORE)
    world = fill_representative(url)
    before = snapshot(url)
    engine = make_engine(url)
    try:
        upgrade_to(url, REVISION)
        assert "import_job" in sa.inspect(engine).get_table_names()
        assert_nothing_lost(before, snapshot(url))
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO import_job (workspace_id, file_name, status, on_duplicate,"
                    " total_rows, rows_done, created, updated, skipped, failed, problems,"
                    " message, started_at, heartbeat_at)"
                    " VALUES (:w, 'a.csv', 'done', 'skip', 2, 2, 2, 0, 0, 0, 0, '',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"w": next(iter(world.workspaces.values()))},
            )

        # And back: the job table goes, the rest stays.
        command.downgrade(alembic_config(url), BEFORE)
        assert "import_job" not in sa.inspect(engine).get_table_names()
        assert_nothing_lost(before, snapshot(url))
    finally:
        engine.dispose()
