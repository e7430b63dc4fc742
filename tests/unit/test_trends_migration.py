"""The segment_daily_count revision upgrades a database that already holds data and loses
none of it, invents no history (the new table starts empty), takes counts for the old
segments, and going down again keeps everything else (SQLite and PostgreSQL)."""

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

BEFORE = "b5e1c3a7d2f4"  # the revision before segment_daily_count
REVISION = "c3d9e2f1a6b8"


@pytest.fixture(params=DIALECTS)
def empty_database_url(request, tmp_path):
    yield from fresh_database(request, tmp_path)


def test_segment_daily_count_revision_keeps_every_row(empty_database_url):
    url = empty_database_url
    build_at(url, BEFORE)
    fill_representative(url)
    before = snapshot(url)
    engine = make_engine(url)
    try:
        upgrade_to(url, REVISION)
        assert_nothing_lost(before, snapshot(url))
        with engine.begin() as connection:
            # No history is invented for the days before the upgrade.
            assert (
                connection.execute(sa.text("SELECT count(*) FROM segment_daily_count")).scalar_one()
                == 0
            )
            segment_id, workspace_id = connection.execute(
                sa.text("SELECT id, workspace_id FROM segment ORDER BY id")
            ).first()
            insert = sa.text(
                "INSERT INTO segment_daily_count (segment_id, day, workspace_id, count, counted_at)"
                " VALUES (:s, :d, :w, :c, CURRENT_TIMESTAMP)"
            )
            connection.execute(
                insert, {"s": segment_id, "d": "2026-11-30", "w": workspace_id, "c": 4}
            )
        # One row per segment and day: the upsert's conflict target exists.
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(
                insert, {"s": segment_id, "d": "2026-11-30", "w": workspace_id, "c": 5}
            )

        # And back: the counts go, the rest stays.
        command.downgrade(alembic_config(url), BEFORE)
        assert "segment_daily_count" not in sa.inspect(engine).get_table_names()
        assert_nothing_lost(before, snapshot(url))
    finally:
        engine.dispose()
