"""Row selection and bulk delete for the contacts table (mixed into ContactsState)."""

from __future__ import annotations

import reflex as rx

from cloodot_app.db import session_scope
from cloodot_app.services import contacts as contacts_service
from cloodot_app.services.contacts import ContactQuery, Selection
from cloodot_app.state.workspace import current_workspace_id


class SelectionMixin(rx.State, mixin=True):
    selected_ids: list[int] = []
    # True: the selection is every contact the view matches, across pages.
    all_matching: bool = False
    delete_open: bool = False
    delete_count: int = 0
    delete_with_conversations: int = 0
    deleting: bool = False

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

    @rx.event
    def toggle_row(self, contact_id: int, checked: bool):
        self.all_matching = False
        ids = [i for i in self.selected_ids if i != contact_id]
        self.selected_ids = [*ids, contact_id] if checked else ids

    @rx.event
    def toggle_page(self, checked: bool):
        self.all_matching = False
        page_ids = {row.id for row in self.rows}
        kept = [i for i in self.selected_ids if i not in page_ids]
        self.selected_ids = kept + sorted(page_ids) if checked else kept

    @rx.event
    def select_all_matching(self):
        self.all_matching = True
        self.selected_ids = [row.id for row in self.rows]

    @rx.event
    def clear_selection(self):
        self.selected_ids, self.all_matching = [], False

    @rx.event
    async def open_delete(self):
        """Tell the user, before anything is deleted, how many have conversations."""
        selection = self._selection()
        preview = await rx.run_in_thread(lambda: _preview(selection))
        self.delete_count = preview.selected
        self.delete_with_conversations = preview.with_conversations
        self.delete_open = preview.selected > 0

    @rx.event
    def set_delete_open(self, value: bool):
        self.delete_open = value and not self.deleting

    @rx.event
    async def confirm_delete(self):
        self.deleting = True
        yield
        selection = self._selection()
        try:
            deleted = await rx.run_in_thread(lambda: _delete(selection))
        finally:
            self.deleting = False
        self.delete_open = False
        self.selected_ids, self.all_matching = [], False
        await self._refresh()
        noun = "contact" if deleted == 1 else "contacts"
        yield rx.toast.success(f"Deleted {deleted:,} {noun}.")


def _preview(selection: Selection) -> contacts_service.DeletePreview:
    with session_scope() as session:
        return contacts_service.delete_preview(session, current_workspace_id(), selection)


def _delete(selection: Selection) -> int:
    with session_scope() as session:
        return contacts_service.delete_contacts(session, current_workspace_id(), selection)


__all__ = ["ContactQuery", "SelectionMixin"]
