"""The background side of the segment trends: a lifespan task that, every few minutes,
counts the segments of each workspace that has no count for today yet, so the daily
history has no gaps on days nobody opened a page. No scheduler, and no lease: every worker
may run it, the (segment, day) upsert leaves one row whoever counts (see
services/segment_trends.py), and once a workspace is counted the turn is one indexed read.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import sqlalchemy as sa

from cloodot_app.db import get_engine, session_scope
from cloodot_app.services import segment_trends
from cloodot_app.settings import settings

logger = logging.getLogger(__name__)


def count_uncounted_workspaces(engine: sa.Engine | None = None, now: datetime | None = None) -> int:
    """One turn: count today's segments of every workspace still missing some; each
    workspace in its own transaction (one failing does not stop the others). Returns how
    many workspaces were counted."""
    with session_scope(engine) as session:
        pending = segment_trends.workspaces_uncounted_today(session, now)
    done = 0
    for workspace_id in pending:
        try:
            # Its own transaction, counting first thing (see segment_trends.count_today).
            with session_scope(engine) as session:
                segment_trends.count_today(session, workspace_id, now)
            done += 1
        except Exception:
            logger.exception("segment trends: counting workspace %s failed", workspace_id)
    return done


async def run_trend_counts() -> None:
    """The app's lifespan task (every CLOODOT_TREND_CHECK_SECONDS; 0: off)."""
    interval = settings.trend_check_seconds
    if interval <= 0:
        logger.debug("segment trends: background counting off")
        return
    while True:
        try:
            await asyncio.to_thread(count_uncounted_workspaces, get_engine())
        except Exception:
            logger.exception("segment trends: a background turn failed; trying again later")
        await asyncio.sleep(interval)
