"""The contact_merge revision upgrades a database that already holds data and loses none
of it; the duplicate finder's indexes exist and serve its queries; going down again keeps
every row (SQLite and PostgreSQL). The generic step test in test_migrations.py runs it too."""

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

BEFORE = "c4d8e2f1a9b3"  # bulk_edit
REVISION = "d7a3f5b9c1e2"


@pytest.fixture(params=DIALECTS)
def empty_database_url(request, tmp_path):
    yield from fresh_database(request, tmp_path)


def _indexes(engine: sa.Engine) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contact'"
        else:
            query = "SELECT indexname FROM pg_indexes WHERE tablename = 'contact'"
        return set(connection.exec_driver_sql(query).scalars())


def test_contact_merge_revision_keeps_every_row(empty_database_url):
    url = empty_database_url
    build_at(url, BEFORE)
    world = fill_representative(url)
    before = snapshot(url)
    engine = make_engine(url)
    tail = "ix_contact_ws_phone_tail" + ("" if engine.dialect.name == "sqlite" else "_pg")
    try:
        upgrade_to(url, REVISION)
        assert "contact_merge" in sa.inspect(engine).get_table_names()
        assert {"ix_contact_ws_phone_digits", tail} <= _indexes(engine)
        assert_nothing_lost(before, snapshot(url))
        workspace = next(iter(world.workspaces.values()))
        with engine.begin() as connection:
            contact = connection.execute(
                sa.text("SELECT id FROM contact WHERE workspace_id = :w LIMIT 1"), {"w": workspace}
            ).scalar_one()
            insert = sa.text(
                "INSERT INTO contact_merge (workspace_id, contact_id, merged_contact_id, name,"
                " channel, external_id, created_at)"
                " VALUES (:w, :c, 999, 'Old', 'instagram', 'ig-9', CURRENT_TIMESTAMP)"
            )
            connection.execute(insert, {"w": workspace, "c": contact})
        # A channel id belongs to one merged contact only.
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(insert, {"w": workspace, "c": contact})

        command.downgrade(alembic_config(url), BEFORE)
        assert "contact_merge" not in sa.inspect(engine).get_table_names()
        assert not {"ix_contact_ws_phone_digits", tail} & _indexes(engine)
        assert_nothing_lost(before, snapshot(url))
    finally:
        engine.dispose()
