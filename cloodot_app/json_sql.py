"""Values inside a JSON column (`custom_fields`) as SQL, for SQLite and PostgreSQL alike.

The filter language reads values with these (text, number, arrays); the custom-field
service counts, rewrites and removes them with these. Each function takes the JSON column,
the key inside it and the dialect name ("sqlite" | "postgresql") and returns a SQLAlchemy
expression; keys and values are always bound parameters, never SQL text.

On SQLite the column holds JSON text read with json_extract / json_type / json_each; on
PostgreSQL it is jsonb, read with `->` / `->>` / jsonb_typeof.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

POSTGRESQL = "postgresql"


def path(key: str) -> str:
    """The SQLite JSON path of a top-level key (quoted: keys may hold any character)."""
    return f'$."{key}"'


def inline(value: str) -> Any:
    """A constant written into the SQL text (escaped by SQLAlchemy) instead of bound: text()
    and number() are indexed per custom field (services/custom_fields/indexes.py), and a
    database only uses an expression index for a query whose expression has the same
    constants (SQLite never matches a bound parameter)."""
    return sa.literal(value, sa.Text, literal_execute=True)


def _node(column: Any, key: str) -> Any:
    """PostgreSQL: the jsonb value at `key` (NULL when missing)."""
    return column.op("->", return_type=JSONB)(inline(key))


def text(column: Any, key: str, dialect: str) -> Any:
    """The value at `key` as text (NULL when missing)."""
    if dialect == POSTGRESQL:
        # Typed as text, so that ILIKE & co. are text operators (not JSON ones).
        return column.op("->>", return_type=sa.Text)(inline(key))
    return sa.func.json_extract(column, inline(path(key)))


def number(column: Any, key: str, dialect: str) -> Any:
    """The value at `key` as a number, or NULL when it is missing or not a number (values
    stored before a field changed type must not break the query)."""
    if dialect == POSTGRESQL:
        return sa.case(
            (
                sa.func.jsonb_typeof(_node(column, key)) == inline("number"),
                sa.cast(column.op("->>")(inline(key)), sa.Float),
            ),
            else_=None,
        )
    return sa.case(
        (
            sa.func.json_type(column, inline(path(key))).in_([inline("integer"), inline("real")]),
            sa.func.json_extract(column, inline(path(key))),
        ),
        else_=None,
    )


def array_match(column: Any, key: str, values: list[str], dialect: str, mode: str) -> Any:
    """Multi-select values are JSON arrays: does the array hold any (mode "any") or all
    (mode "all") of `values`?"""
    if dialect == POSTGRESQL:
        array = sa.cast(sa.literal(values, sa.ARRAY(sa.Text)), sa.ARRAY(sa.Text))
        operator = "?|" if mode == "any" else "?&"
        return _node(column, key).op(operator, is_comparison=True)(array)
    elements = sa.func.json_each(column, path(key)).table_valued("value").alias("element")
    hits = sa.select(sa.func.count(sa.distinct(elements.c.value))).where(
        elements.c.value.in_(values)
    )
    if mode == "any":
        return hits.scalar_subquery() > 0
    return hits.scalar_subquery() == len(values)


def array_present(column: Any, key: str, dialect: str) -> Any:
    """True when the value at `key` is a non-empty array; False (never NULL) otherwise, so
    that negating it ("is empty", "has none of") keeps the rows that have no value at all."""
    if dialect == POSTGRESQL:
        node = _node(column, key)
        present = (sa.func.jsonb_typeof(node) == "array", sa.func.jsonb_array_length(node) > 0)
    else:
        present = (
            sa.func.json_type(column, path(key)) == "array",
            sa.func.json_array_length(column, path(key)) > 0,
        )
    # CASE also guarantees the length is only asked of an array.
    return sa.case(present, else_=sa.false())


def key_present(column: Any, key: str, dialect: str) -> Any:
    """The object has `key` (even with a null value)."""
    if dialect == POSTGRESQL:
        return sa.type_coerce(column, JSONB).has_key(key)
    return sa.func.json_type(column, path(key)).is_not(None)


def non_empty(column: Any, key: str, dialect: str) -> Any:
    """1 when the value at `key` is there and not null, "" or [], else 0."""
    if dialect == POSTGRESQL:
        node = _node(column, key)
        value = text(column, key, dialect)
        kind = sa.func.jsonb_typeof(node)
        # Nested CASEs: PostgreSQL does not promise to evaluate AND left to right, and
        # jsonb_array_length fails on anything but an array.
        return sa.case(
            (kind.is_(None), 0),
            (kind == "null", 0),
            (kind == "string", sa.case((sa.func.btrim(value) == "", 0), else_=1)),
            (kind == "array", sa.case((sa.func.jsonb_array_length(node) == 0, 0), else_=1)),
            else_=1,
        )
    kind = sa.func.json_type(column, path(key))
    return sa.case(
        (kind.is_(None), 0),
        (kind == "null", 0),
        (
            kind == "text",
            sa.case((sa.func.trim(sa.func.json_extract(column, path(key))) == "", 0), else_=1),
        ),
        (kind == "array", sa.case((sa.func.json_array_length(column, path(key)) == 0, 0), else_=1)),
        else_=1,
    )


def holds(column: Any, key: str, option: str, dialect: str) -> Any:
    """Does the value at `key` hold the string `option` (equal to it, or a list containing
    it)? The same test for select and multi-select values."""
    if dialect == POSTGRESQL:
        # `?` is true for a list holding the string and for that string itself.
        return _node(column, key).op("?", is_comparison=True)(sa.cast(sa.literal(option), sa.Text))
    # json_each yields a list's items, or the value itself when it is not a list.
    items = sa.func.json_each(column, path(key)).table_valued("value", "type").alias("item")
    hits = (
        sa.select(sa.func.count())
        .select_from(items)
        .where(items.c.type == "text", items.c.value == option)
    )
    return hits.scalar_subquery() > 0


def without_key(column: Any, key: str, dialect: str) -> Any:
    """The JSON object without `key`."""
    if dialect == POSTGRESQL:
        return column.op("-", return_type=JSONB)(sa.cast(sa.literal(key), sa.Text))
    return sa.func.json_remove(column, path(key))


def with_key(column: Any, key: str, value_json: Any, dialect: str) -> Any:
    """The JSON object with `key` set to `value_json` (a SQL text expression holding JSON,
    e.g. a bound parameter of `json.dumps(value)`); every other key is left as it is."""
    if dialect == POSTGRESQL:
        patch = sa.func.jsonb_build_object(
            sa.cast(sa.literal(key), sa.Text), sa.cast(value_json, JSONB)
        )
        return column.op("||", return_type=JSONB)(patch)
    return sa.func.json_set(column, path(key), sa.func.json(value_json))


def set_key(column: Any, key: str, value: Any, dialect: str) -> Any:
    """The JSON object with `key` set to the Python `value` (removed when it is None);
    every other key untouched, so concurrent edits of different keys never undo each
    other."""
    if value is None:
        return without_key(column, key, dialect)
    return with_key(column, key, sa.literal(json.dumps(value), sa.Text), dialect)


def key_is(column: Any, key: str, value: Any, dialect: str) -> Any:
    """True while the value at `key` is the Python `value` (None: no value there): the
    condition of a compare-and-set."""
    if dialect == POSTGRESQL:
        if value is None:
            return _node(column, key).is_(None)
        return _node(column, key).op("=", is_comparison=True)(
            sa.cast(sa.literal(json.dumps(value), sa.Text), JSONB)
        )
    element = sa.func.json_extract(column, path(key))
    if value is None:
        return element.is_(None)
    return element == sa.func.json_extract(sa.literal(json.dumps(value), sa.Text), "$")
