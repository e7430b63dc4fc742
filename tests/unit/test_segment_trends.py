"""Segment trends on SQLite and PostgreSQL: the daily counts are kept once per segment and
day (upsert, also when two writers race), days nobody counted stay gaps, the 30-day series
and the week's change in words, and nothing crosses workspaces.

The world (acme): Ann and Cat on WhatsApp, Ben on Instagram; segments "WhatsApp" (Ann,
Cat) and "Broken" (a rule naming a custom field that does not exist). globex has one
WhatsApp contact and its own "WhatsApp" segment.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.db import session_scope
from cloodot_app.models import Contact, Segment, SegmentDailyCount
from cloodot_app.services import segment_trends as trends
from cloodot_app.services.workspaces import bump_data_version
from cloodot_app.trend_counts import count_uncounted_workspaces

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
WHATSAPP = {
    "match": "all",
    "conditions": [{"field": "channel", "operator": "is", "value": "whatsapp"}],
}
BROKEN = {"match": "all", "conditions": [{"field": "cf.gone", "operator": "is", "value": "x"}]}


def _world(session: Session, make_workspace) -> dict[str, int]:
    acme, globex = make_workspace("acme"), make_workspace("globex")
    for workspace_id, name, channel in (
        (acme, "Ann", "whatsapp"),
        (acme, "Ben", "instagram"),
        (acme, "Cat", "whatsapp"),
        (globex, "Mara", "whatsapp"),
    ):
        session.add(Contact(workspace_id=workspace_id, name=name, channel=channel))
    ids = {}
    for key, workspace_id, name, spec in (
        ("whatsapp", acme, "WhatsApp", WHATSAPP),
        ("broken", acme, "Broken", BROKEN),
        ("globex_whatsapp", globex, "WhatsApp", WHATSAPP),
    ):
        segment = Segment(workspace_id=workspace_id, name=name, filter_spec=spec)
        session.add(segment)
        session.flush()
        ids[key] = segment.id
    session.commit()
    return {"acme": acme, "globex": globex, **ids}


@pytest.fixture
def world(session, make_workspace):
    return _world(session, make_workspace)


def _rows(session: Session) -> dict[tuple[int, date], int | None]:
    return {
        (segment_id, day if isinstance(day, date) else date.fromisoformat(str(day))): count
        for segment_id, day, count in session.execute(
            sa.select(SegmentDailyCount.segment_id, SegmentDailyCount.day, SegmentDailyCount.count)
        ).all()
    }


# --------------------------------------------------------------------------- the words


@pytest.mark.parametrize(
    ("counts", "words", "tone"),
    [
        ({-7: 100, 0: 112}, "+12 this week", "up"),
        ({-7: 100, 0: 100}, "no change this week", "flat"),
        ({-7: 10, 0: 7}, "\u22123 this week", "down"),
        ({-9: 1, -7: 2, -3: 50, 0: 2}, "no change this week", "flat"),  # a week ago, not mid-week
        ({-1: 5, 0: 8}, "+3 since yesterday", "up"),
        ({-4: 5, -2: 1, 0: 4}, "\u22121 in 4 days", "down"),  # the earliest count this week
        ({-3: 1200, 0: 3400}, "+2,200 in 3 days", "up"),
        ({0: 8}, "first count today", "none"),
        ({-20: 3, 0: 8}, "no count earlier this week", "none"),
        ({-7: 3}, "", "none"),  # not counted today: nothing to say
    ],
)
def test_the_change_in_words(counts, words, tone):
    trend = trends.build_trend({TODAY + timedelta(days=d): c for d, c in counts.items()}, TODAY)
    assert (trend.change_words, trend.tone) == (words, tone)


def test_thirty_points_with_gaps_where_nothing_was_counted():
    counts = {TODAY - timedelta(days=d): 10 + d for d in (0, 1, 2, 5, 9)}
    counts[TODAY - timedelta(days=40)] = 99  # outside the window: not shown
    trend = trends.build_trend(counts, TODAY)
    assert len(trend.points) == 30
    assert trend.points[-1].day == TODAY.isoformat() and trend.points[-1].label == "Nov 30"
    assert trend.points[0].day == (TODAY - timedelta(days=29)).isoformat()
    counted = {p.day: p.count for p in trend.points if p.count is not None}
    assert counted == {(TODAY - timedelta(days=d)).isoformat(): 10 + d for d in (0, 1, 2, 5, 9)}
    # Dots where a line cannot be seen: today, and days counted between two gaps.
    marked = {p.day: p.mark for p in trend.points if p.mark is not None}
    assert marked == {(TODAY - timedelta(days=d)).isoformat(): 10 + d for d in (0, 5, 9)}
    # Day 9 ago to today is 10 days, 5 of them counted: 5 gaps, said in words.
    assert trend.coverage_words == "Counted since Nov 21; no count on 5 days (gaps)."
    assert trend.description == (
        "Contacts per day over the last 30 days: 19 on Nov 21, 10 today; lowest 10, "
        "highest 19; \u22125 in 5 days. Counted since Nov 21; no count on 5 days (gaps)."
    )


def test_coverage_words():
    full = {TODAY - timedelta(days=d): 1 for d in range(30)}
    assert trends.build_trend(full, TODAY).coverage_words == ""
    del full[TODAY - timedelta(days=3)], full[TODAY - timedelta(days=12)]
    assert trends.build_trend(full, TODAY).coverage_words == (
        "No count on 2 of the last 30 days (gaps)."
    )
    since = {TODAY - timedelta(days=d): 1 for d in range(3)}
    assert trends.build_trend(since, TODAY).coverage_words == "Counted since Nov 28."
    assert trends.build_trend({TODAY: 1}, TODAY).coverage_words == "Counted since today."
    nothing = trends.build_trend({}, TODAY)
    assert nothing.coverage_words == "Not counted yet."
    assert nothing.description == "Contacts per day over the last 30 days: not counted yet."
    assert nothing.change_words == ""


# --------------------------------------------------------------------------- keeping them


def test_the_first_request_of_the_day_counts_every_segment_once(session, world):
    assert trends.uncounted_today(session, world["acme"], NOW)
    trends.count_today(session, world["acme"], NOW)
    session.commit()
    assert _rows(session) == {(world["whatsapp"], TODAY): 2, (world["broken"], TODAY): None}
    assert not trends.uncounted_today(session, world["acme"], NOW)
    # globex is not counted by acme's request, and tomorrow is a new day.
    assert trends.uncounted_today(session, world["globex"], NOW)
    assert trends.uncounted_today(session, world["acme"], NOW + timedelta(days=1))


def test_a_new_segment_makes_the_day_uncounted_again(session, world):
    trends.count_today(session, world["acme"], NOW)
    session.add(Segment(workspace_id=world["acme"], name="All", filter_spec=WHATSAPP))
    session.commit()
    assert trends.uncounted_today(session, world["acme"], NOW)


def test_the_day_keeps_its_latest_count(session, world):
    trends.count_today(session, world["acme"], NOW)
    session.add(Contact(workspace_id=world["acme"], name="Dee", channel="whatsapp"))
    # As every service that writes contacts does: counts are cached under the data version.
    bump_data_version(session, world["acme"])
    session.commit()
    trends.count_today(session, world["acme"], NOW + timedelta(hours=3))
    session.commit()
    assert _rows(session)[(world["whatsapp"], TODAY)] == 3
    counted_at = session.execute(
        sa.select(SegmentDailyCount.counted_at).where(
            SegmentDailyCount.segment_id == world["whatsapp"]
        )
    ).scalar_one()
    assert counted_at.replace(tzinfo=UTC) == NOW + timedelta(hours=3)
    # An unchanged count is not written again (its counted_at stays).
    trends.record_counts(session, world["acme"], {world["whatsapp"]: 3}, NOW + timedelta(hours=5))
    session.commit()
    counted_at = session.execute(
        sa.select(SegmentDailyCount.counted_at).where(
            SegmentDailyCount.segment_id == world["whatsapp"]
        )
    ).scalar_one()
    assert counted_at.replace(tzinfo=UTC) == NOW + timedelta(hours=3)


def test_another_workspaces_segments_are_never_written(session, world):
    trends.record_counts(
        session, world["acme"], {world["globex_whatsapp"]: 50, world["whatsapp"]: 2}, NOW
    )
    session.commit()
    assert _rows(session) == {(world["whatsapp"], TODAY): 2}
    assert trends.segment_trends(session, world["acme"], [world["globex_whatsapp"]], NOW) == {}


def test_two_writers_counting_the_same_day_leave_one_row(engine, world):
    """Both see the day uncounted, both count; the primary key and the upsert keep one row
    per segment, and neither fails."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker():
        try:
            with session_scope(engine) as session:
                assert trends.uncounted_today(session, world["acme"], NOW)
            barrier.wait()
            with session_scope(engine) as session:
                trends.count_today(session, world["acme"], NOW)
        except BaseException as error:  # asserted below
            errors.append(error)

    for _round in range(5):
        with session_scope(engine) as session:
            session.execute(sa.delete(SegmentDailyCount))
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with session_scope(engine) as session:
            assert _rows(session) == {
                (world["whatsapp"], TODAY): 2,
                (world["broken"], TODAY): None,
            }


def test_the_background_turn_counts_each_uncounted_workspace(engine, world):
    assert count_uncounted_workspaces(engine, NOW) == 2
    assert count_uncounted_workspaces(engine, NOW) == 0  # done for today: one read
    with session_scope(engine) as session:
        assert _rows(session) == {
            (world["whatsapp"], TODAY): 2,
            (world["broken"], TODAY): None,
            (world["globex_whatsapp"], TODAY): 1,
        }
    assert count_uncounted_workspaces(engine, NOW + timedelta(days=1)) == 2


def test_deleting_a_segment_deletes_its_counts(session, world):
    trends.count_today(session, world["acme"], NOW)
    session.commit()
    session.execute(sa.delete(Segment).where(Segment.id == world["whatsapp"]))
    session.commit()
    assert _rows(session) == {(world["broken"], TODAY): None}


# --------------------------------------------------------------------------- reading them


def test_trends_read_only_what_was_counted(session, world):
    acme = world["acme"]
    history = {TODAY - timedelta(days=7): {world["whatsapp"]: 1}, TODAY - timedelta(days=3): {}}
    trends.store_history(session, acme, history)
    trends.count_today(session, acme, NOW)
    session.commit()
    result = trends.segment_trends(session, acme, now=NOW)
    assert set(result) == {world["whatsapp"], world["broken"]}
    whatsapp = result[world["whatsapp"]]
    assert [p.count for p in whatsapp.points if p.count is not None] == [1, 2]
    assert whatsapp.change_words == "+1 this week"
    assert whatsapp.coverage_words == "Counted since Nov 23; no count on 6 days (gaps)."
    broken = result[world["broken"]]
    assert broken.change_words == "" and broken.coverage_words == "Not counted yet."


def test_record_and_trends_keeps_a_pages_counts(session, world):
    result = trends.record_and_trends(session, world["acme"], {world["whatsapp"]: 2}, NOW)
    session.commit()
    assert list(result) == [world["whatsapp"]]
    assert result[world["whatsapp"]].change_words == "first count today"
    assert _rows(session) == {(world["whatsapp"], TODAY): 2}


def test_counts_as_of_a_past_day_take_the_contacts_that_existed(session, world):
    acme = world["acme"]
    session.execute(
        sa.update(Contact).where(Contact.name == "Cat").values(created_at=NOW - timedelta(days=2))
    )
    session.execute(
        sa.update(Contact).where(Contact.name != "Cat").values(created_at=NOW - timedelta(days=20))
    )
    session.commit()
    assert trends.counts_as_of(session, acme, NOW - timedelta(days=5)) == {
        world["whatsapp"]: 1,
        world["broken"]: None,
    }
    assert trends.counts_as_of(session, acme, NOW)[world["whatsapp"]] == 2


def test_a_demo_workspace_starts_with_thirty_days_of_history(engine):
    from cloodot_app.seed import seed_demo
    from cloodot_app.services.segments import segment_counts

    workspace_id = seed_demo(engine, 300, seed=3, now=NOW)
    with session_scope(engine) as session:
        rows = _rows(session)
        segments = segment_counts(session, workspace_id)
        result = trends.segment_trends(session, workspace_id, now=NOW)
    assert len(segments) == 6
    # Every segment, every one of the last 30 days, and nothing before or after.
    days = {day for _segment, day in rows}
    assert days == {TODAY - timedelta(days=d) for d in range(30)}
    assert len(rows) == 6 * 30 and None not in rows.values()
    # Today's point is the real count; the past is rebuilt, so it differs somewhere.
    assert {s: rows[(s, TODAY)] for s in segments} == segments
    assert all(t.coverage_words == "" and t.change_words for t in result.values())
    assert any(len({p.count for p in t.points}) > 1 for t in result.values())
