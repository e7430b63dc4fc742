"""Live mode: a per-tab background loop that refreshes the page when the data changed."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.services.workspaces import data_version
from cloodot_app.settings import settings
from cloodot_app.state.access import in_workspace, requires, still_admitted
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.leads import LeadsState

logger = logging.getLogger(__name__)

# The page states Live mode can refresh; each has `_version` and `async _refresh()`.
LIVE_TARGETS: dict[str, type[rx.State]] = {"contacts": ContactsState, "leads": LeadsState}


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
        removed meanwhile stops receiving rows at once)."""
        while True:
            await asyncio.sleep(settings.live_interval_seconds)
            async with self:
                if not self.live or not tab_is_connected(self):
                    logger.info("live loop for %s stopped", self.router.session.client_token)
                    return
                page = await self.get_state(LIVE_TARGETS[self.target])
                seen = page._version
            if not await still_admitted(self, Capability.VIEW):
                async with self:
                    self.live = False
                return
            version = await in_workspace(data_version)
            if version != seen:
                async with self:
                    page = await self.get_state(LIVE_TARGETS[self.target])
                    await page._refresh()
                    self.last_refreshed = datetime.now(UTC).isoformat()
