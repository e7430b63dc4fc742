"""Settings → Custom fields: definitions for contacts and for conversations."""

from __future__ import annotations

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.errors import FieldDefinitionError, UserError
from cloodot_app.fieldtypes import FIELD_TYPES
from cloodot_app.services import custom_fields as fields_service
from cloodot_app.services.custom_fields import FieldSummary, FieldUsage
from cloodot_app.state.access import in_workspace, requires


def _options(text: str) -> list[str]:
    """One option per line (the service refuses commas inside multi-select options)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


class CustomFieldsState(rx.State):
    entity: str = "contact"
    fields: list[FieldSummary] = []
    loading: bool = True
    # The create / edit dialog (edit_id 0: a new field).
    editor_open: bool = False
    edit_id: int = 0
    edit_label: str = ""
    edit_type: str = "text"
    edit_options: str = ""
    edit_error: str = ""
    # Set when saving needs the user's consent to clear values (type or option change).
    confirm_message: str = ""
    # The delete confirmation (delete_id 0: closed).
    delete_id: int = 0
    delete_label: str = ""
    delete_usage: FieldUsage = FieldUsage()

    @rx.var
    def type_options(self) -> list[list[str]]:
        return [[name, kind.label] for name, kind in FIELD_TYPES.items()]

    @rx.var
    def edit_has_options(self) -> bool:
        return FIELD_TYPES[self.edit_type].has_options if self.edit_type in FIELD_TYPES else False

    @requires(Capability.MANAGE_FIELDS)
    async def load(self):
        self.fields = await in_workspace(fields_service.list_fields, self.entity)
        self.loading = False

    @requires(Capability.MANAGE_FIELDS)
    async def set_entity(self, value: str):
        self.entity = "conversation" if value == "conversation" else "contact"
        await self.load()

    @requires(Capability.MANAGE_FIELDS)
    def open_new(self):
        self.edit_id, self.edit_label, self.edit_type, self.edit_options = 0, "", "text", ""
        self.edit_error, self.confirm_message, self.editor_open = "", "", True

    @requires(Capability.MANAGE_FIELDS)
    def open_edit(self, field_id: int):
        item = next((f for f in self.fields if f.id == field_id), None)
        if item is None:
            return
        self.edit_id, self.edit_label, self.edit_type = item.id, item.label, item.type
        self.edit_options = "\n".join(item.options)
        self.edit_error, self.confirm_message, self.editor_open = "", "", True

    @requires(Capability.MANAGE_FIELDS)
    def set_editor_open(self, value: bool):
        self.editor_open = value

    @requires(Capability.MANAGE_FIELDS)
    def set_edit_label(self, value: str):
        self.edit_label = value

    @requires(Capability.MANAGE_FIELDS)
    def set_edit_type(self, value: str):
        if value in FIELD_TYPES:
            self.edit_type = value
            self.confirm_message = ""

    @requires(Capability.MANAGE_FIELDS)
    def set_edit_options(self, value: str):
        self.edit_options = value
        self.confirm_message = ""

    @requires(Capability.MANAGE_FIELDS)
    async def save(self, confirmed: bool = False):
        """Save; where stored values would be lost, ask first (then save with consent)."""
        label, type_ = self.edit_label, self.edit_type
        options = _options(self.edit_options) if self.edit_has_options else []
        try:
            if self.edit_id:
                await in_workspace(
                    fields_service.save_field, self.edit_id, label, type_, options, confirmed
                )
            else:
                await in_workspace(fields_service.create_field, self.entity, label, type_, options)
        except FieldDefinitionError as error:
            message = str(error)
            if "Confirm" in message:
                self.confirm_message, self.edit_error = message, ""
            else:
                self.edit_error, self.confirm_message = message, ""
            await self.load()
            return
        except UserError as error:
            self.edit_error = str(error)
            return
        self.editor_open, self.confirm_message, self.edit_error = False, "", ""
        await self.load()
        return rx.toast.success(f"Field “{' '.join(label.split())}” saved.")

    @requires(Capability.MANAGE_FIELDS)
    async def move(self, field_id: int, offset: int):
        try:
            await in_workspace(fields_service.move_field, field_id, offset)
        except UserError as error:
            return rx.toast.error(str(error))
        await self.load()

    @requires(Capability.MANAGE_FIELDS)
    async def ask_delete(self, field_id: int):
        item = next((f for f in self.fields if f.id == field_id), None)
        if item is None:
            return
        try:
            self.delete_usage = await in_workspace(fields_service.field_usage, field_id)
        except UserError as error:
            return rx.toast.error(str(error))
        self.delete_label, self.delete_id = item.label, field_id

    @requires(Capability.MANAGE_FIELDS)
    def set_delete_open(self, value: bool):
        if not value:
            self.delete_id = 0

    @requires(Capability.MANAGE_FIELDS)
    async def confirm_delete(self):
        field_id, label = self.delete_id, self.delete_label
        self.delete_id = 0
        try:
            await in_workspace(fields_service.delete_field, field_id)
        except UserError as error:
            return rx.toast.error(str(error))
        await self.load()
        return rx.toast.success(f"Deleted the field “{label}” and its values.")
