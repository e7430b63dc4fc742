"""The column chooser: which custom fields show as columns of the contacts table (a
substate of ContactsState). The choice is kept in the browser's localStorage."""

from __future__ import annotations

import json

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.services import custom_fields as fields_service
from cloodot_app.services.custom_fields import FieldDefinitionSummary
from cloodot_app.state.access import in_workspace, requires
from cloodot_app.state.contacts import ContactsState

# The column chooser's id of the "Latest note" column (custom fields are "entity:key").
LATEST_NOTE_COLUMN = "note:latest"


class ColumnsState(ContactsState):
    # Contact fields (editable) then conversation fields (read-only), in position order.
    columns: list[FieldDefinitionSummary] = []
    # JSON list of "entity:key" ids; "" until the user first chooses.
    visible_columns_json: str = rx.LocalStorage("", name="cloodot.contacts.columns", sync=True)

    @rx.var
    def visible_ids(self) -> list[str]:
        try:
            chosen = json.loads(self.visible_columns_json) if self.visible_columns_json else None
        except ValueError:
            chosen = None
        if not isinstance(chosen, list):
            # Until a user chooses, show the first two contact fields.
            return [f"{c.entity}:{c.key}" for c in self.columns if c.entity == "contact"][:2]
        return [str(item) for item in chosen]

    @rx.var
    def show_latest_note(self) -> bool:
        return LATEST_NOTE_COLUMN in self.visible_ids

    @rx.var
    def visible_columns(self) -> list[FieldDefinitionSummary]:
        shown = set(self.visible_ids)
        return [c for c in self.columns if f"{c.entity}:{c.key}" in shown]

    @requires(Capability.VIEW)
    def toggle_column(self, column_id: str, checked: bool):
        ids = [i for i in self.visible_ids if i != column_id]
        if checked:
            ids.append(column_id)
        self.visible_columns_json = json.dumps(ids)

    @requires(Capability.VIEW)
    async def load_columns(self):
        self.columns = await in_workspace(fields_service.field_definitions)
