"""How big a filter may be: the bounds every spec is checked against before it is compiled.

A spec comes from a URL, a stored segment or the drawer, so any of these may be crafted.
Past these bounds a query would fail in the database (a date past year 9999, a NUL byte,
a LIKE pattern over 50 KB, thousands of conditions) or take a long time; inside them it
runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date

# Conditions in one spec (SQLite's expression tree gives out around 2,000).
MAX_CONDITIONS = 50
# Characters in one text value (a LIKE pattern, an option, a date...).
MAX_TEXT_LENGTH = 200
# Items in one list value (options, labels).
MAX_VALUES = 100
# Numbers compared with stored ones: finite and below a million billion either way, so
# that they keep their exact value as a float on both databases.
MAX_NUMBER = 1e15
# Dates, so that "after the day named" or "the day's end" never leaves the calendar.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)
# "within the last N days" / "more than N days ago": N from 1 to about a hundred years.
MIN_DAYS = 1
MAX_DAYS = 36500
# Row ids (labels, segments) are 64-bit integers on both databases.
MAX_ID = 2**63 - 1
# JSON nesting a spec may have before it is refused unread (a condition's value is at
# most a list of scalars; a stored spec sits at depth 4).
MAX_DEPTH = 8


def valid_id(value: object) -> bool:
    """A positive integer that fits a 64-bit id column (a segment id from a URL, ...)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID
