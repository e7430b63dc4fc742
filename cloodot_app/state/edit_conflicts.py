"""Saving one field of a contact without silently overwriting a colleague's change.

Every editor (a table cell, the details drawer) saves with the value it started from. If
someone else changed the value since, nothing is saved: the editor's state shows "Changed
by someone else since you opened it: <theirs>" with Keep theirs / Use mine.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.errors import EditConflict, UserError
from cloodot_app.services import contact_edits
from cloodot_app.services.audit import ConsentSource
from cloodot_app.state.access import current_identity, in_workspace, requires


@dataclasses.dataclass
class PendingEdit:
    """A save that met someone else's change: what to write if the user says Use mine."""

    contact_id: int
    field: str
    value: Any
    theirs: str


class EditsWithoutOverwrite(rx.State, mixin=True):
    """Mixed into the states whose editors save contact fields. The host implements
    `_after_save` (re-read what it shows)."""

    # Non-empty while the conflict dialog is open.
    conflict_message: str = ""
    _pending: PendingEdit | None = None

    async def _after_save(self) -> None:
        raise NotImplementedError

    async def _save(self, contact_id: int, field: str, value: Any, expected: str | None) -> str:
        """Save one field; returns "" when saved, else what went wrong for the user (a
        conflict also opens the dialog)."""
        try:
            await in_workspace(
                contact_edits.update_contact_field,
                contact_id,
                field,
                value,
                expected,
                actor=current_identity(),
                source=ConsentSource.AGENT,
            )
        except EditConflict as conflict:
            self._pending = PendingEdit(contact_id, field, value, conflict.current)
            self.conflict_message = str(conflict)
            return str(conflict)
        except UserError as error:
            return str(error)
        return ""

    @requires(Capability.EDIT_CONTACTS)
    async def keep_theirs(self):
        self.conflict_message, self._pending = "", None
        await self._after_save()

    @requires(Capability.EDIT_CONTACTS)
    async def use_mine(self):
        pending, self.conflict_message, self._pending = self._pending, "", None
        if pending is None:
            return
        problem = await self._save(pending.contact_id, pending.field, pending.value, pending.theirs)
        await self._after_save()
        if problem and not self.conflict_message:
            return rx.toast.error(problem)
        if not problem:
            return rx.toast.success("Saved.")

    @requires(Capability.EDIT_CONTACTS)
    def set_conflict_open(self, value: bool):
        if not value:
            self.conflict_message, self._pending = "", None
