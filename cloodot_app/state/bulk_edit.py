"""Bulk edit from the selection bar: add or remove a label, set a field or campaign opt-in
on the selected contacts (a substate of the selection: it edits what is selected there).
The dialog freezes the selection when it opens; the run goes on in the background."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx
from reflex_components_sonner.toast import ToastAction  # type: ignore[import-untyped]

from cloodot_app.access import Capability
from cloodot_app.errors import UserError
from cloodot_app.services import contact_bulk_edits as bulk
from cloodot_app.services.contact_bulk_edits import BulkEditPreview, BulkRequest
from cloodot_app.services.contact_deletes import Selection
from cloodot_app.services.contact_rows import LabelTag
from cloodot_app.services.custom_fields import FieldDefinitionSummary
from cloodot_app.state.access import (
    current_identity,
    in_workspace,
    in_workspace_transactions,
    requires,
)
from cloodot_app.state.selection import SelectionState

ACTIONS = {a.value for a in bulk.BulkAction}
# What the dialog is called, by action.
TITLES = {
    bulk.BulkAction.ADD_LABEL.value: "Add a label",
    bulk.BulkAction.REMOVE_LABEL.value: "Remove a label",
    bulk.BulkAction.SET_FIELD.value: "Set a field",
    bulk.BulkAction.SET_OPT_IN.value: "Set campaign opt-in",
}


class BulkEditState(SelectionState):
    bulk_open: bool = False
    bulk_action: str = ""
    # How many the dialog's frozen selection holds (the N of "all N that match").
    bulk_selected: int = 0
    bulk_labels: list[LabelTag] = []
    bulk_fields: list[FieldDefinitionSummary] = []
    bulk_label_id: str = ""
    bulk_field_key: str = ""
    # The value being set: text for the text-like editors and selects, a list for a
    # multi-select, "on"/"off" for opt-in.
    bulk_value: str = ""
    bulk_values: list[str] = []
    bulk_error: str = ""
    # The counts for the current choice ("" words: nothing counted yet).
    bulk_words: str = ""
    bulk_already: int = 0
    bulk_already_words: str = ""
    bulk_running: bool = False
    bulk_done: int = 0
    bulk_total: int = 0
    _bulk_selection: Selection | None = None
    _bulk_preview: BulkEditPreview | None = None

    @rx.var
    def bulk_title(self) -> str:
        return TITLES.get(self.bulk_action, "Edit contacts")

    @rx.var
    def bulk_to_change(self) -> int:
        return self.bulk_selected - self.bulk_already if self.bulk_words else 0

    @rx.var
    def bulk_field(self) -> FieldDefinitionSummary:
        return next(
            (f for f in self.bulk_fields if f.key == self.bulk_field_key),
            FieldDefinitionSummary(),
        )

    @rx.var
    def bulk_percent(self) -> int:
        return round(100 * self.bulk_done / self.bulk_total) if self.bulk_total else 0

    # ----------------------------------------------------------------- the dialog

    @requires(Capability.BULK_EDIT)
    async def open_bulk_edit(self, action: str):
        """Freeze the selection (the N counted now is what will be edited) and offer the
        workspace's labels and fields."""
        if action not in ACTIONS or self.bulk_running:
            return
        choices = await in_workspace(bulk.bulk_edit_choices, self._selection())
        if not choices.selected:
            return rx.toast.error("None of the selected contacts are there any more.")
        self._bulk_selection, self._bulk_preview = choices.selection, None
        self.bulk_selected = choices.selected
        self.bulk_labels, self.bulk_fields = choices.labels, choices.fields
        self.bulk_action, self.bulk_label_id, self.bulk_field_key = action, "", ""
        self.bulk_value, self.bulk_values, self.bulk_error = "", [], ""
        self.bulk_words, self.bulk_already, self.bulk_already_words = "", 0, ""
        if action == bulk.BulkAction.SET_OPT_IN.value:
            self.bulk_value = "on"
            await self._count()
        self.bulk_open = True

    @requires(Capability.BULK_EDIT)
    def set_bulk_open(self, value: bool):
        # While it runs the dialog shows the progress; closing it lets the run go on.
        self.bulk_open = value

    @requires(Capability.BULK_EDIT)
    async def set_bulk_label(self, value: str):
        self.bulk_label_id = value
        await self._count()

    @requires(Capability.BULK_EDIT)
    async def set_bulk_field(self, key: str):
        self.bulk_field_key, self.bulk_value, self.bulk_values = key, "", []
        await self._count()

    @requires(Capability.BULK_EDIT)
    async def set_bulk_value(self, value: str):
        self.bulk_value = value
        await self._count()

    @requires(Capability.BULK_EDIT)
    async def toggle_bulk_option(self, option: str, checked: bool):
        values = [v for v in self.bulk_values if v != option]
        self.bulk_values = [*values, option] if checked else values
        await self._count()

    def _request(self) -> BulkRequest | None:
        """The dialog's choice as a request, or None while it is incomplete."""
        action = self.bulk_action
        if action in (bulk.BulkAction.ADD_LABEL.value, bulk.BulkAction.REMOVE_LABEL.value):
            if not self.bulk_label_id.isdigit():
                return None
            return BulkRequest(action, label_id=int(self.bulk_label_id))
        if action == bulk.BulkAction.SET_OPT_IN.value:
            return BulkRequest(action, value=self.bulk_value == "on")
        if not self.bulk_field_key:
            return None
        value: Any = self.bulk_value
        if self.bulk_field.type == "multi_select":
            value = list(self.bulk_values)
        elif self.bulk_field.type == "select" and value == "__none__":
            value = ""
        return BulkRequest(action, field_key=self.bulk_field_key, value=value)

    async def _count(self) -> None:
        """How many of the frozen selection change, and how many already have the value;
        a value the field refuses is said inline, and nothing can be applied."""
        self.bulk_words, self.bulk_already, self.bulk_error = "", 0, ""
        self._bulk_preview = None
        request = self._request()
        if request is None or self._bulk_selection is None:
            return
        try:
            preview = await in_workspace(bulk.bulk_edit_preview, self._bulk_selection, request)
        except UserError as error:
            self.bulk_error = str(error)
            return
        self._bulk_preview = preview
        self.bulk_selected = preview.selected
        self.bulk_words, self.bulk_already = preview.plan.words, preview.already
        self.bulk_already_words = preview.plan.already_words

    # ----------------------------------------------------------------- the run

    @requires(Capability.BULK_EDIT)
    def apply_bulk_edit(self):
        if self._bulk_preview is None or self.bulk_running or not self.bulk_to_change:
            return
        self.bulk_running, self.bulk_done = True, 0
        self.bulk_total = self._bulk_preview.selected
        return BulkEditState.run_bulk_edit

    @requires(Capability.BULK_EDIT, background=True)
    async def run_bulk_edit(self):
        """The edit runs chunk by chunk in a worker thread; this loop reports its progress."""
        async with self:
            preview = self._bulk_preview
            if preview is None or not self.bulk_running:
                return
        progress = [0, preview.selected]
        task = asyncio.ensure_future(
            in_workspace_transactions(
                bulk.run_bulk_edit,
                preview.selection,
                preview.plan,
                actor=current_identity(),
                progress=lambda done, total: progress.__setitem__(slice(0, 2), [done, total]),
            )
        )
        while not task.done():
            await asyncio.sleep(0.4)
            async with self:
                self.bulk_done, self.bulk_total = progress[0], progress[1]
        try:
            result = task.result()
        except UserError as error:
            async with self:
                self.bulk_running, self.bulk_error = False, str(error)
            return
        except BaseException:
            async with self:
                self.bulk_running = False
                self.bulk_error = "The bulk edit stopped part-way; what it changed is kept."
            raise
        async with self:
            self._finish_run()
            await self._refresh()
        yield done_toast(result)

    def _finish_run(self) -> None:
        self.bulk_running, self.bulk_open = False, False
        self._bulk_preview = self._bulk_selection = None
        self.selected_ids, self.all_matching = [], False

    @requires(Capability.BULK_EDIT)
    async def undo_bulk_edit(self, bulk_edit_id: int):
        result = await in_workspace(bulk.undo_bulk_edit, bulk_edit_id, actor=current_identity())
        await self._refresh()
        message = f"Undone: {_contacts(result.reverted)} put back."
        if result.kept:
            message += f" {_contacts(result.kept)} edited since kept the new value."
        return rx.toast.success(message)


def done_toast(result: bulk.BulkEditResult):
    """What the run did, with Undo for as long as the server allows it."""
    message = f"{result.words} {_contacts(result.changed)}."
    if not result.changed:
        return rx.toast.info("Nothing to change: every contact already had that value.")
    if result.left_out:
        message += (
            f" {_contacts(result.left_out)} changed since you opened the dialog and"
            " were left as they were."
        )
    undo_ms = int(bulk.UNDO_WINDOW.total_seconds() * 1000)
    return rx.toast.success(
        message,
        description=(
            f"Undo puts back exactly these values for {bulk.UNDO_WORDS}; a contact edited "
            "again since keeps its new value."
        ),
        action=ToastAction(
            label="Undo", on_click=BulkEditState.undo_bulk_edit(result.bulk_edit_id)
        ),
        duration=undo_ms,
        close_button=True,
    )


def _contacts(count: int) -> str:
    return f"{count:,} contact{'' if count == 1 else 's'}"
