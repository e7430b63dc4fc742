"""All Contacts: the table's view (search, sort, page) and the one page of rows it shows."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import reflex as rx

from cloodot_app.db import session_scope
from cloodot_app.fieldtypes import FieldValueError
from cloodot_app.filters import FilterError
from cloodot_app.services import contacts as contacts_service
from cloodot_app.services.contacts import ContactQuery, NotFound
from cloodot_app.state.workspace import current_workspace_id

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class ContactRow:
    """One row of the table, as plain data (never an ORM object)."""

    id: int = 0
    name: str = ""
    initials: str = ""
    email: str = ""
    phone: str = ""
    image_url: str = ""
    avatar_color: str = "gray"
    channel: str = ""
    created_at: str = ""
    last_interaction_at: str = ""
    last_message_text: str = ""
    last_message_direction: str = ""
    campaign_opt_in: bool = False
    labels: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    custom_fields: dict[str, str] = dataclasses.field(default_factory=dict)
    conversation_fields: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_service(cls, row: dict[str, Any]) -> ContactRow:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in names})


def _page_items(page: int, page_count: int) -> list[str]:
    """Page numbers with "…" for long ranges: 1 … 4 5 6 … 20."""
    if page_count <= 7:
        return [str(n) for n in range(1, page_count + 1)]
    shown = sorted({1, 2, page - 1, page, page + 1, page_count - 1, page_count})
    items: list[str] = []
    previous = 0
    for number in shown:
        if 1 <= number <= page_count:
            if number - previous > 1:
                items.append("…")
            items.append(str(number))
            previous = number
    return items


class ContactsState(rx.State):
    """The All Contacts table."""

    search: str = ""
    sort: str = "created_at"
    descending: bool = True
    page: int = 1
    page_size: int = 10
    rows: list[ContactRow] = []
    total: int = 0
    page_count: int = 1
    loading: bool = True
    error: str = ""

    # ----------------------------------------------------------------- derived

    @rx.var
    def page_items(self) -> list[str]:
        return _page_items(self.page, self.page_count)

    @rx.var
    def range_label(self) -> str:
        if not self.total:
            return "No contacts found"
        first = (self.page - 1) * self.page_size + 1
        last = min(self.total, self.page * self.page_size)
        noun = "contact" if self.total == 1 else "contacts"
        return f"{first:,}–{last:,} of {self.total:,} {noun}"

    # ----------------------------------------------------------------- loading

    def _query(self) -> ContactQuery:
        return ContactQuery(
            search=self.search,
            sort=self.sort,
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    @rx.event
    def load_from_url(self):
        """on_load: take the view from the query string, so views survive a reload."""
        params = self.router.url.query_parameters
        self.search = params.get("q", "")
        sort = params.get("sort", "-created_at")
        self.descending = sort.startswith("-")
        self.sort = sort.lstrip("-") if sort.lstrip("-") in contacts_service.SORTABLE else "created_at"
        self.page = _positive_int(params.get("page"), 1)
        size = _positive_int(params.get("size"), 10)
        self.page_size = size if size in contacts_service.PAGE_SIZES else 10
        return ContactsState.load

    @rx.event(supersedes=True)
    async def load(self):
        self.loading = True
        query = self._query()
        try:
            page = await rx.run_in_thread(lambda: _fetch_page(query))
        except (FilterError, NotFound) as error:
            self.error, self.loading = str(error), False
            return
        self.rows = [ContactRow.from_service(row) for row in page.rows]
        self.total, self.page, self.page_count = page.total, page.page, page.page_count
        self.error, self.loading = "", False

    # ----------------------------------------------------------------- view changes

    @rx.event
    def set_search(self, value: str):
        self.search = value[:200]
        self.page = 1
        return ContactsState.load

    @rx.event
    def clear_search(self):
        return ContactsState.set_search("")

    @rx.event
    def sort_by(self, column: str):
        if column not in contacts_service.SORTABLE:
            return
        if self.sort == column:
            self.descending = not self.descending
        else:
            self.sort, self.descending = column, column in ("created_at", "last_interaction_at")
        self.page = 1
        return ContactsState.load

    @rx.event
    def go_to_page(self, page: int | str):
        number = _positive_int(page, self.page)
        self.page = min(number, self.page_count)
        return ContactsState.load

    @rx.event
    def next_page(self):
        return ContactsState.go_to_page(self.page + 1)

    @rx.event
    def previous_page(self):
        return ContactsState.go_to_page(max(1, self.page - 1))

    @rx.event
    def set_page_size(self, size: str):
        number = _positive_int(size, 10)
        self.page_size = number if number in contacts_service.PAGE_SIZES else 10
        self.page = 1
        return ContactsState.load

    # ----------------------------------------------------------------- edits

    @rx.event
    async def set_opt_in(self, contact_id: int, value: bool):
        try:
            stored = await rx.run_in_thread(
                lambda: _update_field(contact_id, "campaign_opt_in", bool(value))
            )
        except (FieldValueError, NotFound) as error:
            return rx.toast.error(str(error))
        for row in self.rows:
            if row.id == contact_id:
                row.campaign_opt_in = stored
        self.rows = list(self.rows)
        state = "on" if stored else "off"
        return rx.toast.success(f"Campaign opt-in turned {state}.")


def _positive_int(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number >= 1 else default


def _fetch_page(query: ContactQuery) -> contacts_service.Page:
    with session_scope() as session:
        return contacts_service.list_contacts(session, current_workspace_id(), query)


def _update_field(contact_id: int, field: str, value: Any) -> Any:
    with session_scope() as session:
        return contacts_service.update_contact_field(
            session, current_workspace_id(), contact_id, field, value
        )
