"""Segment trends: one count per segment and day (UTC), kept in `segment_daily_count`,
and the 30-day series with the week's change in words that the Segments list and the
Leads board show.

How the counts are kept, without a scheduler:
- the first request of the day for a workspace (the Segments list, the Leads board) and
  the app's background turn (cloodot_app/trend_counts.py) see that a segment has no count
  for today (`uncounted_today`) and count them all (`count_today`);
- whenever a page has just counted anyway (the Segments list, the Leads board without a
  search, and so Live mode on the board), `record_counts` keeps that as the day's latest
  value, writing only what changed.
Every write is one upsert on the (segment, day) primary key, so two workers counting the
same day at once leave one row. Days nobody counted stay without a row: a gap, never an
invented value.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from cloodot_app.models import Contact, Segment, SegmentDailyCount, Workspace, utcnow

logger = logging.getLogger(__name__)

TREND_DAYS = 30
WEEK = 7
MINUS = "\u2212"  # a real minus sign: "−3 this week"
_TABLE: sa.Table = SegmentDailyCount.__table__  # type: ignore[attr-defined]


def utc_today(now: datetime | None = None) -> date:
    """The trends' day: a UTC day, the same for every viewer and every worker."""
    return (now or datetime.now(UTC)).astimezone(UTC).date()


def day_label(day: date) -> str:
    """'Nov 3': short, the same in every locale the server runs in."""
    return f"{day:%b} {day.day}"


# --------------------------------------------------------------------------- keeping them


def record_counts(
    session: Session,
    workspace_id: int,
    counts: dict[int, int | None],
    now: datetime | None = None,
) -> None:
    """Store today's count of each segment given ({segment id: count, None when its rules
    cannot run}); ids that are not this workspace's segments are ignored.

    One statement (INSERT … SELECT … ON CONFLICT DO UPDATE), so that it can be the first
    of its transaction: on SQLite a write that follows a read in the same transaction
    fails when another connection wrote in between (SQLITE_BUSY_SNAPSHOT), while a first
    write just waits its turn. A row whose count did not change is left as it is."""
    ids = [i for i in counts if isinstance(i, int)]
    if not ids:
        return
    day = utc_today(now)
    count = sa.case(
        *[(Segment.id == i, sa.literal(counts[i], sa.Integer)) for i in sorted(ids)],
        else_=sa.null(),
    )
    source = (
        sa.select(
            Segment.id,
            sa.literal(day, sa.Date).label("day"),
            Segment.workspace_id,
            count.label("count"),
            sa.literal(now or utcnow(), _TABLE.c.counted_at.type).label("counted_at"),
        )
        .where(Segment.workspace_id == workspace_id, Segment.id.in_(ids))
        .order_by(Segment.id)  # rows locked in one order by every writer
    )
    insert = postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(SegmentDailyCount).from_select(
        ["segment_id", "day", "workspace_id", "count", "counted_at"], source
    )
    table = _TABLE
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["segment_id", "day"],
            set_={"count": statement.excluded.count, "counted_at": statement.excluded.counted_at},
            where=table.c.count.is_distinct_from(statement.excluded.count),
        )
    )


def uncounted_today(session: Session, workspace_id: int, now: datetime | None = None) -> bool:
    """Has the workspace a segment without a count for today? (One indexed read.)"""
    day = utc_today(now)
    counted = sa.select(SegmentDailyCount.segment_id).where(
        SegmentDailyCount.segment_id == Segment.id, SegmentDailyCount.day == day
    )
    missing = session.execute(
        sa.select(Segment.id)
        .where(Segment.workspace_id == workspace_id, ~sa.exists(counted))
        .limit(1)
    ).first()
    return missing is not None


def count_today(session: Session, workspace_id: int, now: datetime | None = None) -> None:
    """Count every segment of the workspace and store today's counts. Call it at the start
    of a transaction: on SQLite it takes the write lock before reading (see
    record_counts), so the count it stores is the one it read."""
    from cloodot_app.services.segments import segment_counts

    if session.get_bind().dialect.name == "sqlite":
        # A write that changes nothing, to hold SQLite's one write lock from here on.
        session.execute(
            sa.update(Workspace)
            .where(Workspace.id == workspace_id)
            .values(data_version=Workspace.data_version)
        )
    record_counts(session, workspace_id, segment_counts(session, workspace_id), now)


def record_and_trends(
    session: Session,
    workspace_id: int,
    counts: dict[int, int | None],
    now: datetime | None = None,
) -> dict[int, SegmentTrend]:
    """What a page that has just counted calls, in a transaction of its own: keep the
    counts as today's, then read the trends of the segments counted."""
    record_counts(session, workspace_id, counts, now)
    return segment_trends(session, workspace_id, list(counts), now)


def workspaces_uncounted_today(session: Session, now: datetime | None = None) -> list[int]:
    """Workspaces with a segment that has no count for today: the background turn's work."""
    day = utc_today(now)
    counted = sa.select(SegmentDailyCount.segment_id).where(
        SegmentDailyCount.segment_id == Segment.id, SegmentDailyCount.day == day
    )
    return list(
        session.execute(
            sa.select(Segment.workspace_id)
            .where(~sa.exists(counted))
            .distinct()
            .order_by(Segment.workspace_id)
        ).scalars()
    )


def counts_as_of(session: Session, workspace_id: int, as_of: datetime) -> dict[int, int | None]:
    """What each segment would have counted at `as_of`, rebuilt from today's data: the
    contacts created by then, with the values they have now, and the rules' relative dates
    ("within the last 30 days") taken from `as_of`. Only the demo generator uses it, to
    give a new demo workspace a past (the README says so); real history is only ever
    counted on the day."""
    from cloodot_app.filters import CompileContext, FilterError, compile_spec
    from cloodot_app.services.segments import count_matching, one_segment_query
    from cloodot_app.services.workspaces import field_catalog

    catalog = field_catalog(session, workspace_id)
    ctx = CompileContext.for_session(session, now=as_of)
    counts: dict[int, int | None] = {}
    conditions: dict[int, sa.ColumnElement[bool]] = {}
    for segment in session.execute(
        sa.select(Segment).where(Segment.workspace_id == workspace_id)
    ).scalars():
        try:
            where = compile_spec(segment.filter_spec, catalog, ctx).where
        except FilterError:
            counts[segment.id or 0] = None
            continue
        conditions[segment.id or 0] = sa.and_(where, Contact.created_at <= as_of)
    for segment_id, condition in conditions.items():
        try:
            with one_segment_query(session):
                counts[segment_id] = count_matching(session, workspace_id, condition)
        except FilterError:
            counts[segment_id] = None
    return counts


def store_history(
    session: Session, workspace_id: int, counts_by_day: dict[date, dict[int, int | None]]
) -> None:
    """Store past days' counts as given (the demo generator's rebuilt history)."""
    for day, counts in sorted(counts_by_day.items()):
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        record_counts(session, workspace_id, counts, now=noon)


# --------------------------------------------------------------------------- reading them


@dataclass
class TrendPoint:
    """One day of a sparkline; count None is a day without a count (a gap)."""

    day: str = ""  # ISO date
    label: str = ""  # "Nov 3"
    count: int | None = None
    # The count again where the line needs a dot to be seen: today's point, and a day
    # counted between two gaps (a line cannot draw a single point).
    mark: int | None = None


@dataclass
class SegmentTrend:
    """A segment's last 30 days as the sparklines show them. Plain data for the states."""

    points: list[TrendPoint] = field(default_factory=list)
    # Today's count minus the count a week ago (or the earliest count this week).
    change: int | None = None
    change_words: str = ""  # "+12 this week", "no change this week", "−3 this week"
    tone: str = "none"  # "up" | "down" | "flat" | "none": the words' colour
    coverage_words: str = ""  # the gaps, said ("" when every day was counted)
    description: str = ""  # the chart's text alternative


def _signed(change: int) -> str:
    if change > 0:
        return f"+{change:,}"
    return f"{MINUS}{-change:,}"


def change_words(change: int | None, days: int) -> str:
    """The change over `days` days in words: "+12 this week", "no change since yesterday",
    "−3 in 4 days"; "" without a count to compare with."""
    if change is None or days <= 0:
        return ""
    span = "this week" if days >= WEEK else "since yesterday" if days == 1 else f"in {days} days"
    return f"no change {span}" if change == 0 else f"{_signed(change)} {span}"


def _coverage(points: list[TrendPoint], today: date) -> tuple[str, int]:
    """The gaps in words, and how many days of the window were counted."""
    counted = [p for p in points if p.count is not None]
    if not counted:
        return "Not counted yet.", 0
    if len(counted) == len(points):
        return "", len(counted)
    first = date.fromisoformat(counted[0].day)
    if counted[0] is points[0]:  # counted before the window too: only gaps to tell
        gaps = len(points) - len(counted)
        return f"No count on {gaps} of the last {len(points)} days (gaps).", len(counted)
    since = "today" if first == today else day_label(first)
    gaps = (today - first).days + 1 - len(counted)
    words = f"Counted since {since}"
    if gaps:
        words += f"; no count on {gaps} day{'s' if gaps != 1 else ''} (gaps)"
    return words + ".", len(counted)


def build_trend(
    counts: dict[date, int | None], today: date, days: int = TREND_DAYS
) -> SegmentTrend:
    """The trend of one segment from its stored counts ({day: count})."""
    window = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    # Interned: every column of a board has the same 30 days, and a state pickles a
    # repeated string object once (3 KB less per open Leads tab).
    points = [
        TrendPoint(sys.intern(d.isoformat()), sys.intern(day_label(d)), counts.get(d))
        for d in window
    ]
    for index, point in enumerate(points):
        before = points[index - 1].count if index > 0 else None
        after = points[index + 1].count if index + 1 < len(points) else None
        if point.count is not None and (point is points[-1] or before is after is None):
            point.mark = point.count
    latest = counts.get(today)
    change, span = None, 0
    if latest is not None:
        for offset in range(WEEK, 0, -1):  # the count a week ago, or the earliest since
            base = counts.get(today - timedelta(days=offset))
            if base is not None:
                change, span = latest - base, offset
                break
    words = change_words(change, span)
    if latest is not None and change is None:
        words = (
            "first count today"
            if len([c for c in counts.values() if c is not None]) <= 1
            else "no count earlier this week"
        )
    tone = "none" if change is None else "up" if change > 0 else "down" if change < 0 else "flat"
    coverage, counted = _coverage(points, today)
    return SegmentTrend(
        points=points,
        change=change,
        change_words=words,
        tone=tone,
        coverage_words=coverage,
        description=_description(points, latest, words, coverage, counted),
    )


def _description(
    points: list[TrendPoint], latest: int | None, words: str, coverage: str, counted: int
) -> str:
    if not counted:
        return f"Contacts per day over the last {len(points)} days: not counted yet."
    first = next(p for p in points if p.count is not None)
    low = min(p.count for p in points if p.count is not None)
    high = max(p.count for p in points if p.count is not None)
    now = f"{latest:,} today" if latest is not None else "no count today"
    text = (
        f"Contacts per day over the last {len(points)} days: {first.count:,} on {first.label}, "
        f"{now}; lowest {low:,}, highest {high:,}"
    )
    if words:
        text += f"; {words}"
    text += "."
    if coverage:
        text += " " + coverage
    return text


def segment_trends(
    session: Session,
    workspace_id: int,
    segment_ids: Iterable[int] | None = None,
    now: datetime | None = None,
    days: int = TREND_DAYS,
) -> dict[int, SegmentTrend]:
    """{segment id: its trend over the last `days` UTC days} for the workspace's segments
    (all of them, or those named), from the stored counts only."""
    today = utc_today(now)
    query = sa.select(Segment.id).where(Segment.workspace_id == workspace_id)
    if segment_ids is not None:
        query = query.where(Segment.id.in_(list(segment_ids)))
    ids = [i for i in session.execute(query).scalars() if i is not None]
    by_segment: dict[int, dict[date, int | None]] = {i: {} for i in ids}
    if ids:
        rows = session.execute(
            sa.select(
                SegmentDailyCount.segment_id, SegmentDailyCount.day, SegmentDailyCount.count
            ).where(
                SegmentDailyCount.workspace_id == workspace_id,
                SegmentDailyCount.segment_id.in_(ids),
                SegmentDailyCount.day > today - timedelta(days=days),
                SegmentDailyCount.day <= today,
            )
        ).all()
        for segment_id, day, count in rows:
            by_segment[segment_id][_as_date(day)] = count
    return {i: build_trend(counts, today, days) for i, counts in by_segment.items()}


def _as_date(value: Any) -> date:
    # SQLite hands back what it stored (a date through SQLAlchemy's Date type).
    return value if isinstance(value, date) else date.fromisoformat(str(value))
