"""Contacts → Segments: the list of saved segments, and the segment editor."""

from __future__ import annotations

import dataclasses

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.errors import UserError
from cloodot_app.services import segments as segments_service
from cloodot_app.services.contact_rows import ContactRow
from cloodot_app.services.segments import SegmentSummary
from cloodot_app.state.access import in_workspace, requires
from cloodot_app.state.condition_builder import ConditionBuilderMixin
from cloodot_app.state.trends import trends_after_counting


class SegmentsState(rx.State):
    segments: list[SegmentSummary] = []
    loading: bool = True
    delete_id: int = 0
    delete_name: str = ""
    delete_usage: list[str] = []

    @requires(Capability.VIEW)
    async def load(self):
        segments = await in_workspace(segments_service.segments_with_counts)
        # The counts just taken are today's point of each segment's trend.
        trends = await trends_after_counting({s.id: s.count for s in segments})
        self.segments = [
            dataclasses.replace(s, trend=trends[s.id]) if s.id in trends else s for s in segments
        ]
        self.loading = False

    @requires(Capability.MANAGE_SEGMENTS)
    async def duplicate(self, segment_id: int):
        try:
            copy = (await in_workspace(segments_service.duplicate_segment, segment_id)).name
        except UserError as error:
            return rx.toast.error(str(error))
        await self.load()
        return rx.toast.success(f"Created “{copy}”.")

    @requires(Capability.MANAGE_SEGMENTS)
    async def move(self, segment_id: int, offset: int):
        try:
            await in_workspace(segments_service.move_segment, segment_id, offset)
        except UserError as error:
            return rx.toast.error(str(error))
        await self.load()

    @requires(Capability.MANAGE_SEGMENTS)
    async def set_on_board(self, segment_id: int, value: bool):
        await in_workspace(segments_service.set_on_board, segment_id, bool(value))
        await self.load()

    @requires(Capability.MANAGE_SEGMENTS)
    async def ask_delete(self, segment_id: int):
        segment = next((s for s in self.segments if s.id == segment_id), None)
        if segment is None:
            return
        self.delete_usage = await in_workspace(segments_service.segment_usage, segment_id)
        self.delete_id, self.delete_name = segment_id, segment.name

    @requires(Capability.MANAGE_SEGMENTS)
    def cancel_delete(self, open_: bool = False):
        if not open_:
            self.delete_id = 0

    @requires(Capability.MANAGE_SEGMENTS)
    async def confirm_delete(self):
        segment_id, name = self.delete_id, self.delete_name
        self.delete_id = 0
        try:
            await in_workspace(segments_service.delete_segment, segment_id)
        except UserError as error:
            return rx.toast.error(str(error))
        await self.load()
        return rx.toast.success(f"Deleted the segment “{name}”.")


class SegmentEditorState(ConditionBuilderMixin, rx.State):
    """Create or edit a segment with the same builder as the Quick Filter drawer, with a
    live preview of how many contacts match and the first of them."""

    is_open: bool = False
    segment_id: int = 0  # 0: a new segment
    name: str = ""
    description: str = ""
    color: str = "blue"
    error: str = ""
    preview_count: int = 0
    preview_contacts: list[ContactRow] = []
    preview_problem: str = ""

    def _changed(self):
        return SegmentEditorState.refresh_preview

    @requires(Capability.MANAGE_SEGMENTS)
    async def open_new(self):
        await self._load_drafts({})
        self.segment_id, self.name, self.description, self.color = 0, "", "", "blue"
        self.error, self.is_open = "", True
        return SegmentEditorState.refresh_preview

    @requires(Capability.MANAGE_SEGMENTS)
    async def open_edit(self, segment_id: int):
        try:
            segment = await in_workspace(segments_service.get_segment, segment_id)
        except UserError as error:
            return rx.toast.error(str(error))
        await self._load_drafts(segment.filter_spec)
        self.segment_id = segment_id
        self.name, self.description = segment.name, segment.description
        self.color = segment.color
        self.error = segment.problem
        self.is_open = True
        return SegmentEditorState.refresh_preview

    @requires(Capability.MANAGE_SEGMENTS)
    def set_open(self, value: bool):
        self.is_open = value

    @requires(Capability.MANAGE_SEGMENTS)
    def set_name(self, value: str):
        self.name = value

    @requires(Capability.MANAGE_SEGMENTS)
    def set_description(self, value: str):
        self.description = value

    @requires(Capability.MANAGE_SEGMENTS)
    def set_color(self, value: str):
        if value in segments_service.SEGMENT_COLORS:
            self.color = value

    @requires(Capability.MANAGE_SEGMENTS, supersedes=True)
    async def refresh_preview(self):
        spec = self._draft_spec()
        try:
            preview = await in_workspace(segments_service.preview_spec, spec)
        except UserError as error:
            # Incomplete conditions are normal while typing: say why there is no preview.
            self.preview_problem, self.preview_count, self.preview_contacts = str(error), 0, []
            return
        self.preview_problem, self.preview_count = "", preview.total
        self.preview_contacts = preview.rows

    @requires(Capability.MANAGE_SEGMENTS)
    async def save(self):
        spec = self._draft_spec()
        name, description, color = self.name, self.description, self.color
        segment_id = self.segment_id
        try:
            if segment_id:
                await in_workspace(
                    segments_service.update_segment, segment_id, name, spec, description, color
                )
            else:
                await in_workspace(segments_service.create_segment, name, spec, description, color)
        except UserError as error:
            self.error = str(error)
            return
        self.is_open, self.error = False, ""
        return [SegmentsState.load, rx.toast.success(f"Segment “{' '.join(name.split())}” saved.")]
