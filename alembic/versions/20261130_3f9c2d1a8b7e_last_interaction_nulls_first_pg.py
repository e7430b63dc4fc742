"""PostgreSQL: last-interaction order served by an index (NULLS FIRST)

All Contacts and the Leads board sort by last interaction; the column is nullable and the
app sorts NULL first ascending / last descending on both databases (as SQLite does), so
PostgreSQL's plain ascending index (NULLS LAST) could not return that order: it read
every contact and sorted (~100 ms at a million contacts, issue 10). This index is
(workspace_id, last_interaction_at ASC NULLS FIRST, id): read forwards it is the ascending
order, backwards the descending one (DESC NULLS LAST). PostgreSQL only (named *_pg, so
outside the models' comparison); SQLite's existing index already sorts NULL first.

Revision ID: 3f9c2d1a8b7e
Revises: d7a3f5b9c1e2
Create Date: 2026-11-30 11:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3f9c2d1a8b7e"
down_revision: str | None = "d7a3f5b9c1e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_contact_ws_last_interaction_pg"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON contact "
        "(workspace_id, last_interaction_at ASC NULLS FIRST, id)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
