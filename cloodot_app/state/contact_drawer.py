"""The contact details drawer: one contact's profile, labels, fields and conversations."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx
import sqlalchemy as sa

from cloodot_app.db import session_scope
from cloodot_app.errors import NotFound
from cloodot_app.fieldtypes import FieldValueError
from cloodot_app.models import CustomFieldDefinition, FieldEntity, Label
from cloodot_app.services import contacts as contacts_service
from cloodot_app.state.inline_edit import save_field
from cloodot_app.state.workspace import current_workspace_id


@dataclasses.dataclass
class DrawerField:
    """One editable field in the drawer."""

    key: str = ""  # "email", "cf.plan", …
    label: str = ""
    type: str = "text"
    value: str = ""
    chosen: list[str] = dataclasses.field(default_factory=list)
    options: list[str] = dataclasses.field(default_factory=list)
    error: str = ""


@dataclasses.dataclass
class ConversationCard:
    id: int = 0
    channel: str = ""
    status: str = ""
    updated_at: str = ""
    labels: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    fields: list[dict[str, str]] = dataclasses.field(default_factory=list)
    messages: list[dict[str, str]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class LabelChoice:
    id: int = 0
    name: str = ""
    color: str = "gray"


def _load(contact_id: int) -> tuple[dict[str, Any], list[CustomFieldDefinition], list[Label]]:
    workspace_id = current_workspace_id()
    with session_scope() as session:
        contact = contacts_service.get_contact(session, workspace_id, contact_id)
        definitions = (
            session.execute(
                sa.select(CustomFieldDefinition)
                .where(
                    CustomFieldDefinition.workspace_id == workspace_id,
                    CustomFieldDefinition.entity == FieldEntity.CONTACT.value,
                )
                .order_by(CustomFieldDefinition.position)
            )
            .scalars()
            .all()
        )
        labels = (
            session.execute(
                sa.select(Label).where(Label.workspace_id == workspace_id).order_by(Label.name)
            )
            .scalars()
            .all()
        )
        return contact, list(definitions), list(labels)


def _set_labels(contact_id: int, label_ids: list[int]) -> None:
    with session_scope() as session:
        contacts_service.set_contact_labels(session, current_workspace_id(), contact_id, label_ids)


class ContactDrawerState(rx.State):
    is_open: bool = False
    loading: bool = False
    contact_id: int = 0
    name: str = ""
    initials: str = ""
    image_url: str = ""
    avatar_color: str = "gray"
    channel: str = ""
    created_at: str = ""
    last_interaction_at: str = ""
    campaign_opt_in: bool = False
    fields: list[DrawerField] = []
    labels: list[LabelChoice] = []
    all_labels: list[LabelChoice] = []
    conversations: list[ConversationCard] = []
    error: str = ""

    @rx.var
    def addable_labels(self) -> list[LabelChoice]:
        attached = {label.id for label in self.labels}
        return [label for label in self.all_labels if label.id not in attached]

    @rx.event
    async def open_contact(self, contact_id: int):
        self.is_open, self.loading, self.contact_id, self.error = True, True, contact_id, ""
        yield
        await self._reload()

    async def _reload(self) -> None:
        try:
            contact, definitions, labels = await rx.run_in_thread(lambda: _load(self.contact_id))
        except NotFound as error:
            self.error, self.loading = str(error), False
            return
        self.name, self.initials = contact["name"], contact["initials"]
        self.image_url, self.avatar_color = contact["image_url"], contact["avatar_color"]
        self.channel, self.created_at = contact["channel"], contact["created_at"]
        self.last_interaction_at = contact["last_interaction_at"]
        self.campaign_opt_in = contact["campaign_opt_in"]
        raw = contact["custom_values"]
        self.fields = [
            DrawerField("name", "Name", "text", contact["name"]),
            DrawerField("email", "Email", "email", contact["email"]),
            DrawerField("phone", "Phone", "phone", contact["phone"]),
            DrawerField("image_url", "Image URL", "url", contact["image_url"]),
        ] + [
            DrawerField(
                key=f"cf.{d.key}",
                label=d.label,
                type=d.type,
                value=contact["custom_fields"].get(d.key, ""),
                chosen=list(raw.get(d.key) or []) if d.type == "multi_select" else [],
                options=list(d.options or []),
            )
            for d in definitions
        ]
        self.labels = [LabelChoice(**label) for label in contact["labels"]]
        self.all_labels = [LabelChoice(label.id, label.name, label.color) for label in labels]
        self.conversations = [
            ConversationCard(
                **{
                    k: c[k]
                    for k in (
                        "id",
                        "channel",
                        "status",
                        "updated_at",
                        "labels",
                        "fields",
                        "messages",
                    )
                }
            )
            for c in contact["conversations"]
        ]
        self.loading = False

    @rx.event
    def set_open(self, value: bool):
        self.is_open = value

    @rx.event
    def set_field_value(self, index: int, value: str):
        fields = list(self.fields)
        fields[index] = dataclasses.replace(fields[index], value=value)
        self.fields = fields

    @rx.event
    async def save_field(self, index: int, value: Any = None):
        """Save one field; on a bad value show why next to it and keep what was typed."""
        from cloodot_app.state.contacts import ContactsState

        field = self.fields[index]
        new_value = field.value if value is None else value
        contact_id = self.contact_id
        try:
            await rx.run_in_thread(lambda: save_field(contact_id, field.key, new_value))
        except (FieldValueError, NotFound) as error:
            fields = list(self.fields)
            fields[index] = dataclasses.replace(field, error=str(error))
            self.fields = fields
            return
        await self._reload()
        return [ContactsState.reload_rows, rx.toast.success(f"{field.label} saved.")]

    @rx.event
    async def toggle_multi(self, index: int, option: str, checked: bool):
        field = self.fields[index]
        values = [v for v in field.chosen if v != option] + ([option] if checked else [])
        return ContactDrawerState.save_field(index, values)

    @rx.event
    async def set_opt_in(self, value: bool):
        from cloodot_app.state.contacts import ContactsState

        contact_id = self.contact_id
        await rx.run_in_thread(lambda: save_field(contact_id, "campaign_opt_in", bool(value)))
        self.campaign_opt_in = bool(value)
        return ContactsState.reload_rows

    @rx.event
    async def add_label(self, label_id: str):
        return await self._change_labels([*(label.id for label in self.labels), int(label_id)])

    @rx.event
    async def remove_label(self, label_id: int):
        return await self._change_labels(
            [label.id for label in self.labels if label.id != label_id]
        )

    async def _change_labels(self, label_ids: list[int]):
        from cloodot_app.state.contacts import ContactsState

        contact_id = self.contact_id
        try:
            await rx.run_in_thread(lambda: _set_labels(contact_id, label_ids))
        except NotFound as error:
            return rx.toast.error(str(error))
        await self._reload()
        return ContactsState.reload_rows
