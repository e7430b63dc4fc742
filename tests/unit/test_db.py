"""Engine set-up and planner statistics."""

from __future__ import annotations

import sqlalchemy as sa

from cloodot_app.db import migrate, refresh_statistics


def test_first_refresh_analyzes_a_sqlite_database_that_has_no_statistics(tmp_path):
    url = f"sqlite:///{tmp_path / 'stats.db'}"
    migrate(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        has_stats = connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
        ).first()
    assert has_stats is None
    refresh_statistics(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
        ).first()
    engine.dispose()


def test_postgres_sorts_last_interaction_from_its_own_index(engine, dialect):
    with engine.connect() as connection:
        if dialect == "postgresql":
            definition = connection.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_contact_ws_last_interaction_pg'"
            ).scalar_one()
            assert "last_interaction_at NULLS FIRST" in definition
        else:
            assert not connection.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'ix_contact_ws_last_interaction_pg'"
            ).first()
