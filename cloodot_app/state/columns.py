"""The column chooser (mixed into ContactsState): which custom fields show as columns.

The choice is kept in the browser's localStorage, so it persists per browser.
"""

from __future__ import annotations

import dataclasses
import json

import reflex as rx
import sqlalchemy as sa

from cloodot_app.db import session_scope
from cloodot_app.models import CustomFieldDefinition
from cloodot_app.state.workspace import current_workspace_id


@dataclasses.dataclass
class ColumnChoice:
    key: str = ""  # the JSON key of the custom field
    label: str = ""
    type: str = "text"
    entity: str = "contact"  # contact (editable) or conversation (read-only)
    options: list[str] = dataclasses.field(default_factory=list)


def fetch_columns() -> list[ColumnChoice]:
    with session_scope() as session:
        definitions = session.execute(
            sa.select(CustomFieldDefinition)
            .where(CustomFieldDefinition.workspace_id == current_workspace_id())
            .order_by(CustomFieldDefinition.entity, CustomFieldDefinition.position)
        ).scalars()
        return [
            ColumnChoice(d.key, d.label, d.type, d.entity, list(d.options or []))
            for d in definitions
        ]


class ColumnsMixin(rx.State, mixin=True):
    columns: list[ColumnChoice] = []
    # JSON list of "entity:key" ids; "" until the user first chooses.
    visible_columns_json: str = rx.LocalStorage("", name="cloodot.contacts.columns", sync=True)

    @rx.var
    def visible_ids(self) -> list[str]:
        try:
            chosen = json.loads(self.visible_columns_json) if self.visible_columns_json else None
        except ValueError:
            chosen = None
        if chosen is None:
            # Until a user chooses, show the first two contact fields.
            return [f"{c.entity}:{c.key}" for c in self.columns if c.entity == "contact"][:2]
        return [str(item) for item in chosen]

    @rx.var
    def visible_columns(self) -> list[ColumnChoice]:
        shown = set(self.visible_ids)
        return [c for c in self.columns if f"{c.entity}:{c.key}" in shown]

    @rx.event
    def toggle_column(self, column_id: str, checked: bool):
        ids = [i for i in self.visible_ids if i != column_id]
        if checked:
            ids.append(column_id)
        self.visible_columns_json = json.dumps(ids)

    @rx.event
    async def load_columns(self):
        self.columns = await rx.run_in_thread(fetch_columns)
