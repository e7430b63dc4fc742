"""Trends at a glance in Chromium: the 30-day sparkline with the week's change in words on
the Segments list and in the Leads board's column header, its gaps, and its text
alternative (the chart is one image named by its numbers)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.filters import FilterSpec
from cloodot_app.models import Segment, SegmentDailyCount
from cloodot_app.services import segment_trends
from cloodot_app.services.contacts import ContactQuery, count_contacts

GAPS = "No count on 6 of the last 30 days (gaps)."


@pytest.fixture
def vip_history(app_server) -> int:
    """VIP's last 30 days: 5 more than now from 29 to 8 days ago, 3 more a week ago, no
    count for the 6 days since (gaps), today's count taken by the page."""
    today = segment_trends.utc_today()
    with app_server.session() as session:
        segment_id, spec = session.execute(
            sa.select(Segment.id, Segment.filter_spec).where(Segment.name == "VIP")
        ).one()
        now = count_contacts(
            session, app_server.workspace_id, ContactQuery(filter=FilterSpec.parse(spec))
        )
        session.execute(
            sa.delete(SegmentDailyCount).where(SegmentDailyCount.segment_id == segment_id)
        )
        for days_ago in range(7, 30):
            session.add(
                SegmentDailyCount(
                    segment_id=segment_id,
                    day=today - timedelta(days=days_ago),
                    workspace_id=app_server.workspace_id,
                    count=now + 3 if days_ago == 7 else now + 5,
                    counted_at=datetime.now(UTC),
                )
            )
        session.commit()
    return now


def _the_line_has_gaps(chart) -> None:
    """Rendered, broken where days were not counted (a path that moves twice), and
    today's point marked with a dot (the line cannot show a point after a gap)."""
    curve = chart.locator("path.recharts-curve").first
    expect(curve).to_have_attribute("d", re.compile(r"^M.*M"))
    expect(chart.locator("circle.recharts-dot")).to_have_count(1)


def test_the_segments_list_shows_each_segments_trend(page: Page, app_server, vip_history):
    page.goto("/contacts/segments")
    table = page.get_by_role("table", name="Segments")
    expect(table.get_by_role("columnheader", name="Last 30 days")).to_be_visible()
    chart = table.get_by_role("img", name=re.compile(r"^Trend of VIP: "))
    expect(chart).to_have_accessible_name(
        re.compile(
            rf"Contacts per day over the last 30 days: {vip_history + 5} on \w+ \d+, "
            rf"{vip_history} today; .*\u22123 this week\. {re.escape(GAPS)}$"
        )
    )
    row = table.locator("tbody tr").filter(
        has=page.get_by_role("img", name=re.compile("^Trend of VIP: "))
    )
    expect(row).to_contain_text("\u22123 this week")
    expect(row).to_contain_text(GAPS)
    _the_line_has_gaps(chart)
    # Every segment has one, with its change in words.
    expect(table.get_by_role("img", name=re.compile(r"^Trend of "))).to_have_count(
        table.locator("tbody tr").count()
    )
    page.screenshot(path="test-artifacts/trends-segments.png", full_page=True)


def test_each_leads_column_header_shows_its_trend(page: Page, app_server, vip_history):
    page.goto("/contacts/leads")
    page.wait_for_function("() => document.querySelector('[data-rows-state=\"ready\"]') !== null")
    column = page.get_by_role("region", name="VIP", exact=True)
    chart = column.get_by_role("img", name=re.compile(r"^Trend of VIP: "))
    expect(chart).to_have_accessible_name(re.compile(re.escape("\u22123 this week. " + GAPS)))
    expect(column).to_contain_text("\u22123 this week")
    expect(column).to_contain_text(GAPS)
    _the_line_has_gaps(chart)
    page.screenshot(path="test-artifacts/trends-leads.png")
    chart.hover()  # a mouse sees the day's count
    expect(chart.locator(".recharts-tooltip-wrapper")).to_contain_text("Contacts")
