"""The details drawer's Notes: a contact's notes, and writing, editing and deleting them."""

from __future__ import annotations

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.errors import UserError
from cloodot_app.services import notes as notes_service
from cloodot_app.services.notes import NoteLine
from cloodot_app.state.access import current_identity, in_workspace, requires
from cloodot_app.state.contact_segments import ContactSegmentsState
from cloodot_app.state.contacts import ContactsState


class ContactNotesState(rx.State):
    contact_id: int = 0
    notes: list[NoteLine] = []
    draft: str = ""
    draft_error: str = ""
    # The note being edited (0: none), its text and what is wrong with it.
    editing_id: int = 0
    edit_text: str = ""
    edit_error: str = ""
    # The note the delete confirmation asks about (0: closed).
    delete_id: int = 0

    @requires(Capability.VIEW)
    async def load(self, contact_id: int):
        """The drawer opened on a contact: its notes, and a clean slate."""
        self.contact_id, self.notes = contact_id, []
        self.draft = self.draft_error = self.edit_text = self.edit_error = ""
        self.editing_id = self.delete_id = 0
        await self._refresh()

    async def _refresh(self) -> None:
        self.notes = await in_workspace(
            notes_service.contact_notes, self.contact_id, current_identity()
        )

    async def _after_change(self) -> None:
        """What a note changes beyond the list: the table's "Latest note" column and the
        segments whose rules look at notes."""
        await self._refresh()
        table = await self.get_state(ContactsState)
        await table._refresh()
        segments = await self.get_state(ContactSegmentsState)
        await segments._refresh()

    @requires(Capability.EDIT_CONTACTS)
    def set_draft(self, value: str):
        self.draft, self.draft_error = value, ""

    @requires(Capability.EDIT_CONTACTS)
    async def add(self):
        try:
            await in_workspace(
                notes_service.add_note, current_identity(), self.contact_id, self.draft
            )
        except notes_service.NoteError as error:
            self.draft_error = str(error)
            return
        self.draft, self.draft_error = "", ""
        await self._after_change()
        return rx.toast.success("Note added.")

    @requires(Capability.EDIT_CONTACTS)
    def start_edit(self, note_id: int):
        note = next((n for n in self.notes if n.id == note_id), None)
        if note is None or not note.can_change:
            return
        self.editing_id, self.edit_text, self.edit_error = note.id, note.body, ""

    @requires(Capability.EDIT_CONTACTS)
    def set_edit_text(self, value: str):
        self.edit_text, self.edit_error = value, ""

    @requires(Capability.EDIT_CONTACTS)
    def cancel_edit(self):
        self.editing_id, self.edit_text, self.edit_error = 0, "", ""

    @requires(Capability.EDIT_CONTACTS)
    async def save_edit(self):
        if not self.editing_id:
            return
        try:
            await in_workspace(
                notes_service.edit_note, current_identity(), self.editing_id, self.edit_text
            )
        except notes_service.NoteError as error:
            self.edit_error = str(error)
            return
        except UserError as error:
            self.editing_id = 0
            await self._refresh()
            return rx.toast.error(str(error))
        self.editing_id, self.edit_text = 0, ""
        await self._after_change()
        return rx.toast.success("Note saved.")

    @requires(Capability.EDIT_CONTACTS)
    def ask_delete(self, note_id: int):
        self.delete_id = note_id

    @requires(Capability.EDIT_CONTACTS)
    def set_delete_open(self, value: bool):
        if not value:
            self.delete_id = 0

    @requires(Capability.EDIT_CONTACTS)
    async def delete(self):
        note_id, self.delete_id = self.delete_id, 0
        if not note_id:
            return
        try:
            await in_workspace(notes_service.delete_note, current_identity(), note_id)
        except UserError as error:
            await self._refresh()
            return rx.toast.error(str(error))
        if self.editing_id == note_id:
            self.editing_id = 0
        await self._after_change()
        return rx.toast.success("Note deleted.")
