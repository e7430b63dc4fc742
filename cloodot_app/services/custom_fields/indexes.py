"""An expression index per contact custom field, created and dropped with the field's
definition (runtime DDL, no migration: fields are data, made by admins at any time).

Each index is `(workspace_id, <expr>)` where <expr> is exactly what the filter language
compiles a condition on that field to (json_sql.text or json_sql.number, whose constants
are written into the SQL so that both databases can match the index): at a million
contacts "Plan is Enterprise" or "Lifetime value ≥ 1000" then reads the matching index
entries instead of parsing every contact's JSON.

One index per (key, filter kind), shared by every workspace with such a field: the name is
`ix_contact_cf_<n|t>_<hash of the key>`. sync_field_indexes() makes the database's set
match the definitions (creates the missing, drops the ones no definition needs); the
definition services call it after each change, the seeder after loading, and the app at
start-up (for databases filled before these indexes existed).

Multi-select fields (JSON arrays) and conversation fields get no index. On PostgreSQL the
build takes a write lock on `contact` for its duration (seconds at a million contacts).
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.sql.elements import Grouping
from sqlmodel import Session

from cloodot_app import json_sql
from cloodot_app.fieldtypes import field_type
from cloodot_app.models import CustomFieldDefinition, FieldEntity, JsonColumnType

PREFIX = "ix_contact_cf_"

# `contact` as the index DDL sees it, on metadata of its own: an index made on the model's
# table would join SQLModel.metadata (create_all, Alembic's comparison) for good.
_CONTACT = sa.Table(
    "contact",
    sa.MetaData(),
    sa.Column("workspace_id", sa.Integer),
    sa.Column("custom_fields", JsonColumnType),
)


def index_name(key: str, kind: str) -> str:
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
    return f"{PREFIX}{kind}_{digest}"


def _kind(type_name: str) -> str | None:
    """ "n" (a number expression), "t" (the text expression) or None (not indexed)."""
    try:
        kind = field_type(type_name).filter_kind
    except Exception:
        return None
    if kind == "multi_select":
        return None
    return "n" if kind == "number" else "t"


def index_for(key: str, type_name: str, dialect: str) -> sa.Index | None:
    """The index a contact field of this key and type gets (None: none)."""
    kind = _kind(type_name)
    if kind is None:
        return None
    column = _CONTACT.c.custom_fields
    if kind == "n":
        expression = json_sql.number(column, key, dialect)
    else:
        expression = json_sql.text(column, key, dialect)
    # In parentheses: PostgreSQL takes an index expression that is not a function call
    # only so; SQLite takes both, and neither changes what the expression is.
    return sa.Index(
        index_name(key, kind),
        _CONTACT.c.workspace_id,
        Grouping(expression),
    )


def wanted(connection: sa.Connection) -> dict[str, sa.Index]:
    """{name: index} for every contact field definition of every workspace."""
    dialect = connection.dialect.name
    result: dict[str, sa.Index] = {}
    for key, type_name in connection.execute(
        sa.select(CustomFieldDefinition.key, CustomFieldDefinition.type).where(
            CustomFieldDefinition.entity == FieldEntity.CONTACT.value
        )
    ):
        index = index_for(key, type_name, dialect)
        if index is not None and index.name:
            result[str(index.name)] = index
    return result


def existing(connection: sa.Connection) -> set[str]:
    """Names of the field indexes the database has now."""
    like = PREFIX.replace("_", "\\_") + "%"
    if connection.dialect.name == "postgresql":
        statement = sa.text(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = 'contact' AND indexname LIKE :like ESCAPE '\\'"
        )
    else:
        statement = sa.text(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contact' "
            "AND name LIKE :like ESCAPE '\\'"
        )
    return set(connection.execute(statement, {"like": like}).scalars())


def sync_field_indexes(session: Session) -> tuple[list[str], list[str]]:
    """Create the missing field indexes and drop those no definition needs, in the
    session's transaction. Returns (created, dropped) names."""
    return sync_on(session.connection())


def ensure_field_indexes(database_url: str) -> tuple[list[str], list[str]]:
    """At start-up: the field indexes of a database filled before they existed."""
    from cloodot_app.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            return sync_on(connection)
    finally:
        engine.dispose()


def sync_on(connection: sa.Connection) -> tuple[list[str], list[str]]:
    want = wanted(connection)
    have = existing(connection)
    created = sorted(set(want) - have)
    dropped = sorted(have - set(want))
    for name in dropped:
        connection.execute(sa.text(f'DROP INDEX IF EXISTS "{name}"'))
    for name in created:
        want[name].create(connection, checkfirst=False)
    if created:
        # Statistics of the new expressions, so the planner knows how selective they are
        # (SQLite: of the new indexes only; PostgreSQL samples the table).
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("ANALYZE contact"))
        else:
            for name in created:
                connection.execute(sa.text(f'ANALYZE "{name}"'))
    return created, dropped
