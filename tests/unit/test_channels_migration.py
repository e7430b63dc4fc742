"""The channel_connection revision upgrades a database that already holds data and loses
none of it; connections then work against the old workspaces and users (the key is
unique, a workspace's deletion takes its connections, a user's keeps them), and going
down again keeps every other row (SQLite and PostgreSQL). The generic step test in
test_migrations.py runs it too."""

from __future__ import annotations

import json

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

BEFORE = "c7a4e2d9f1b3"  # contact_note, the revision before channel_connection
REVISION = "c4a9e2f1b7d3"

INSERT = sa.text(
    "INSERT INTO channel_connection (workspace_id, kind, name, key, verify_token, app_secret,"
    " allowed_origins, ask_details, created_by, created_at)"
    " VALUES (:w, :kind, 'Acme', :key, 'token', :secret, :origins, :ask, :user,"
    " CURRENT_TIMESTAMP)"
)


@pytest.fixture(params=DIALECTS)
def empty_database_url(request, tmp_path):
    yield from fresh_database(request, tmp_path)


def test_channel_connection_revision_keeps_every_row(empty_database_url):
    url = empty_database_url
    build_at(url, BEFORE)
    world = fill_representative(url)
    before = snapshot(url)
    engine = make_engine(url)
    try:
        upgrade_to(url, REVISION)
        assert "channel_connection" in sa.inspect(engine).get_table_names()
        assert_nothing_lost(before, snapshot(url))
        acme, globex = world.workspaces["acme"], world.workspaces["globex"]
        with engine.begin() as connection:
            user = connection.execute(
                sa.text(
                    'INSERT INTO "user" (email, name, password_hash, created_at)'
                    " VALUES ('ada@acme.example', 'Ada', '!', CURRENT_TIMESTAMP) RETURNING id"
                )
            ).scalar_one()
            rows = [
                {
                    "w": acme,
                    "kind": "whatsapp",
                    "key": "k1",
                    "secret": "s" * 32,
                    "origins": "[]",
                    "ask": True,
                    "user": user,
                },
                {
                    "w": globex,
                    "kind": "webchat",
                    "key": "k2",
                    "secret": "",
                    "origins": '["https://www.globex.example"]',
                    "ask": False,
                    "user": None,
                },
            ]
            for row in rows:
                connection.execute(INSERT, row)
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(INSERT, rows[0] | {"w": globex})  # the same key again
        with engine.begin() as connection:
            origins = connection.execute(
                sa.text("SELECT allowed_origins FROM channel_connection WHERE key = 'k2'")
            ).scalar_one()
            if isinstance(origins, str):  # SQLite hands JSON back as text
                origins = json.loads(origins)
            assert origins == ["https://www.globex.example"]
            connection.execute(sa.text('DELETE FROM "user" WHERE id = :u'), {"u": user})
            kept = connection.execute(
                sa.text("SELECT created_by FROM channel_connection WHERE key = 'k1'")
            ).scalar_one()
            assert kept is None
            connection.execute(sa.text("DELETE FROM workspace WHERE id = :w"), {"w": acme})
            keys = connection.execute(sa.text("SELECT key FROM channel_connection")).scalars()
            assert list(keys) == ["k2"]

        # And back: the table goes, the rest stays.
        command.downgrade(alembic_config(url), BEFORE)
        assert "channel_connection" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
