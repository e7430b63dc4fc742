"""Contacts → Leads: the Kanban board, one column per segment on the board."""

from __future__ import annotations

import dataclasses

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.errors import UserError
from cloodot_app.services import leads as leads_service
from cloodot_app.services.leads import BoardColumn
from cloodot_app.state.access import in_workspace, requires
from cloodot_app.state.trends import trends_after_counting, trends_of


class LeadsState(rx.State):
    search: str = ""
    columns: list[BoardColumn] = []
    loading: bool = True
    dragging_id: int = 0
    _version: int = 0

    @requires(Capability.VIEW, supersedes=True)
    async def load(self):
        await self._refresh()
        self.loading = False

    async def _refresh(self) -> None:
        """Re-read every column, keeping how far each was scrolled (Live mode uses it)."""
        loaded = {c.segment_id: len(c.cards) for c in self.columns}
        board = await in_workspace(leads_service.load_board, self.search, loaded)
        if self.search:
            trends = await trends_of(c.segment_id for c in board.columns)
        else:
            # Without a search each column's total is its segment's count: today's point
            # (kept up to date by Live mode, which refreshes through here).
            trends = await trends_after_counting(
                {c.segment_id: None if c.problem else c.total for c in board.columns}
            )
        self.columns = [
            dataclasses.replace(c, trend=trends[c.segment_id]) if c.segment_id in trends else c
            for c in board.columns
        ]
        self._version = board.version

    @requires(Capability.VIEW)
    async def set_search(self, value: str):
        self.search = value[:200]
        self.columns = [dataclasses.replace(c, cards=[]) for c in self.columns]
        await self._refresh()

    @requires(Capability.VIEW)
    async def load_more(self, segment_id: int):
        index = next((i for i, c in enumerate(self.columns) if c.segment_id == segment_id), None)
        if index is None:
            return
        column = self.columns[index]
        if len(column.cards) >= column.total:
            return
        try:
            cards, total = await in_workspace(
                leads_service.column_cards, segment_id, self.search, len(column.cards)
            )
        except UserError as error:
            return rx.toast.error(str(error))
        known = {card.id for card in column.cards}
        columns = list(self.columns)
        columns[index] = dataclasses.replace(
            column, cards=column.cards + [c for c in cards if c.id not in known], total=total
        )
        self.columns = columns

    @requires(Capability.MANAGE_SEGMENTS)
    def start_drag(self, contact_id: int):
        self.dragging_id = contact_id

    @requires(Capability.MANAGE_SEGMENTS)
    async def drop_on(self, segment_id: int):
        contact_id, self.dragging_id = self.dragging_id, 0
        if not contact_id:
            return
        return await self._move(contact_id, segment_id)

    @requires(Capability.MANAGE_SEGMENTS)
    async def move_to(self, contact_id: int, segment_id: int):
        """The keyboard way to do what dragging does (the card's "Move to" menu)."""
        return await self._move(contact_id, segment_id)

    async def _move(self, contact_id: int, segment_id: int):
        try:
            words = await in_workspace(leads_service.move_card, contact_id, segment_id)
        except UserError as error:
            return rx.toast.error(str(error))
        await self._refresh()
        return rx.toast.success(words)
