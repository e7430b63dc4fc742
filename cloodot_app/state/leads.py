"""Contacts → Leads: the Kanban board, one column per segment on the board."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from cloodot_app.db import session_scope
from cloodot_app.errors import NotFound
from cloodot_app.filters import FilterError
from cloodot_app.services import leads as leads_service
from cloodot_app.services.workspaces import data_version, field_catalog
from cloodot_app.state.workspace import current_workspace_id


@dataclasses.dataclass
class LeadCard:
    id: int = 0
    name: str = ""
    initials: str = ""
    image_url: str = ""
    avatar_color: str = "gray"
    channel: str = ""
    labels: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    last_interaction_at: str = ""
    last_message_text: str = ""


@dataclasses.dataclass
class BoardColumn:
    segment_id: int = 0
    name: str = ""
    color: str = "blue"
    total: int = 0
    cards: list[LeadCard] = dataclasses.field(default_factory=list)
    # What dropping a card here does, in words ("" when cards cannot be dropped here).
    drop_words: str = ""
    problem: str = ""


def _card(row: dict[str, Any]) -> LeadCard:
    names = {f.name for f in dataclasses.fields(LeadCard)}
    return LeadCard(**{k: v for k, v in row.items() if k in names})


def _load_board(search: str, loaded: dict[int, int]) -> tuple[list[BoardColumn], int]:
    """Every board column with as many cards as it showed before (at least one load)."""
    workspace_id = current_workspace_id()
    columns = []
    with session_scope() as session:
        version = data_version(session, workspace_id)
        catalog = field_catalog(session, workspace_id)
        for segment in leads_service.board_segments(session, workspace_id):
            column = BoardColumn(segment_id=segment.id, name=segment.name, color=segment.color)
            action = leads_service.drop_action(segment.filter_spec, catalog)
            column.drop_words = action.words if action else ""
            want = max(loaded.get(segment.id, 0), leads_service.CARDS_PER_LOAD)
            try:
                while True:
                    rows, column.total = leads_service.column_cards(
                        session, workspace_id, segment.id, search, len(column.cards)
                    )
                    column.cards.extend(_card(r) for r in rows)
                    if not rows or len(column.cards) >= min(want, column.total):
                        break
            except (FilterError, NotFound) as error:
                column.problem = str(error)
            columns.append(column)
    return columns, version


def _more_cards(segment_id: int, search: str, loaded: int):
    with session_scope() as session:
        return leads_service.column_cards(
            session, current_workspace_id(), segment_id, search, loaded
        )


def _move(contact_id: int, segment_id: int) -> str:
    with session_scope() as session:
        return leads_service.move_card(session, current_workspace_id(), contact_id, segment_id)


class LeadsState(rx.State):
    search: str = ""
    columns: list[BoardColumn] = []
    loading: bool = True
    dragging_id: int = 0
    _version: int = 0

    @rx.event(supersedes=True)
    async def load(self):
        await self._refresh()
        self.loading = False

    async def _refresh(self) -> None:
        """Re-read every column, keeping how far each was scrolled (Live mode uses it)."""
        loaded = {c.segment_id: len(c.cards) for c in self.columns}
        search = self.search
        self.columns, self._version = await rx.run_in_thread(lambda: _load_board(search, loaded))

    @rx.event
    async def set_search(self, value: str):
        self.search = value[:200]
        self.columns = [dataclasses.replace(c, cards=[]) for c in self.columns]
        await self._refresh()

    @rx.event
    async def load_more(self, segment_id: int):
        index = next((i for i, c in enumerate(self.columns) if c.segment_id == segment_id), None)
        if index is None:
            return
        column = self.columns[index]
        if len(column.cards) >= column.total:
            return
        search = self.search
        rows, total = await rx.run_in_thread(
            lambda: _more_cards(segment_id, search, len(column.cards))
        )
        known = {card.id for card in column.cards}
        cards = column.cards + [_card(r) for r in rows if r["id"] not in known]
        columns = list(self.columns)
        columns[index] = dataclasses.replace(column, cards=cards, total=total)
        self.columns = columns

    @rx.event
    def start_drag(self, contact_id: int):
        self.dragging_id = contact_id

    @rx.event
    async def drop_on(self, segment_id: int):
        contact_id, self.dragging_id = self.dragging_id, 0
        if not contact_id:
            return
        return await self._move(contact_id, segment_id)

    @rx.event
    async def move_to(self, contact_id: int, segment_id: int):
        """The keyboard way to do what dragging does (the card's "Move to" menu)."""
        return await self._move(contact_id, segment_id)

    async def _move(self, contact_id: int, segment_id: int):
        try:
            words = await rx.run_in_thread(lambda: _move(contact_id, segment_id))
        except (FilterError, NotFound) as error:
            return rx.toast.error(str(error))
        await self._refresh()
        return rx.toast.success(words)
