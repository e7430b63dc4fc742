"""Inline editing of table cells, one cell at a time (a substate of ContactsState: it
edits the page of rows shown there). Saves never overwrite a colleague's change unseen
(edit_conflicts.py)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.services.contact_edits import shown_value
from cloodot_app.state.access import requires
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.edit_conflicts import EditsWithoutOverwrite


class InlineEditState(EditsWithoutOverwrite, ContactsState):
    # "<contact id>:<field key>" of the cell being edited, "" when none is.
    editing_cell: str = ""
    edit_value: str = ""
    edit_error: str = ""
    # The value the cell showed when its editor opened.
    _edit_original: str = ""

    async def _after_save(self) -> None:
        await self._refresh()

    @requires(Capability.EDIT_CONTACTS)
    def start_edit(self, contact_id: int, field: str, value: str):
        self.editing_cell = f"{contact_id}:{field}"
        self.edit_value = self._edit_original = value
        self.edit_error = ""

    @requires(Capability.EDIT_CONTACTS)
    def set_edit_value(self, value: str):
        self.edit_value = value

    @requires(Capability.EDIT_CONTACTS)
    def cancel_edit(self):
        self.editing_cell, self.edit_value, self.edit_error = "", "", ""

    @requires(Capability.EDIT_CONTACTS)
    async def on_edit_key(self, key: str):
        if key == "Enter":
            return InlineEditState.save_edit
        if key == "Escape":
            return InlineEditState.cancel_edit

    @requires(Capability.EDIT_CONTACTS)
    async def save_edit(self):
        """Enter or click-away. An invalid value keeps the editor open with the reason."""
        if not self.editing_cell or self.conflict_message:
            return
        contact_id, field = self.editing_cell.split(":", 1)
        if self.edit_value == self._edit_original:
            return InlineEditState.cancel_edit
        problem = await self._save(int(contact_id), field, self.edit_value, self._edit_original)
        if problem and not self.conflict_message:
            self.edit_error = problem
            return
        self.editing_cell, self.edit_value, self.edit_error = "", "", ""
        if not problem:
            await self._refresh()
            return rx.toast.success("Saved.")

    @requires(Capability.EDIT_CONTACTS)
    async def save_value(self, contact_id: int, field: str, value: Any, expected: str):
        """Editors that commit at once: selects, multi-selects, switches. `expected` is
        the value the cell showed."""
        problem = await self._save(contact_id, field, value, expected)
        if self.conflict_message:
            return
        await self._refresh()
        return rx.toast.error(problem) if problem else rx.toast.success("Saved.")

    @requires(Capability.EDIT_CONTACTS)
    async def toggle_multi(self, contact_id: int, key: str, option: str, checked: bool):
        row = next((r for r in self.rows if r.id == contact_id), None)
        if row is None:
            return
        current = list(row.multi_values.get(key, []))
        values = [v for v in current if v != option] + ([option] if checked else [])
        return InlineEditState.save_value(
            contact_id, f"cf.{key}", values, row.custom_fields.get(key, "")
        )

    @requires(Capability.EDIT_CONTACTS)
    async def set_opt_in(self, contact_id: int, value: bool):
        row = next((r for r in self.rows if r.id == contact_id), None)
        if row is None:
            return rx.toast.error("That contact is no longer in the table.")
        expected = shown_value("campaign_opt_in", row.campaign_opt_in)
        problem = await self._save(contact_id, "campaign_opt_in", bool(value), expected)
        if self.conflict_message:
            return
        await self._refresh()
        if problem:
            return rx.toast.error(problem)
        return rx.toast.success(f"Campaign opt-in turned {'on' if value else 'off'}.")
