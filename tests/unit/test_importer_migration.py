"""The import_job revision upgrades a database that already holds data, and loses none of it
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic import command
from cloodot_app.db import alembic_config, make_engine, migrate

BEFORE = "7c29a6a99980"  # the revision before import_job
REVISION = "b5e1c3a7d2f4"

ROWS = {
    "workspace": "SELECT id, slug, name, ingest_token, data_version FROM workspace ORDER BY id",
    "contact": "SELECT id, workspace_id, name, email, phone, channel, custom_fields"
    " FROM contact ORDER BY id",
    "label": "SELECT id, workspace_id, name, color FROM label ORDER BY id",
    "contact_label": "SELECT contact_id, label_id FROM contact_label ORDER BY contact_id",
    "custom_field_definition": "SELECT id, key, type, options FROM custom_field_definition",
}


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def empty_url(request, tmp_path: Path) -> Iterator[str]:
    """No tables at all (PostgreSQL's schema is migrated to head again afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'before.db'}"
        return
    admin: sa.Engine = request.getfixturevalue("postgres_admin_engine")
    url = admin.url.render_as_string(hide_password=False)

    def reset() -> None:
        with admin.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))

    reset()
    try:
        yield url
    finally:
        reset()
        migrate(url)


def _fill(connection: sa.Connection) -> None:
    """Rows written with the previous revision's columns (plain SQL, not today's models)."""
    connection.execute(
        sa.text(
            "INSERT INTO workspace (id, slug, name, ingest_token, data_version, created_at)"
            " VALUES (1, 'acme', 'Acme', 'tok-1', 7, CURRENT_TIMESTAMP)"
        )
    )
    for contact_id, name, email in ((1, "Ana", "ana@example.com"), (2, "Bob", None)):
        connection.execute(
            sa.text(
                "INSERT INTO contact (id, workspace_id, name, email, phone, avatar_color,"
                " channel, created_at, updated_at, campaign_opt_in, custom_fields)"
                " VALUES (:id, 1, :name, :email, '+34612000111', 'indigo', 'imported',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false, :custom)"
            ),
            {"id": contact_id, "name": name, "email": email, "custom": '{"plan": "Pro"}'},
        )
    connection.execute(
        sa.text("INSERT INTO label (id, workspace_id, name, color) VALUES (1, 1, 'VIP', 'red')")
    )
    connection.execute(sa.text("INSERT INTO contact_label (contact_id, label_id) VALUES (1, 1)"))
    connection.execute(
        sa.text(
            "INSERT INTO custom_field_definition"
            " (id, workspace_id, entity, key, label, type, options, position)"
            " VALUES (1, 1, 'contact', 'plan', 'Plan', 'select', '[\"Free\", \"Pro\"]', 0)"
        )
    )


def _snapshot(engine: sa.Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            table: [tuple(r) for r in connection.execute(sa.text(q))] for table, q in ROWS.items()
        }


def test_import_job_revision_keeps_every_row(empty_url):
    engine = make_engine(empty_url)
    config = alembic_config(empty_url)
    try:
        command.upgrade(config, BEFORE)
        with engine.begin() as connection:
            _fill(connection)
        before = _snapshot(engine)
        assert len(before["contact"]) == 2 and before["contact_label"] == [(1, 1)]

        command.upgrade(config, REVISION)
        assert "import_job" in sa.inspect(engine).get_table_names()
        assert _snapshot(engine) == before
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO import_job (workspace_id, file_name, status, on_duplicate,"
                    " total_rows, rows_done, created, updated, skipped, failed, problems,"
                    " message, started_at, heartbeat_at)"
                    " VALUES (1, 'a.csv', 'done', 'skip', 2, 2, 2, 0, 0, 0, 0, '',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )

        # And back: the job table goes, the rest stays.
        command.downgrade(config, BEFORE)
        assert "import_job" not in sa.inspect(engine).get_table_names()
        assert _snapshot(engine) == before
    finally:
        engine.dispose()
