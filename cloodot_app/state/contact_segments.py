"""The details drawer's Segments: which segments the contact is in, and why (or why not)
for a chosen one. Also opened from a Leads board card's ⋯ menu."""

from __future__ import annotations

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.errors import UserError
from cloodot_app.filters import valid_id
from cloodot_app.services import segment_explain
from cloodot_app.services.segment_explain import SegmentExplanation, SegmentMembership
from cloodot_app.state.access import in_workspace, requires

# The drawer's Segments section (scrolled to when the Leads board asks why).
SECTION_ID = "contact-segments"


class ContactSegmentsState(rx.State):
    contact_id: int = 0
    segments: list[SegmentMembership] = []
    # The segment explained (0: none chosen) and its explanation.
    chosen_id: int = 0
    explanation: SegmentExplanation = SegmentExplanation()
    # A segment to explain as soon as the drawer has opened (the Leads board's menu).
    _pending_id: int = 0

    @rx.var
    def member_of(self) -> list[SegmentMembership]:
        return [segment for segment in self.segments if segment.member]

    @rx.var
    def chosen_value(self) -> str:
        return str(self.chosen_id) if self.chosen_id else ""

    @requires(Capability.VIEW)
    async def load(self, contact_id: int):
        """The drawer opened on a contact: its segments; explain the one the board asked
        about, else the first it is in."""
        self.contact_id, self.segments, self.explanation = contact_id, [], SegmentExplanation()
        pending, self._pending_id = self._pending_id, 0
        await self._refresh(pending)
        if pending:
            return rx.scroll_to(SECTION_ID)

    async def _refresh(self, chosen: int | None = None) -> None:
        """Re-read the segments and explain `chosen` (0: the first the contact is in;
        None: the one explained now, after an edit of the contact)."""
        if not self.contact_id:
            return
        try:
            self.segments = await in_workspace(segment_explain.contact_segments, self.contact_id)
        except UserError:
            self.segments, self.chosen_id = [], 0
            return
        known = {segment.id for segment in self.segments}
        if chosen is None:
            chosen = self.chosen_id if self.chosen_id in known else 0
        if not chosen:
            chosen = next((s.id for s in self.segments if s.member), 0)
        await self._explain(chosen if chosen in known else 0)

    async def _explain(self, segment_id: int) -> None:
        self.chosen_id = segment_id
        if not segment_id:
            self.explanation = SegmentExplanation()
            return
        self.explanation = await in_workspace(
            segment_explain.explain_segment, self.contact_id, segment_id
        )

    @requires(Capability.VIEW)
    async def choose(self, segment_id: str):
        try:
            chosen = int(segment_id)
        except (TypeError, ValueError):
            return
        if not valid_id(chosen) or chosen not in {s.id for s in self.segments}:
            return
        await self._explain(chosen)

    @requires(Capability.VIEW)
    def explain_from_board(self, contact_id: int, segment_id: int):
        """A Leads card's "Why is this contact here?": open its drawer on that segment."""
        from cloodot_app.state.contact_drawer import ContactDrawerState

        self._pending_id = segment_id if valid_id(segment_id) else 0
        return ContactDrawerState.open_contact(contact_id)
