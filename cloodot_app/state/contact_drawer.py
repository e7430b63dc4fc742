"""The contact details drawer: one contact's profile, labels, fields and conversations."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.errors import UserError
from cloodot_app.services import contact_edits
from cloodot_app.services import contacts as contacts_service
from cloodot_app.services import labels as labels_service
from cloodot_app.services.contact_edits import shown_value
from cloodot_app.services.contact_rows import LabelTag
from cloodot_app.services.contacts import ContactDetails, EditableField
from cloodot_app.state.access import in_workspace, requires
from cloodot_app.state.contact_notes import ContactNotesState
from cloodot_app.state.contact_segments import ContactSegmentsState
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.edit_conflicts import EditsWithoutOverwrite


@dataclasses.dataclass
class DrawerField(EditableField):
    """An editable field with the value it showed when loaded (what a save compares
    with) and what went wrong saving it."""

    original: str = ""
    error: str = ""


class ContactDrawerState(EditsWithoutOverwrite, rx.State):
    is_open: bool = False
    loading: bool = False
    contact_id: int = 0
    contact: ContactDetails = ContactDetails()
    fields: list[DrawerField] = []
    all_labels: list[LabelTag] = []
    error: str = ""

    @rx.var
    def addable_labels(self) -> list[LabelTag]:
        attached = {label.id for label in self.contact.labels}
        return [label for label in self.all_labels if label.id not in attached]

    @requires(Capability.VIEW)
    async def open_contact(self, contact_id: int):
        self.is_open, self.loading, self.contact_id, self.error = True, True, contact_id, ""
        yield
        await self._reload()
        if not self.error:
            yield [ContactNotesState.load(contact_id), ContactSegmentsState.load(contact_id)]

    async def _reload(self) -> None:
        try:
            contact = await in_workspace(contacts_service.get_contact, self.contact_id)
            self.all_labels = await in_workspace(labels_service.label_tags)
        except UserError as error:
            self.error, self.loading = str(error), False
            return
        self.contact = contact
        self.fields = [
            DrawerField(**dataclasses.asdict(f), original=f.value) for f in contact.editable_fields
        ]
        self.loading = False

    async def _after_save(self) -> None:
        await self._reload()
        table = await self.get_state(ContactsState)
        await table._refresh()
        # An edit can move the contact into or out of segments.
        segments = await self.get_state(ContactSegmentsState)
        await segments._refresh()

    @requires(Capability.VIEW)
    def set_open(self, value: bool):
        self.is_open = value

    @requires(Capability.EDIT_CONTACTS)
    def set_field_value(self, index: int, value: str):
        if 0 <= index < len(self.fields):
            fields = list(self.fields)
            fields[index] = dataclasses.replace(fields[index], value=value)
            self.fields = fields

    @requires(Capability.EDIT_CONTACTS)
    async def save_field(self, index: int, value: Any = None):
        """Save one field; on a bad value show why next to it and keep what was typed."""
        if not 0 <= index < len(self.fields):
            return
        field = self.fields[index]
        new_value = field.value if value is None else value
        if value is None and field.value == field.original:
            return
        problem = await self._save(self.contact_id, field.key, new_value, field.original)
        if self.conflict_message:
            return
        if problem:
            fields = list(self.fields)
            fields[index] = dataclasses.replace(field, error=problem)
            self.fields = fields
            return
        await self._after_save()
        return rx.toast.success(f"{field.label} saved.")

    @requires(Capability.EDIT_CONTACTS)
    async def toggle_multi(self, index: int, option: str, checked: bool):
        if not 0 <= index < len(self.fields):
            return
        field = self.fields[index]
        values = [v for v in field.chosen if v != option] + ([option] if checked else [])
        return ContactDrawerState.save_field(index, values)

    @requires(Capability.EDIT_CONTACTS)
    async def set_opt_in(self, value: bool):
        expected = shown_value("campaign_opt_in", self.contact.campaign_opt_in)
        problem = await self._save(self.contact_id, "campaign_opt_in", bool(value), expected)
        if self.conflict_message:
            return
        await self._after_save()
        if problem:
            return rx.toast.error(problem)

    @requires(Capability.EDIT_CONTACTS)
    async def add_label(self, label_id: str):
        try:
            added = int(label_id)
        except ValueError:
            return
        return await self._change_labels([*(label.id for label in self.contact.labels), added])

    @requires(Capability.EDIT_CONTACTS)
    async def remove_label(self, label_id: int):
        return await self._change_labels(
            [label.id for label in self.contact.labels if label.id != label_id]
        )

    async def _change_labels(self, label_ids: list[int]):
        try:
            await in_workspace(contact_edits.set_contact_labels, self.contact_id, label_ids)
        except UserError as error:
            return rx.toast.error(str(error))
        await self._after_save()
