"""Settings → Custom fields: definitions for contacts and for conversations."""

from __future__ import annotations

import dataclasses

import reflex as rx

from cloodot_app.db import session_scope
from cloodot_app.errors import NotFound
from cloodot_app.fieldtypes import FIELD_TYPES
from cloodot_app.services import custom_fields as fields_service
from cloodot_app.state.workspace import current_workspace_id

FieldError = fields_service.FieldDefinitionError


@dataclasses.dataclass
class FieldItem:
    id: int = 0
    key: str = ""
    label: str = ""
    type: str = "text"
    options: list[str] = dataclasses.field(default_factory=list)
    value_count: int = 0  # ("values" would shadow the var's own .values())
    segments: list[str] = dataclasses.field(default_factory=list)


def _call(fn, *args, **kwargs):
    with session_scope() as session:
        return fn(session, current_workspace_id(), *args, **kwargs)


def _options(text: str) -> list[str]:
    """One option per line (the service refuses commas inside multi-select options)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _update_in_one_transaction(
    field_id: int, old_type: str, new_type: str, label: str, options: list[str], confirmed: bool
) -> None:
    """Type change and rename/options together: a refused rename undoes the type change."""
    with session_scope() as session:
        workspace_id = current_workspace_id()
        if old_type != new_type:
            fields_service.change_field_type(
                session, workspace_id, field_id, new_type, options or None, drop_invalid=confirmed
            )
        fields_service.update_field(
            session,
            workspace_id,
            field_id,
            label,
            options if FIELD_TYPES[new_type].has_options else None,
            drop_values=confirmed,
        )


class CustomFieldsState(rx.State):
    entity: str = "contact"
    fields: list[FieldItem] = []
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
    # The delete confirmation.
    delete_id: int = 0
    delete_label: str = ""
    delete_values: int = 0
    delete_segments: list[str] = []

    @rx.var
    def type_options(self) -> list[list[str]]:
        return [[name, kind.label] for name, kind in FIELD_TYPES.items()]

    @rx.var
    def edit_has_options(self) -> bool:
        return FIELD_TYPES[self.edit_type].has_options if self.edit_type in FIELD_TYPES else False

    @rx.event
    async def load(self):
        entity = self.entity
        items = await rx.run_in_thread(lambda: _call(fields_service.list_fields, entity))
        names = {f.name for f in dataclasses.fields(FieldItem)}
        self.fields = [
            FieldItem(**{k: v for k, v in item.items() if k in names}, value_count=item["values"])
            for item in items
        ]
        self.loading = False

    @rx.event
    async def set_entity(self, value: str):
        self.entity = "conversation" if value == "conversation" else "contact"
        await self.load()

    @rx.event
    def open_new(self):
        self.edit_id, self.edit_label, self.edit_type, self.edit_options = 0, "", "text", ""
        self.edit_error, self.confirm_message, self.editor_open = "", "", True

    @rx.event
    def open_edit(self, field_id: int):
        item = next((f for f in self.fields if f.id == field_id), None)
        if item is None:
            return
        self.edit_id, self.edit_label, self.edit_type = item.id, item.label, item.type
        self.edit_options = "\n".join(item.options)
        self.edit_error, self.confirm_message, self.editor_open = "", "", True

    @rx.event
    def set_editor_open(self, value: bool):
        self.editor_open = value

    @rx.event
    def set_edit_label(self, value: str):
        self.edit_label = value

    @rx.event
    def set_edit_type(self, value: str):
        if value in FIELD_TYPES:
            self.edit_type = value
            self.confirm_message = ""

    @rx.event
    def set_edit_options(self, value: str):
        self.edit_options = value
        self.confirm_message = ""

    @rx.event
    async def save(self, confirmed: bool = False):
        """Save; where stored values would be lost, ask first (then save with consent)."""
        entity, label, type_ = self.entity, self.edit_label, self.edit_type
        options = _options(self.edit_options) if self.edit_has_options else []
        field_id = self.edit_id
        try:
            if not field_id:
                await rx.run_in_thread(
                    lambda: _call(fields_service.create_field, entity, label, type_, options)
                )
            else:
                current = next(f for f in self.fields if f.id == field_id)
                await rx.run_in_thread(
                    lambda: _update_in_one_transaction(
                        field_id, current.type, type_, label, options, confirmed
                    )
                )
        except FieldError as error:
            message = str(error)
            if "Confirm" in message:
                self.confirm_message, self.edit_error = message, ""
            else:
                self.edit_error, self.confirm_message = message, ""
            await self.load()
            return
        except NotFound as error:
            self.edit_error = str(error)
            return
        self.editor_open, self.confirm_message, self.edit_error = False, "", ""
        await self.load()
        return rx.toast.success(f"Field “{' '.join(label.split())}” saved.")

    @rx.event
    async def move(self, field_id: int, offset: int):
        await rx.run_in_thread(lambda: _call(fields_service.move_field, field_id, offset))
        await self.load()

    @rx.event
    async def ask_delete(self, field_id: int):
        item = next((f for f in self.fields if f.id == field_id), None)
        if item is None:
            return
        usage = await rx.run_in_thread(lambda: _call(fields_service.field_usage, field_id))
        self.delete_label, self.delete_values = item.label, usage["values"]
        self.delete_segments = list(usage["segments"])
        self.delete_id = field_id

    @rx.event
    def set_delete_open(self, value: bool):
        if not value:
            self.delete_id = 0

    @rx.event
    async def confirm_delete(self):
        field_id, label = self.delete_id, self.delete_label
        self.delete_id = 0
        try:
            await rx.run_in_thread(lambda: _call(fields_service.delete_field, field_id))
        except NotFound as error:
            return rx.toast.error(str(error))
        await self.load()
        return rx.toast.success(f"Deleted the field “{label}” and its values.")
