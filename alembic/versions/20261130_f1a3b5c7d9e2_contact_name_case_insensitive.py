"""Contacts sorted by name regardless of case, served by an index

Sorting by name compared bytes: "alice" came after "Zoe", and every lower-case name
after every capitalised one. The table now sorts by lower(name), then id, and this
expression index (workspace_id, lower(name), id) serves that order on both databases,
so a page of a million contacts sorted by name is still a walk of an index, not a sort.
(SQLite's lower() folds ASCII letters only; PostgreSQL's follows the database's locale.)

Named *_ci and written by hand, like the other expression indexes: outside the models'
comparison (search_index.include_in_autogenerate).

Revision ID: f1a3b5c7d9e2
Revises: e5b7c9d1f3a2
Create Date: 2026-11-30 13:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f1a3b5c7d9e2"
down_revision: str | None = "e5b7c9d1f3a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_contact_ws_name_ci"


def upgrade() -> None:
    op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON contact (workspace_id, lower(name), id)")
    bind = op.get_bind()
    if (
        bind.dialect.name == "sqlite"
        and bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
        ).first()
    ):
        # Statistics for the new index only (see revision e5b7c9d1f3a2 for why).
        op.execute(f"ANALYZE {INDEX}")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
