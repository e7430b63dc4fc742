"""Contacts → Duplicates: the possible duplicates, and the merge dialog that puts a
group's contacts side by side and merges them into the primary."""

from __future__ import annotations

import dataclasses

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.errors import UserError
from cloodot_app.services import contact_merges
from cloodot_app.services.contact_merges import (
    DuplicateGroup,
    MergeCandidate,
    MergePreview,
    MergeValue,
)
from cloodot_app.services.contact_rows import LabelTag
from cloodot_app.state.access import current_identity, in_workspace, requires


@dataclasses.dataclass
class MergeRow:
    """A field in the merge dialog: each contact's value and whose is kept."""

    key: str = ""
    label: str = ""
    # Each contact's value ("values" would shadow a Var's .values()).
    cells: list[MergeValue] = dataclasses.field(default_factory=list)
    chosen: str = ""  # the contact id whose value survives, as text (a radio's value)
    differs: bool = False


class DuplicatesState(rx.State):
    groups: list[DuplicateGroup] = []
    loading: bool = True
    error: str = ""
    merge_open: bool = False
    merging: bool = False
    merge_contacts: list[MergeCandidate] = []
    merge_rows: list[MergeRow] = []
    merge_labels: list[LabelTag] = []
    primary_id: str = ""
    _merge_ids: list[int] = []

    @rx.var
    def primary_name(self) -> str:
        return next((c.name for c in self.merge_contacts if str(c.id) == self.primary_id), "")

    @rx.var
    def merge_columns(self) -> str:
        """The dialog's grid: the field names, then one column per contact."""
        return f"140px repeat({max(1, len(self.merge_contacts))}, minmax(150px, 1fr))"

    @requires(Capability.MERGE_CONTACTS)
    async def load(self):
        self.loading = True
        yield
        try:
            self.groups = await in_workspace(contact_merges.find_duplicates)
            self.error = ""
        except UserError as error:
            self.groups, self.error = [], str(error)
        self.loading = False

    @requires(Capability.MERGE_CONTACTS)
    async def open_merge(self, group_index: int):
        if not 0 <= group_index < len(self.groups):
            return
        ids = [member.id for member in self.groups[group_index].members]
        await self._preview(ids, None)
        self.merge_open = True

    async def _preview(self, ids: list[int], primary_id: int | None) -> None:
        preview: MergePreview = await in_workspace(contact_merges.merge_preview, ids, primary_id)
        self._merge_ids = [c.id for c in preview.contacts]
        self.merge_contacts, self.merge_labels = preview.contacts, preview.labels
        self.primary_id = str(preview.primary_id)
        self.merge_rows = [
            MergeRow(f.key, f.label, f.values, str(f.default_contact_id), f.differs)
            for f in preview.fields
            # A field none of them has a value in: nothing to choose or keep.
            if any(v.shown for v in f.values)
        ]

    @requires(Capability.MERGE_CONTACTS)
    async def set_primary(self, contact_id: str):
        """A new primary: its values become the defaults again."""
        contact_id = str(contact_id)
        if not contact_id.isdigit() or int(contact_id) not in self._merge_ids:
            return
        await self._preview(self._merge_ids, int(contact_id))

    @requires(Capability.MERGE_CONTACTS)
    def choose(self, key: str, contact_id: str):
        contact_id = str(contact_id)
        self.merge_rows = [
            dataclasses.replace(row, chosen=contact_id) if row.key == key else row
            for row in self.merge_rows
        ]

    @requires(Capability.MERGE_CONTACTS)
    def set_merge_open(self, value: bool):
        self.merge_open = value and not self.merging

    @requires(Capability.MERGE_CONTACTS)
    async def confirm_merge(self):
        if not self.merge_open or not self.primary_id.isdigit() or len(self._merge_ids) < 2:
            return
        choices = {row.key: int(row.chosen) for row in self.merge_rows if row.chosen.isdigit()}
        self.merging = True
        yield
        try:
            result = await in_workspace(
                contact_merges.merge_contacts,
                int(self.primary_id),
                list(self._merge_ids),
                choices,
                actor=current_identity(),
            )
        except UserError as error:
            self.merging = False
            yield rx.toast.error(str(error))
            return
        self.merging, self.merge_open, self._merge_ids = False, False, []
        yield rx.toast.success(f"Merged {result.merged + 1} contacts into {result.name}.")
        yield DuplicatesState.load
