""" "Save as segment": the current quick filters become a named, saved segment."""

from __future__ import annotations

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.errors import UserError
from cloodot_app.services import segments as segments_service
from cloodot_app.state.access import in_workspace, requires
from cloodot_app.state.contacts import ContactsState


class SaveSegmentState(rx.State):
    is_open: bool = False
    name: str = ""
    description: str = ""
    error: str = ""
    saving: bool = False

    @requires(Capability.MANAGE_SEGMENTS)
    def set_open(self, value: bool):
        self.is_open = value
        if value:
            self.name, self.description, self.error = "", "", ""

    @requires(Capability.MANAGE_SEGMENTS)
    def set_name(self, value: str):
        self.name = value

    @requires(Capability.MANAGE_SEGMENTS)
    def set_description(self, value: str):
        self.description = value

    @requires(Capability.MANAGE_SEGMENTS)
    async def save(self):
        contacts = await self.get_state(ContactsState)
        name = self.name
        try:
            segment = await in_workspace(
                segments_service.create_segment,
                name,
                dict(contacts.filter_spec),
                self.description,
            )
        except UserError as error:
            self.error = str(error)
            return
        self.is_open, self.error = False, ""
        return [
            ContactsState.load_segments,
            ContactsState.select_segment(str(segment.id)),
            rx.toast.success(f"Segment “{' '.join(name.split())}” saved."),
        ]
