"""Rewriting stored values of one field: the rows holding its key, read and written in
chunks of CHUNK_SIZE rows, one JSON key at a time (other keys edited meanwhile are kept)."""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, SQLModel

from cloodot_app import json_sql
from cloodot_app.models import Contact, Conversation, CustomFieldDefinition, FieldEntity

CHUNK_SIZE = 2000


def _table(model: type[SQLModel]) -> sa.Table:
    table = sa.inspect(model).local_table
    assert isinstance(table, sa.Table)  # a table model is mapped to one Table
    return table


TABLES: dict[str, sa.Table] = {
    FieldEntity.CONTACT.value: _table(Contact),
    FieldEntity.CONVERSATION.value: _table(Conversation),
}


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def row_ids(
    session: Session,
    workspace_id: int,
    definition: CustomFieldDefinition,
    where: sa.ColumnElement[bool] | None = None,
) -> array[int]:
    """Ids of the workspace's rows holding the key (and matching `where`), in order: one
    query over the workspace's rows, ids only (8 bytes a row)."""
    table = TABLES[definition.entity]
    conditions = [
        table.c.workspace_id == workspace_id,
        json_sql.key_present(table.c.custom_fields, definition.key, dialect_of(session)),
    ]
    if where is not None:
        conditions.append(where)
    query = sa.select(table.c.id).where(*conditions).order_by(table.c.id)
    return array("q", session.execute(query).scalars())


def chunks(
    session: Session, workspace_id: int, definition: CustomFieldDefinition, ids: array[int]
) -> Iterator[list[tuple[int, Any]]]:
    """(row id, value) for those ids, CHUNK_SIZE rows at a time, each chunk read whole
    before the caller writes. Looked up by primary key: a keyset `id > last ... LIMIT`
    query would let the planner walk the workspace index and sort every remaining row
    once per chunk."""
    table = TABLES[definition.entity]
    for start in range(0, len(ids), CHUNK_SIZE):
        rows = session.execute(
            sa.select(table.c.id, table.c.custom_fields)
            .where(
                table.c.id.in_(ids[start : start + CHUNK_SIZE].tolist()),
                _in(table, workspace_id),
            )
            .order_by(table.c.id)
        ).all()
        yield [(row_id, (values or {}).get(definition.key)) for row_id, values in rows]


def _in(table: sa.Table, workspace_id: int) -> sa.ColumnElement[bool]:
    """The workspace guard for statements that look rows up by id. Written `+ 0` so that
    no planner reads the workspace index instead of the primary key (SQLite without
    statistics would, and then scan the whole workspace for each chunk)."""
    return (table.c.workspace_id + 0) == workspace_id


def write_values(
    session: Session,
    workspace_id: int,
    definition: CustomFieldDefinition,
    chunk: list[tuple[int, Any]],
    patches: list[tuple[int, Any]],
) -> int:
    """Store the chunk's new values (None removes the key), touching only rows whose value
    changes and only this key. Returns how many rows changed."""
    table = TABLES[definition.entity]
    column, key = table.c.custom_fields, definition.key
    dialect = dialect_of(session)
    old = dict(chunk)
    # Every row of a chunk holds the key: None (even over a stored null) removes it.
    changed = [
        (row_id, new) for row_id, new in patches if new is None or _json(new) != _json(old[row_id])
    ]
    removals = [row_id for row_id, new in changed if new is None]
    updates = [
        {"row_id": row_id, "new_value": _json(new)} for row_id, new in changed if new is not None
    ]
    if removals:
        session.execute(
            sa.update(table)
            .where(table.c.id.in_(removals), _in(table, workspace_id))
            .values(custom_fields=json_sql.without_key(column, key, dialect))
        )
    if updates and dialect == "postgresql":
        # One statement per chunk: the new values joined in from two unnested arrays.
        rows = sa.select(
            sa.func.unnest(sa.literal([u["row_id"] for u in updates], ARRAY(sa.BigInteger))).label(
                "row_id"
            ),
            sa.func.unnest(sa.literal([u["new_value"] for u in updates], ARRAY(sa.Text))).label(
                "new_value"
            ),
        ).subquery("new_values")
        session.execute(
            sa.update(table)
            .where(
                table.c.id == rows.c.row_id,
                # Redundant with the join, but it has the rows looked up by primary key
                # (else the planner hashes a scan of the whole table for every chunk).
                table.c.id.in_([u["row_id"] for u in updates]),
                _in(table, workspace_id),
            )
            .values(custom_fields=json_sql.with_key(column, key, rows.c.new_value, dialect))
        )
    elif updates:
        value = sa.bindparam("new_value", type_=sa.Text)
        session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("row_id"), _in(table, workspace_id))
            .values(custom_fields=json_sql.with_key(column, key, value, dialect)),
            updates,
        )
    return len(changed)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
