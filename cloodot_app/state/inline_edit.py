"""Inline editing of table cells, one cell at a time (a substate of ContactsState: it
edits the page of rows shown there)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cloodot_app.errors import UserError
from cloodot_app.services import contacts as contacts_service
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.workspace import in_workspace


class InlineEditState(ContactsState):
    # "<contact id>:<field key>" of the cell being edited, "" when none is.
    editing_cell: str = ""
    edit_value: str = ""
    edit_error: str = ""

    @rx.event
    def start_edit(self, contact_id: int, field: str, value: str):
        self.editing_cell = f"{contact_id}:{field}"
        self.edit_value = value
        self.edit_error = ""

    @rx.event
    def set_edit_value(self, value: str):
        self.edit_value = value

    @rx.event
    def cancel_edit(self):
        self.editing_cell, self.edit_value, self.edit_error = "", "", ""

    @rx.event
    async def on_edit_key(self, key: str):
        if key == "Enter":
            return InlineEditState.save_edit
        if key == "Escape":
            return InlineEditState.cancel_edit

    @rx.event
    async def save_edit(self):
        """Enter or click-away. An invalid value keeps the editor open with the reason."""
        if not self.editing_cell:
            return
        contact_id, field = self.editing_cell.split(":", 1)
        try:
            await in_workspace(
                contacts_service.update_contact_field, int(contact_id), field, self.edit_value
            )
        except UserError as error:
            self.edit_error = str(error)
            return
        self.editing_cell, self.edit_value, self.edit_error = "", "", ""
        await self._refresh()
        return rx.toast.success("Saved.")

    @rx.event
    async def save_value(self, contact_id: int, field: str, value: Any):
        """Editors that commit at once: selects, multi-selects, dates, switches."""
        try:
            await in_workspace(contacts_service.update_contact_field, contact_id, field, value)
        except UserError as error:
            await self._refresh()
            return rx.toast.error(str(error))
        await self._refresh()
        return rx.toast.success("Saved.")

    @rx.event
    async def toggle_multi(self, contact_id: int, key: str, option: str, checked: bool):
        row = next((r for r in self.rows if r.id == contact_id), None)
        current = list(row.multi_values.get(key, [])) if row else []
        values = [v for v in current if v != option] + ([option] if checked else [])
        return InlineEditState.save_value(contact_id, f"cf.{key}", values)
