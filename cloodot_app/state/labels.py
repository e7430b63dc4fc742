"""Settings → Labels: create, rename, recolour and delete labels."""

from __future__ import annotations

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.errors import UserError
from cloodot_app.services import labels as labels_service
from cloodot_app.services.labels import LabelSummary, LabelUsage
from cloodot_app.state.access import in_workspace, requires


class LabelsState(rx.State):
    labels: list[LabelSummary] = []
    loading: bool = True
    # The create / edit dialog (edit_id 0: a new label).
    editor_open: bool = False
    edit_id: int = 0
    edit_name: str = ""
    edit_color: str = "blue"
    edit_error: str = ""
    # The delete confirmation (delete_id 0: closed).
    delete_id: int = 0
    delete_name: str = ""
    delete_usage: LabelUsage = LabelUsage()

    @requires(Capability.MANAGE_FIELDS)
    async def load(self):
        self.labels = await in_workspace(labels_service.list_labels)
        self.loading = False

    @requires(Capability.MANAGE_FIELDS)
    def open_new(self):
        self.edit_id, self.edit_name, self.edit_color, self.edit_error = 0, "", "blue", ""
        self.editor_open = True

    @requires(Capability.MANAGE_FIELDS)
    def open_edit(self, label_id: int):
        label = next((item for item in self.labels if item.id == label_id), None)
        if label is None:
            return
        self.edit_id, self.edit_name, self.edit_color = label.id, label.name, label.color
        self.edit_error, self.editor_open = "", True

    @requires(Capability.MANAGE_FIELDS)
    def set_editor_open(self, value: bool):
        self.editor_open = value

    @requires(Capability.MANAGE_FIELDS)
    def set_edit_name(self, value: str):
        self.edit_name = value

    @requires(Capability.MANAGE_FIELDS)
    def set_edit_color(self, value: str):
        self.edit_color = value

    @requires(Capability.MANAGE_FIELDS)
    async def save(self):
        label_id, name, color = self.edit_id, self.edit_name, self.edit_color
        try:
            if label_id:
                await in_workspace(labels_service.update_label, label_id, name, color)
            else:
                await in_workspace(labels_service.create_label, name, color)
        except UserError as error:
            self.edit_error = str(error)
            return
        self.editor_open = False
        await self.load()
        return rx.toast.success(f"Label “{' '.join(name.split())}” saved.")

    @requires(Capability.MANAGE_FIELDS)
    async def ask_delete(self, label_id: int):
        label = next((item for item in self.labels if item.id == label_id), None)
        if label is None:
            return
        try:
            self.delete_usage = await in_workspace(labels_service.label_usage, label_id)
        except UserError as error:
            return rx.toast.error(str(error))
        self.delete_name, self.delete_id = label.name, label_id

    @requires(Capability.MANAGE_FIELDS)
    def set_delete_open(self, value: bool):
        if not value:
            self.delete_id = 0

    @requires(Capability.MANAGE_FIELDS)
    async def confirm_delete(self):
        label_id, name = self.delete_id, self.delete_name
        self.delete_id = 0
        try:
            await in_workspace(labels_service.delete_label, label_id)
        except UserError as error:
            return rx.toast.error(str(error))
        await self.load()
        return rx.toast.success(f"Deleted the label “{name}”.")
