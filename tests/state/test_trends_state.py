"""The trend sparklines' data in the Segments page and the Leads board: the page's counts
become today's point, the first request of the day counts what the page did not, Live's
refresh keeps today's point current, and the rows carry the 30-day series and the words.
The workspace has 23 contacts over four channels in turn: 6 on WhatsApp."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

import cloodot_app.db as db
from cloodot_app.models import SegmentDailyCount
from cloodot_app.services import segment_trends
from cloodot_app.services.ingestion import IncomingMessage, ingest_message
from cloodot_app.services.segment_trends import SegmentTrend
from cloodot_app.services.segments import create_segment
from cloodot_app.state.leads import LeadsState
from cloodot_app.state.segments import SegmentsState
from tests.state.conftest import Tab, run

WHATSAPP = {
    "match": "all",
    "conditions": [{"field": "channel", "operator": "is", "value": "whatsapp"}],
}
INSTAGRAM = {
    "match": "all",
    "conditions": [{"field": "channel", "operator": "is", "value": "instagram"}],
}


def add_segment(workspace_id: int, name: str, spec: dict) -> int:
    with db.session_scope() as session:
        return create_segment(session, workspace_id, name, spec).id


def stored(segment_id: int) -> dict[str, int | None]:
    with db.session_scope() as session:
        return {
            str(day): count
            for day, count in session.execute(
                sa.select(SegmentDailyCount.day, SegmentDailyCount.count).where(
                    SegmentDailyCount.segment_id == segment_id
                )
            ).all()
        }


def test_the_segments_page_keeps_todays_count_and_shows_the_trend(workspace_on_both):
    workspace = workspace_on_both
    tab = Tab()
    tab.sign_in(workspace)
    segment_id = add_segment(workspace, "On WhatsApp", WHATSAPP)
    today = segment_trends.utc_today()
    with db.session_scope() as session:  # a week ago the segment had 2
        segment_trends.store_history(
            session, workspace, {today - timedelta(days=7): {segment_id: 2}}
        )
    state = tab.of(SegmentsState)
    run(SegmentsState.load, state)
    assert stored(segment_id) == {str(today - timedelta(days=7)): 2, str(today): 6}
    (row,) = state.segments
    assert isinstance(row.trend, SegmentTrend)
    assert len(row.trend.points) == 30
    assert row.trend.points[-1].count == 6 and row.trend.points[-8].count == 2
    assert row.trend.change_words == "+4 this week"
    assert (
        row.trend.coverage_words
        == f"Counted since {segment_trends.day_label(today - timedelta(days=7))}; no count on 6 days (gaps)."
    )
    assert row.trend.description.startswith("Contacts per day over the last 30 days: 2 on ")


def test_the_leads_board_columns_carry_their_trends(tab, workspace):
    whatsapp = add_segment(workspace, "On WhatsApp", WHATSAPP)
    instagram = add_segment(workspace, "On Instagram", INSTAGRAM)
    state = tab.of(LeadsState)
    run(LeadsState.load, state)
    today = str(segment_trends.utc_today())
    # Without a search, each column's total is today's count.
    assert stored(whatsapp) == {today: 6} and stored(instagram) == {today: 6}
    assert [(c.name, c.trend.points[-1].count, c.trend.change_words) for c in state.columns] == [
        ("On WhatsApp", 6, "first count today"),
        ("On Instagram", 6, "first count today"),
    ]


def test_a_searched_board_counts_the_whole_segment_on_the_first_request_of_the_day(tab, workspace):
    whatsapp = add_segment(workspace, "On WhatsApp", WHATSAPP)
    state = tab.of(LeadsState)
    state.search = "Person 4 "
    run(LeadsState.load, state)
    (column,) = state.columns
    assert column.total == 1  # the search narrows the cards …
    assert stored(whatsapp) == {str(segment_trends.utc_today()): 6}  # … not the count
    assert column.trend.points[-1].count == 6


def test_lives_refresh_keeps_todays_point_current(tab, workspace):
    whatsapp = add_segment(workspace, "On WhatsApp", WHATSAPP)
    state = tab.of(LeadsState)
    run(LeadsState.load, state)
    with db.session_scope() as session:
        ingest_message(
            session,
            workspace,
            "whatsapp",
            IncomingMessage(external_id="new-sender", name="New Person", text="Hello"),
        )
    # Live mode calls LeadsState._refresh when the data version moved; load runs it too.
    run(LeadsState.load, state)
    assert stored(whatsapp) == {str(segment_trends.utc_today()): 7}
    assert state.columns[0].trend.points[-1].count == 7
