"""The substring-search index over contacts' name, email and phone digits, in one place.

`LIKE '%x%'` scans the table (most of a second at a million contacts), so SQLite gets an
FTS5 trigram table kept in sync by triggers and PostgreSQL gets pg_trgm GIN indexes that
serve ILIKE directly. The initial migration creates them; the demo-data loader
(cloodot_app.seed) drops the SQLite triggers for a bulk load and puts them back with the
very same SQL afterwards, then rebuilds the index once instead of once per row.
"""

from __future__ import annotations

import sqlalchemy as sa

SQLITE_SEARCH_TABLE = """CREATE VIRTUAL TABLE contact_search USING fts5(
        name, email, phone_digits,
        content='contact', content_rowid='id', tokenize='trigram')"""

# Trigger name -> the exact statement that creates it.
SQLITE_SEARCH_TRIGGERS: dict[str, str] = {
    "contact_search_ai": """CREATE TRIGGER contact_search_ai AFTER INSERT ON contact BEGIN
        INSERT INTO contact_search(rowid, name, email, phone_digits)
        VALUES (new.id, new.name, new.email, new.phone_digits);
    END""",
    "contact_search_ad": """CREATE TRIGGER contact_search_ad AFTER DELETE ON contact BEGIN
        INSERT INTO contact_search(contact_search, rowid, name, email, phone_digits)
        VALUES ('delete', old.id, old.name, old.email, old.phone_digits);
    END""",
    "contact_search_au": """CREATE TRIGGER contact_search_au AFTER UPDATE OF name, email, phone_digits ON contact
    BEGIN
        INSERT INTO contact_search(contact_search, rowid, name, email, phone_digits)
        VALUES ('delete', old.id, old.name, old.email, old.phone_digits);
        INSERT INTO contact_search(rowid, name, email, phone_digits)
        VALUES (new.id, new.name, new.email, new.phone_digits);
    END""",
}

# What the migration runs on SQLite, in order.
SQLITE_SEARCH: list[str] = [SQLITE_SEARCH_TABLE, *SQLITE_SEARCH_TRIGGERS.values()]

POSTGRES_TRGM_INDEXES: dict[str, str] = {
    "ix_contact_name_trgm": "CREATE INDEX ix_contact_name_trgm ON contact USING gin (name gin_trgm_ops)",
    "ix_contact_email_trgm": "CREATE INDEX ix_contact_email_trgm ON contact USING gin (email gin_trgm_ops)",
    "ix_contact_phone_digits_trgm": (
        "CREATE INDEX ix_contact_phone_digits_trgm ON contact USING gin (phone_digits gin_trgm_ops)"
    ),
}

# What the migration runs on PostgreSQL, in order.
POSTGRES_SEARCH: list[str] = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    *POSTGRES_TRGM_INDEXES.values(),
]


def drop_sqlite_triggers(connection: sa.Connection) -> None:
    for name in SQLITE_SEARCH_TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def create_sqlite_triggers(connection: sa.Connection) -> None:
    """Create whichever of the three triggers is missing (with the migration's SQL)."""
    existing = set(
        connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'contact'"
        ).scalars()
    )
    for name, statement in SQLITE_SEARCH_TRIGGERS.items():
        if name not in existing:
            connection.exec_driver_sql(statement)


def sqlite_triggers_missing(connection: sa.Connection) -> bool:
    existing = set(
        connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'contact'"
        ).scalars()
    )
    return not set(SQLITE_SEARCH_TRIGGERS) <= existing


def rebuild_sqlite_index(connection: sa.Connection) -> None:
    """Re-read every contact row into the FTS5 index (after a load without triggers)."""
    connection.exec_driver_sql("INSERT INTO contact_search(contact_search) VALUES('rebuild')")


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object: leave the hand-written DDL above (the FTS5 table, the
    pg_trgm indexes), PostgreSQL-only indexes (named *_pg), the case-insensitive name
    index (*_ci, an expression) and the custom fields' runtime expression indexes
    (ix_contact_cf_*, made with the fields) out of model comparison."""
    if type_ == "table" and name and name.startswith("contact_search"):
        return False
    if type_ == "index" and name and name.startswith("ix_contact_cf_"):
        return False
    return not (type_ == "index" and name and name.endswith(("_trgm", "_pg", "_ci")))
