"""Live mode: a per-tab background loop that refreshes the table when the data changed."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import reflex as rx

from cloodot_app.settings import settings
from cloodot_app.state.contacts import ContactsState, current_data_version

logger = logging.getLogger(__name__)


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
    last_refreshed: str = ""
    # How many times the loop has woken up (shown nowhere; lets tests see it stop).
    _turns: int = 0

    @rx.event
    def set_live(self, value: bool):
        self.live = bool(value)
        if self.live:
            self.last_refreshed = datetime.now(UTC).isoformat()
            return LiveState.live_loop

    @rx.event(background=True, supersedes=True)
    async def live_loop(self):
        """Every few seconds: ask the cheap "changed since V?" and reload only if so.
        Ends when Live goes off or the tab has gone away."""
        while True:
            await asyncio.sleep(settings.live_interval_seconds)
            async with self:
                if not self.live or not tab_is_connected(self):
                    logger.info("live loop for %s stopped", self.router.session.client_token)
                    return
                self._turns += 1
                contacts = await self.get_state(ContactsState)
                seen = contacts._version
            version = await rx.run_in_thread(current_data_version)
            if version != seen:
                async with self:
                    contacts = await self.get_state(ContactsState)
                    await contacts._refresh()
                    self.last_refreshed = datetime.now(UTC).isoformat()
