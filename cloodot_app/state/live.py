"""Live mode: a per-tab background loop that refreshes the page when the data changed."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import UTC, datetime

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.services.workspaces import data_version
from cloodot_app.settings import settings
from cloodot_app.state.access import current_identity, in_workspace, requires, still_admitted
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.leads import LeadsState

logger = logging.getLogger(__name__)

# The page states Live mode can refresh; each has `_version` and `async _refresh()`.
LIVE_TARGETS: dict[str, type[rx.State]] = {"contacts": ContactsState, "leads": LeadsState}

# How often an idle loop asks whether its member is still signed in. A refresh always
# asks first (no row reaches a removed member); this only ends the loops of sessions that
# ended while nothing changed. Asking every turn was a session query per tab every 3 s.
ADMISSION_CHECK_SECONDS = 60.0

# This worker's latest data version per workspace: (when it was read, monotonic; version).
# The Live tabs of a workspace on one worker share one query per half interval instead of
# one per tab per turn (200 tabs: 67 queries a second, bench/README.md "Issue 10: 200 idle
# Live tabs"); a change still shows within 1.5 intervals.
_versions: dict[int, tuple[float, int]] = {}


async def shared_data_version() -> int:
    """The data version of the running member's workspace, at most half an interval old."""
    workspace_id = current_identity().workspace_id
    read_at, version = _versions.get(workspace_id, (-math.inf, 0))
    if time.monotonic() - read_at < settings.live_interval_seconds / 2:
        return version
    read_at = time.monotonic()
    version = await in_workspace(data_version)
    _versions[workspace_id] = (read_at, version)
    return version


async def _still_admitted(state: LiveState) -> bool:
    """Is the loop's member still signed in with VIEW? If not, Live goes off."""
    if await still_admitted(state, Capability.VIEW):
        return True
    async with state:
        state.live = False
    return False


def tab_is_connected(state: rx.State) -> bool:
    """Is the browser tab that started this loop still connected to this worker?"""
    from reflex.utils.prerequisites import get_app

    namespace = get_app().app.event_namespace
    if namespace is None:
        return False
    session = state.router.session
    return namespace.token_to_sid.get(session.client_token) == session.session_id


class LiveState(rx.State):
    live: bool = False
    target: str = "contacts"
    last_refreshed: str = ""

    @requires(Capability.VIEW)
    def set_live(self, target: str, value: bool):
        if target not in LIVE_TARGETS:
            return
        self.live, self.target = bool(value), target
        if self.live:
            self.last_refreshed = datetime.now(UTC).isoformat()
            return LiveState.live_loop

    @requires(Capability.VIEW)
    def stop(self):
        """on_load of every page: Live is per page, and starts off."""
        self.live = False

    @requires(Capability.VIEW, background=True, supersedes=True)
    async def live_loop(self):
        """Every few seconds: ask the cheap "changed since V?" and reload only if so.
        Ends when Live goes off, the tab has gone away, or its session has ended (a member
        removed meanwhile stops receiving rows at once).

        An idle turn reads neither the page's state (a Leads board is ~80 KB to unpickle)
        nor the database beyond the shared data version: the page is compared only when
        the version moved since the last turn."""
        admitted_at = time.monotonic()  # the handler's guard has just admitted the member
        compared: int | None = None  # the data version the page was last compared with
        while True:
            await asyncio.sleep(settings.live_interval_seconds)
            async with self:
                if not self.live or not tab_is_connected(self):
                    logger.info("live loop for %s stopped", self.router.session.client_token)
                    return
                target = self.target
            if time.monotonic() - admitted_at >= ADMISSION_CHECK_SECONDS:
                if not await _still_admitted(self):
                    return
                admitted_at = time.monotonic()
            version = await shared_data_version()
            if version == compared:
                continue
            if not await _still_admitted(self):
                return
            admitted_at = time.monotonic()
            async with self:
                page = await self.get_state(LIVE_TARGETS[target])
                seen = page._version
                if seen != version:
                    await page._refresh()
                    self.last_refreshed = datetime.now(UTC).isoformat()
            compared = version
            if seen != version:
                # One line per page re-read: bench/live_bench.py counts them (idle tabs
                # must add none), and an operator sees what a change cost.
                logger.info("live refresh of %s (data version %s -> %s)", target, seen, version)
