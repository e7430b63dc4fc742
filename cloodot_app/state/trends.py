"""The trend sparklines' data for the Segments list and the Leads board: helpers their
handlers call (no handlers of their own). Keeping the counts is bookkeeping, never a
reason for a page to fail: a database that refuses the write (a lock held too long) costs
today's point, not the page."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import sqlalchemy as sa

from cloodot_app.services import segment_trends
from cloodot_app.services.segment_trends import SegmentTrend
from cloodot_app.state.access import in_workspace

logger = logging.getLogger(__name__)


async def trends_after_counting(counts: dict[int, int | None]) -> dict[int, SegmentTrend]:
    """A page has just counted these segments: keep that as today's count (a transaction
    of its own, writing first) and read their trends."""
    try:
        return await in_workspace(segment_trends.record_and_trends, counts)
    except sa.exc.DBAPIError as error:
        logger.warning("segment trends: today's counts were not kept: %s", error.orig)
        return await in_workspace(segment_trends.segment_trends, list(counts))


async def trends_of(segment_ids: Iterable[int]) -> dict[int, SegmentTrend]:
    """The trends of segments this page did not count itself: on the workspace's first
    request of the day, count them all first."""
    try:
        if await in_workspace(segment_trends.uncounted_today):
            await in_workspace(segment_trends.count_today)
    except sa.exc.DBAPIError as error:
        logger.warning("segment trends: today's counts were not taken: %s", error.orig)
    return await in_workspace(segment_trends.segment_trends, list(segment_ids))
