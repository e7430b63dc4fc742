""" "Save as segment": the current quick filters become a named, saved segment."""

from __future__ import annotations

import reflex as rx

from cloodot_app.db import session_scope
from cloodot_app.filters import FilterError
from cloodot_app.services import segments as segments_service
from cloodot_app.state.workspace import current_workspace_id


def _create(name: str, description: str, spec: dict) -> int:
    with session_scope() as session:
        segment = segments_service.create_segment(
            session, current_workspace_id(), name, spec, description
        )
        return segment.id


class SaveSegmentState(rx.State):
    is_open: bool = False
    name: str = ""
    description: str = ""
    error: str = ""
    saving: bool = False

    @rx.event
    def set_open(self, value: bool):
        self.is_open = value
        if value:
            self.name, self.description, self.error = "", "", ""

    @rx.event
    def set_name(self, value: str):
        self.name = value

    @rx.event
    def set_description(self, value: str):
        self.description = value

    @rx.event
    async def save(self):
        from cloodot_app.state.contacts import ContactsState

        contacts = await self.get_state(ContactsState)
        spec = dict(contacts.filter_spec)
        name, description = self.name, self.description
        try:
            segment_id = await rx.run_in_thread(lambda: _create(name, description, spec))
        except FilterError as error:
            self.error = str(error)
            return
        self.is_open, self.error = False, ""
        return [
            ContactsState.load_segments,
            ContactsState.select_segment(str(segment_id)),
            rx.toast.success(f"Segment “{' '.join(name.split())}” saved."),
        ]
