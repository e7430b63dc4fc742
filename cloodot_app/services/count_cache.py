"""Counts of a view (a search, a quick filter, a segment) remembered under the workspace's
data version, so that a page showing the same counts again (the Segments page, the Leads
board, All Contacts going back and forth between pages) does not count a million rows
again when nothing changed.

Why it is correct:

- Every write to a workspace's contacts, labels, conversations or field definitions bumps
  `Workspace.data_version` in the writer's transaction (services.workspaces), so a count
  stored under version V describes the data of version V. A new version is a new key: old
  entries are never read again and age out of the LRU.
- The key is the view's specs as JSON (the quick filter, the segment's stored rules, the
  search term) plus the workspace's identity (database URL, id and creation instant, so a
  re-created database or workspace with the same id and version never reuses a count).
- A transaction that has written (flushed ORM changes or bumped the version) neither reads
  nor stores: its counts may include rows that are rolled back later.
- Rules relative to now ("within the last 7 days", "more than 7 days ago") move as time
  passes without any write: their counts are kept for RELATIVE_SECONDS only.

The same holds for PAGES: the ids of one page of a view, in order (the Leads board's
cards, All Contacts' pages), which the rows are then read by.

The caches are per process (each app worker has its own); entries are a few hundred bytes.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session

from cloodot_app.filters import FilterSpec
from cloodot_app.models import Workspace

MAX_ENTRIES = 4096
# How long a count of rules relative to now ("no reply in 7 days") stays valid.
RELATIVE_SECONDS = 60.0
RELATIVE_OPERATORS = frozenset({"within_last_days", "more_than_days_ago"})

_WROTE = "count_cache_wrote"

T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    """Which data a count describes: one workspace of one database at one version."""

    database: str
    workspace_id: int
    created: str
    version: int


class CountCache(Generic[T]):
    """An LRU of values (counts; pages of ids) per (scope, key)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[tuple[Scope, str], tuple[T, float | None]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, scope: Scope, key: str) -> T | None:
        with self._lock:
            entry = self._entries.get((scope, key))
            if entry is None:
                self.misses += 1
                return None
            count, expires = entry
            if expires is not None and time.monotonic() >= expires:
                del self._entries[(scope, key)]
                self.misses += 1
                return None
            self._entries.move_to_end((scope, key))
            self.hits += 1
            return count

    def put(self, scope: Scope, key: str, count: T, relative: bool) -> None:
        expires = time.monotonic() + RELATIVE_SECONDS if relative else None
        with self._lock:
            self._entries[(scope, key)] = (count, expires)
            self._entries.move_to_end((scope, key))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


CACHE: CountCache[int] = CountCache()
# The ids of a page of a view (All Contacts, a Leads column), in order: a board whose
# counts come from CACHE should not re-sort a million contacts for its cards either.
# ~100 bytes an id; fewer entries than counts.
PAGES: CountCache[tuple[int, ...]] = CountCache(max_entries=512)


def mark_written(session: Session) -> None:
    """This transaction wrote: its counts are neither read from nor stored in the cache."""
    session.info[_WROTE] = True


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_ended(session: Session) -> None:
    session.info.pop(_WROTE, None)


def wrote(session: Session) -> bool:
    return bool(session.info.get(_WROTE))


def scope(session: Session, workspace_id: int) -> Scope | None:
    """The cache scope of this workspace now, or None when this transaction may not use
    the cache (it wrote, or the workspace is gone)."""
    if session.info.get(_WROTE):
        return None
    row = session.execute(
        sa.select(Workspace.data_version, Workspace.created_at).where(Workspace.id == workspace_id)
    ).one_or_none()
    if row is None:
        return None
    bind = session.get_bind()
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    url = engine.url.render_as_string(hide_password=True)
    return Scope(url, workspace_id, str(row.created_at), int(row.data_version or 0))


def view_key(kind: str, search: str, *specs: FilterSpec | dict[str, Any] | None) -> str:
    """A view's identity: the kind of count, the search term and each spec as JSON."""
    parts: list[Any] = [kind, " ".join(search.split()).casefold() if search else ""]
    for spec in specs:
        if isinstance(spec, FilterSpec):
            parts.append(spec.model_dump(mode="json"))
        else:
            parts.append(spec)
    return json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))


def is_relative(*specs: FilterSpec | dict[str, Any] | None) -> bool:
    """Does any of the specs have a rule relative to today (its count moves with time)?"""
    for spec in specs:
        data = spec.model_dump(mode="json") if isinstance(spec, FilterSpec) else spec
        conditions = data.get("conditions") if isinstance(data, dict) else None
        for condition in conditions if isinstance(conditions, list) else []:
            if isinstance(condition, dict) and condition.get("operator") in RELATIVE_OPERATORS:
                return True
    return False


def peek(where: Scope | None, key: str) -> int | None:
    """The count stored for `key` in this scope, if any (None: no scope, or not stored)."""
    return CACHE.get(where, key) if where is not None else None


def store(session: Session, where: Scope | None, key: str, count: int, relative: bool) -> None:
    """Remember a count taken in this transaction (unless it wrote, or has no scope)."""
    if where is not None and not wrote(session):
        CACHE.put(where, key, count, relative)


def cached(
    session: Session,
    workspace_id: int,
    key: str,
    relative: bool,
    count: Callable[[], int],
    where: Scope | None = None,
) -> int:
    """The count stored for `key` at the workspace's current version, or `count()` (then
    stored). `where` is a scope already read in this transaction."""
    where = where or scope(session, workspace_id)
    found = peek(where, key)
    if found is not None:
        return found
    result = count()
    store(session, where, key, result, relative)
    return result


def clear() -> None:
    """Forget every count and page (tests and benchmarks that time a first view)."""
    CACHE.clear()
    PAGES.clear()
