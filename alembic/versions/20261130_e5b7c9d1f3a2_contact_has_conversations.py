"""contact.has_conversations, kept by the database, and an index for "no reply in N days"

"Has conversations" was `EXISTS (SELECT 1 FROM conversation WHERE contact_id = contact.id)`:
one probe of the conversation index per candidate contact. The demo segment "No reply in
7 days" (last interaction more than 7 days ago AND has conversations) matches 727k of a
million contacts, so its count probed 727k times (0.8 s on a quiet machine, several
seconds under load: most of the Segments page's and the Leads board's cold time, issue 10).

Now the flag is a column, and `(workspace_id, has_conversations, last_interaction_at)`
answers that segment's count from one index range. The database keeps the flag true
exactly when a conversation of the contact exists, whoever writes: triggers on conversation
(insert, delete, a conversation moved to another contact by a merge). So ingestion, merges,
imports, the demo loader and any hand-written SQL need no code of their own for it.

- SQLite: row triggers (the only kind).
- PostgreSQL: statement triggers with transition tables for insert and delete (one UPDATE
  per statement, so a COPY of a million conversations or a bulk delete is one join, not a
  million function calls), a row trigger for the rare move.

Revision ID: e5b7c9d1f3a2
Revises: 3f9c2d1a8b7e
Create Date: 2026-11-30 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "e5b7c9d1f3a2"
down_revision: str | None = "3f9c2d1a8b7e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_contact_ws_conversations_last_interaction"
COLUMNS = ["workspace_id", "has_conversations", "last_interaction_at"]

# Clear the flag of `contact_ids` that have no conversation left.
_CLEAR = """UPDATE contact SET has_conversations = {false}
    WHERE id IN ({contact_ids}) AND has_conversations = {true}
      AND NOT EXISTS (SELECT 1 FROM conversation WHERE conversation.contact_id = contact.id)"""

SQLITE_TRIGGERS: dict[str, str] = {
    "conversation_presence_ai": """CREATE TRIGGER conversation_presence_ai
    AFTER INSERT ON conversation BEGIN
        UPDATE contact SET has_conversations = 1
        WHERE id = new.contact_id AND has_conversations = 0;
    END""",
    "conversation_presence_ad": f"""CREATE TRIGGER conversation_presence_ad
    AFTER DELETE ON conversation BEGIN
        {_CLEAR.format(false=0, true=1, contact_ids="old.contact_id")};
    END""",
    "conversation_presence_au": f"""CREATE TRIGGER conversation_presence_au
    AFTER UPDATE OF contact_id ON conversation
    WHEN old.contact_id IS NOT new.contact_id BEGIN
        UPDATE contact SET has_conversations = 1
        WHERE id = new.contact_id AND has_conversations = 0;
        {_CLEAR.format(false=0, true=1, contact_ids="old.contact_id")};
    END""",
}

POSTGRES_FUNCTIONS: dict[str, str] = {
    "conversation_presence_inserted": """CREATE FUNCTION conversation_presence_inserted()
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE contact SET has_conversations = true
        WHERE id IN (SELECT contact_id FROM inserted_rows) AND NOT has_conversations;
        RETURN NULL;
    END $$""",
    "conversation_presence_deleted": f"""CREATE FUNCTION conversation_presence_deleted()
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_CLEAR.format(false="false", true="true", contact_ids="SELECT contact_id FROM deleted_rows")};
        RETURN NULL;
    END $$""",
    "conversation_presence_moved": f"""CREATE FUNCTION conversation_presence_moved()
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE contact SET has_conversations = true
        WHERE id = NEW.contact_id AND NOT has_conversations;
        {_CLEAR.format(false="false", true="true", contact_ids="OLD.contact_id")};
        RETURN NULL;
    END $$""",
}

POSTGRES_TRIGGERS: dict[str, str] = {
    "conversation_presence_ai": """CREATE TRIGGER conversation_presence_ai
    AFTER INSERT ON conversation REFERENCING NEW TABLE AS inserted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION conversation_presence_inserted()""",
    "conversation_presence_ad": """CREATE TRIGGER conversation_presence_ad
    AFTER DELETE ON conversation REFERENCING OLD TABLE AS deleted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION conversation_presence_deleted()""",
    "conversation_presence_au": """CREATE TRIGGER conversation_presence_au
    AFTER UPDATE OF contact_id ON conversation FOR EACH ROW
    WHEN (OLD.contact_id IS DISTINCT FROM NEW.contact_id)
    EXECUTE FUNCTION conversation_presence_moved()""",
}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "contact",
        sa.Column("has_conversations", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # The contacts that have conversations now (the triggers keep it true from here on).
    op.execute(
        "UPDATE contact SET has_conversations = "
        + ("true" if postgres else "1")
        + " WHERE EXISTS (SELECT 1 FROM conversation WHERE conversation.contact_id = contact.id)"
    )
    op.create_index(INDEX, "contact", COLUMNS)
    if not postgres and _analyzed(op.get_bind()):
        # Statistics for the new index (0.2 s at a million contacts). Without them SQLite's
        # planner took it for the best index of every workspace-wide query, and label
        # filters got 5-10x slower until the next ANALYZE. A database never analysed is
        # left so: statistics for one index alone would skew the others.
        op.execute(f"ANALYZE {INDEX}")
    if postgres:
        for statement in (*POSTGRES_FUNCTIONS.values(), *POSTGRES_TRIGGERS.values()):
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)


def _analyzed(connection: sa.Connection) -> bool:
    return bool(
        connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
        ).first()
    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON conversation" if postgres else ""))
    if postgres:
        for name in POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index(INDEX, table_name="contact")
    # Plain ALTER (SQLite 3.35+ too): a batch copy of `contact` would drop its search triggers.
    op.execute("ALTER TABLE contact DROP COLUMN has_conversations")
