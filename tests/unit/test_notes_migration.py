"""The contact_note revision upgrades a database that already holds data and loses none of
it; notes can then be written on the old contacts, go with their contact, keep their text
when the author is deleted, and going down again keeps every other row (SQLite and
PostgreSQL). The generic step test in test_migrations.py runs it too."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from alembic import command
from cloodot_app.db import alembic_config, make_engine
from tests.conftest import DIALECTS
from tests.unit.migration_helpers import (
    T0,
    assert_nothing_lost,
    build_at,
    fill_representative,
    fresh_database,
    snapshot,
    upgrade_to,
)

BEFORE = "c3d9e2f1a6b8"  # segment_daily_count, the revision before contact_note
REVISION = "c7a4e2d9f1b3"


@pytest.fixture(params=DIALECTS)
def empty_database_url(request, tmp_path):
    yield from fresh_database(request, tmp_path)


def test_contact_note_revision_keeps_every_row_and_holds_notes(empty_database_url):
    url = empty_database_url
    build_at(url, BEFORE)
    world = fill_representative(url)
    before = snapshot(url)
    engine = make_engine(url)
    try:
        upgrade_to(url, REVISION)
        assert "contact_note" in sa.inspect(engine).get_table_names()
        assert_nothing_lost(before, snapshot(url))

        acme = world.workspaces["acme"]
        first, second = list(world.contacts.values())[:2]
        with engine.begin() as connection:
            author = connection.execute(
                sa.text(
                    'INSERT INTO "user" (email, name, password_hash, created_at)'
                    " VALUES ('ann@acme.example', 'Ann', '!', :t) RETURNING id"
                ),
                {"t": T0},
            ).scalar_one()
            for contact, body in ((first, "¿Llamar el lunes? 👋"), (second, "x" * 5000)):
                connection.execute(
                    sa.text(
                        "INSERT INTO contact_note (workspace_id, contact_id, author_user_id,"
                        " body, created_at) VALUES (:w, :c, :a, :b, :t)"
                    ),
                    {"w": acme, "c": contact, "a": author, "b": body, "t": T0},
                )
        with engine.begin() as connection:
            # The author leaves: the notes stay, without an author.
            connection.execute(sa.text('DELETE FROM "user" WHERE id = :a'), {"a": author})
            # A contact is deleted: its notes go with it.
            connection.execute(sa.text("DELETE FROM contact WHERE id = :c"), {"c": second})
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT contact_id, author_user_id, body FROM contact_note")
            ).all()
        assert [tuple(row) for row in rows] == [(first, None, "¿Llamar el lunes? 👋")]

        # And back: the notes table goes, the rest stays (but the deleted contact).
        after_notes = snapshot(url)
        command.downgrade(alembic_config(url), BEFORE)
        assert "contact_note" not in sa.inspect(engine).get_table_names()
        after_notes.pop("contact_note")
        assert_nothing_lost(after_notes, snapshot(url))
    finally:
        engine.dispose()
