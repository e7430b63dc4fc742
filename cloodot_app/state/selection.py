"""Row selection and bulk delete for the contacts table (a substate of ContactsState: it
reads the view and the page of rows from there)."""

from __future__ import annotations

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.errors import UserError
from cloodot_app.services import contact_deletes
from cloodot_app.services.contact_deletes import Selection
from cloodot_app.state.access import current_identity, in_workspace, requires
from cloodot_app.state.contacts import ContactsState


class SelectionState(ContactsState):
    selected_ids: list[int] = []
    # True: the selection is every contact the view matches, across pages.
    all_matching: bool = False
    delete_open: bool = False
    delete_count: int = 0
    delete_with_conversations: int = 0
    deleting: bool = False
    # What the open confirmation is about, frozen when it was shown (never re-read).
    _delete_selection: Selection | None = None

    @rx.var
    def selected_count(self) -> int:
        return self.total if self.all_matching else len(self.selected_ids)

    @rx.var
    def page_selected(self) -> bool:
        ids = set(self.selected_ids)
        return bool(self.rows) and all(row.id in ids for row in self.rows)

    @rx.var
    def delete_without_conversations(self) -> int:
        return self.delete_count - self.delete_with_conversations

    def _selection(self) -> Selection:
        if self.all_matching:
            return Selection(query=self._query())
        return Selection(ids=list(self.selected_ids))

    @requires(Capability.VIEW)
    def toggle_row(self, contact_id: int, checked: bool):
        self.all_matching = False
        ids = [i for i in self.selected_ids if i != contact_id]
        self.selected_ids = [*ids, contact_id] if checked else ids

    @requires(Capability.VIEW)
    def toggle_page(self, checked: bool):
        self.all_matching = False
        page_ids = {row.id for row in self.rows}
        kept = [i for i in self.selected_ids if i not in page_ids]
        self.selected_ids = kept + sorted(page_ids) if checked else kept

    @requires(Capability.VIEW)
    def select_all_matching(self):
        self.all_matching = True
        self.selected_ids = [row.id for row in self.rows]

    @requires(Capability.VIEW)
    def clear_selection(self):
        self.selected_ids, self.all_matching = [], False

    @requires(Capability.DELETE_CONTACTS)
    async def open_delete(self):
        """Tell the user, before anything is deleted, how many have conversations."""
        try:
            preview = await in_workspace(contact_deletes.delete_preview, self._selection())
        except UserError as error:
            return rx.toast.error(str(error))
        self._delete_selection = preview.selection
        self.delete_count = preview.selected
        self.delete_with_conversations = preview.with_conversations
        self.delete_open = preview.selected > 0

    @requires(Capability.DELETE_CONTACTS)
    def set_delete_open(self, value: bool):
        self.delete_open = value and not self.deleting

    @requires(Capability.DELETE_CONTACTS)
    async def confirm_delete(self):
        selection = self._delete_selection
        if selection is None or not self.delete_open:
            return
        self.deleting = True
        yield
        try:
            deleted = await in_workspace(
                contact_deletes.delete_contacts, selection, actor=current_identity()
            )
        except UserError as error:
            yield rx.toast.error(str(error))
            return
        finally:
            self.deleting = False
        promised, self.delete_open, self._delete_selection = self.delete_count, False, None
        self.selected_ids, self.all_matching = [], False
        await self._refresh()
        yield rx.toast.success(_deleted_message(deleted, promised))


def _deleted_message(deleted: int, promised: int) -> str:
    noun = "contact" if deleted == 1 else "contacts"
    message = f"Deleted {deleted:,} {noun}."
    if deleted < promised:
        kept = promised - deleted
        # Changed (a new message, an edit) or deleted by someone else since the dialog
        # counted them: kept rather than deleted unseen.
        message += f" {kept:,} changed since you confirmed and were kept."
    return message
