"""SQL over custom-field values stored as JSON, written once for both databases
(SQLite's json1 functions, PostgreSQL's jsonb operators)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB


def path(key: str) -> str:
    """The SQLite JSON path of a top-level key (keys are [a-z0-9_], see custom_fields)."""
    return f'$."{key}"'


def set_key(column, key: str, value: Any, dialect: str):
    """`column` with `key` set to `value` (removed when `value` is None); the other keys
    untouched, so concurrent edits of different keys never undo each other."""
    if value is None:
        if dialect == "postgresql":
            return column.op("-")(sa.literal(key))
        return sa.func.json_remove(column, path(key))
    encoded = json.dumps(value)
    if dialect == "postgresql":
        return column.op("||")(
            sa.func.jsonb_build_object(sa.literal(key), sa.cast(sa.literal(encoded), JSONB))
        )
    return sa.func.json_set(column, path(key), sa.func.json(sa.literal(encoded)))


def key_is(column, key: str, value: Any, dialect: str) -> sa.ColumnElement[bool]:
    """True while `column` holds `value` at `key` (None: no value there)."""
    if dialect == "postgresql":
        element = column.op("->")(sa.literal(key))
        if value is None:
            return element.is_(None)
        return element.op("=", is_comparison=True)(sa.cast(sa.literal(json.dumps(value)), JSONB))
    element = sa.func.json_extract(column, path(key))
    if value is None:
        return element.is_(None)
    return element == sa.func.json_extract(sa.literal(json.dumps(value)), "$")
