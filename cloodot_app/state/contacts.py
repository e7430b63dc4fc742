"""All Contacts: the table's view (search, sort, page) and the one page of rows it shows."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.errors import UserError
from cloodot_app.filters import FilterError, FilterSpec
from cloodot_app.services import contacts as contacts_service
from cloodot_app.services import segments as segments_service
from cloodot_app.services.contact_rows import ContactRow
from cloodot_app.services.contacts import ContactQuery
from cloodot_app.services.segments import SegmentSummary
from cloodot_app.state.access import in_workspace, requires

logger = logging.getLogger(__name__)


def _page_items(page: int, page_count: int, exact: bool = True) -> list[str]:
    """Page numbers with "…" for long ranges: 1 … 4 5 6 … 20. While the total is only
    known to be over the cap, the last page is unknown: 1 … 4 5 6 …"""
    if not exact:
        shown = sorted({1, 2, page - 1, page, page + 1})
        with_gaps: list[str] = []
        previous = 0
        for number in (n for n in shown if 1 <= n <= page_count):
            if number - previous > 1:
                with_gaps.append("…")
            with_gaps.append(str(number))
            previous = number
        return [*with_gaps, "…"]
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
    """The All Contacts table: the view and the one page of rows it shows.

    What is done to the rows lives in substates that read the view from here: selection
    and bulk delete (selection.py), inline editing (inline_edit.py), the column chooser
    (columns.py).
    """

    search: str = ""
    sort: str = "created_at"
    descending: bool = True
    page: int = 1
    page_size: int = 10
    rows: list[ContactRow] = []
    total: int = 0
    # False while the total is only known to be over services.contacts.COUNT_CAP: the
    # page says "10,000+" and count_exactly fills in the exact number in the background.
    total_exact: bool = True
    page_count: int = 1
    loading: bool = True
    error: str = ""
    # The quick filter (a FilterSpec as JSON) and its conditions in words, for the chips.
    filter_spec: dict[str, Any] = {"match": "all", "conditions": []}
    filter_chips: list[str] = []
    segment_id: int = 0  # 0: no segment
    # The applied segment's rules in words, from the compile that read the rows (banner).
    segment_rules: str = ""
    segments: list[SegmentSummary] = []
    # What could not be used of the link that opened this view ("" when all of it was).
    link_problem: str = ""
    # Backend-only: the workspace data version the rows were read at (for Live mode).
    _version: int = 0

    @rx.var
    def active_segment(self) -> SegmentSummary:
        return next((s for s in self.segments if s.id == self.segment_id), SegmentSummary())

    @rx.var
    def has_filters(self) -> bool:
        return bool(self.filter_chips) or self.search != ""

    # ----------------------------------------------------------------- derived

    @rx.var
    def page_items(self) -> list[str]:
        return _page_items(self.page, self.page_count, self.total_exact)

    @rx.var
    def total_words(self) -> str:
        """The total as the page shows it: "433,984", or "10,000+" while still counting."""
        return f"{self.total:,}" if self.total_exact else f"{self.total:,}+"

    @rx.var
    def range_label(self) -> str:
        if not self.total:
            return "No contacts found"
        first = (self.page - 1) * self.page_size + 1
        last = min(self.total, self.page * self.page_size)
        noun = "contact" if self.total == 1 else "contacts"
        if not self.total_exact:
            last = first + len(self.rows) - 1
            return f"{first:,}–{last:,} of {self.total:,}+ {noun} (counting all…)"
        return f"{first:,}–{last:,} of {self.total:,} {noun}"

    # ----------------------------------------------------------------- loading

    def _query(self) -> ContactQuery:
        return ContactQuery(
            search=self.search,
            filter=FilterSpec.parse(self.filter_spec),
            segment_id=self.segment_id or None,
            sort=self.sort,
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    @requires(Capability.VIEW)
    def load_from_url(self):
        """on_load: take the view from the query string, so views survive a reload. A
        link with parts that cannot be used still shows the table, and says so."""
        view = view_from_query(self.router.url.query_parameters)
        self.search, self.sort, self.descending = view.search, view.sort, view.descending
        self.page, self.page_size = view.page, view.page_size
        self.segment_id, self.filter_spec = view.segment_id, view.filter_spec
        self.link_problem = view.problem
        return [ContactsState.load_segments, ContactsState.load]

    @requires(Capability.VIEW)
    async def load_segments(self):
        self.segments = await in_workspace(segments_service.list_segments)

    async def _refresh(self) -> None:
        """Re-read the current page in place (Live mode): page and selection are kept."""
        try:
            view = await in_workspace(contacts_service.contacts_view, self._query(), exact=True)
        except UserError:
            return
        self._show(view)

    def _show(self, view: contacts_service.ContactsView) -> None:
        self.rows, self.total = view.page.rows, view.page.total
        self.page, self.page_count = view.page.page, view.page.page_count
        self.total_exact = view.page.exact
        self._version = view.version

    @requires(Capability.VIEW, background=True, supersedes=True)
    async def count_exactly(self):
        """After a page whose total is over the cap: count every match (cached under the
        data version, so once per view and change) and show it, if the view is still the
        one that was counted."""
        async with self:
            if self.total_exact:
                return
            query = self._query()
        try:
            total = await in_workspace(contacts_service.count_contacts, query)
        except UserError:
            return
        async with self:
            same = dataclasses.replace(self._query(), page=query.page) == query
            if same and not self.total_exact:
                self.total, self.total_exact = total, True
                self.page_count = max(1, -(-total // self.page_size))

    @requires(Capability.VIEW, supersedes=True)
    async def load(self):
        self.loading = True
        try:
            view = await in_workspace(contacts_service.contacts_view, self._query())
        except UserError as error:
            self.rows, self.total, self.page_count = [], 0, 1
            self.error, self.loading = str(error), False
            return
        self._show(view)
        self.filter_chips, self.segment_rules = view.chips, view.segment_words
        self.error, self.loading = "", False
        events: list[Any] = [
            rx.call_script(f"window.history.replaceState(null, '', {json.dumps(self._url())})")
        ]
        if not self.total_exact:
            events.append(ContactsState.count_exactly)
        return events

    def _url(self) -> str:
        params: dict[str, Any] = {}
        if self.search:
            params["q"] = self.search
        if self.segment_id:
            params["segment"] = self.segment_id
        if self.filter_spec.get("conditions"):
            params["f"] = json.dumps(self.filter_spec, separators=(",", ":"))
        if (self.sort, self.descending) != ("created_at", True):
            params["sort"] = ("-" if self.descending else "") + self.sort
        if self.page > 1:
            params["page"] = self.page
        if self.page_size != 10:
            params["size"] = self.page_size
        return self.router.url.path + ("?" + urlencode(params) if params else "")

    # ----------------------------------------------------------------- filters and segments

    @requires(Capability.VIEW)
    def apply_filter(self, spec: dict[str, Any]):
        self.link_problem = ""
        self.filter_spec = spec
        self.page = 1
        return ContactsState.load

    @requires(Capability.VIEW)
    def remove_chip(self, index: int):
        conditions = list(self.filter_spec.get("conditions", []))
        if 0 <= index < len(conditions):
            conditions.pop(index)
        self.filter_spec = {**self.filter_spec, "conditions": conditions}
        self.page = 1
        return ContactsState.load

    @requires(Capability.VIEW)
    def clear_filters(self):
        self.link_problem = ""
        self.search = ""
        self.filter_spec = {"match": "all", "conditions": []}
        self.page = 1
        return ContactsState.load

    @requires(Capability.VIEW)
    def select_segment(self, value: str):
        """Apply a saved segment: search and quick filters clear, so the rows are exactly
        the segment's definition."""
        self.segment_id = _positive_int(value, 0)
        self.search, self.link_problem = "", ""
        self.filter_spec = {"match": "all", "conditions": []}
        self.page = 1
        return ContactsState.load

    @requires(Capability.VIEW)
    def clear_segment(self):
        return ContactsState.select_segment("0")

    # ----------------------------------------------------------------- view changes

    @requires(Capability.VIEW)
    def set_search(self, value: str):
        self.search = value[:200]
        self.page = 1
        return ContactsState.load

    @requires(Capability.VIEW)
    def clear_search(self):
        return ContactsState.set_search("")

    @requires(Capability.VIEW)
    def sort_by(self, column: str):
        if column not in contacts_service.SORTABLE:
            return
        if self.sort == column:
            self.descending = not self.descending
        else:
            self.sort, self.descending = column, column in ("created_at", "last_interaction_at")
        self.page = 1
        return ContactsState.load

    @requires(Capability.VIEW)
    def go_to_page(self, page: int | str):
        number = _positive_int(page, self.page)
        self.page = min(number, self.page_count)
        return ContactsState.load

    @requires(Capability.VIEW)
    def next_page(self):
        return ContactsState.go_to_page(self.page + 1)

    @requires(Capability.VIEW)
    def previous_page(self):
        return ContactsState.go_to_page(max(1, self.page - 1))

    @requires(Capability.VIEW)
    def set_page_size(self, size: str):
        number = _positive_int(size, 10)
        self.page_size = number if number in contacts_service.PAGE_SIZES else 10
        self.page = 1
        return ContactsState.load


# Ids and page numbers are 32-bit integers in both databases.
MAX_ID = 2**31 - 1
# A filter in a link is a few hundred characters; anything this long is not ours.
MAX_FILTER_LINK_LENGTH = 20_000


def _positive_int(value: Any, default: int) -> int:
    try:
        number = int(str(value)[:12])
    except (TypeError, ValueError):
        return default
    return number if 1 <= number <= MAX_ID else default


@dataclasses.dataclass
class LinkView:
    """A view as a link (the query string) gives it, with what could not be used."""

    search: str = ""
    sort: str = "created_at"
    descending: bool = True
    page: int = 1
    page_size: int = 10
    segment_id: int = 0
    filter_spec: dict[str, Any] = dataclasses.field(
        default_factory=lambda: {"match": "all", "conditions": []}
    )
    problem: str = ""


def view_from_query(params: dict[str, str]) -> LinkView:
    """Read a view from a link. Whatever is in it, this returns a view the table can show:
    a part that cannot be used is dropped and named in `problem`."""
    view, dropped = LinkView(), []
    view.search = params.get("q", "").replace("\x00", "")[:200]
    sort = params.get("sort", "-created_at")
    view.descending = sort.startswith("-")
    if sort.lstrip("-") in contacts_service.SORTABLE:
        view.sort = sort.lstrip("-")
    else:
        view.descending = True
    view.page = _positive_int(params.get("page"), 1)
    size = _positive_int(params.get("size"), 10)
    view.page_size = size if size in contacts_service.PAGE_SIZES else 10
    if params.get("segment"):
        view.segment_id = _positive_int(params.get("segment"), 0)
        if not view.segment_id and params["segment"] != "0":
            dropped.append("segment")
    if params.get("f"):
        try:
            if len(params["f"]) > MAX_FILTER_LINK_LENGTH:
                raise ValueError("too long")
            view.filter_spec = FilterSpec.parse(json.loads(params["f"])).model_dump(mode="json")
        except (ValueError, RecursionError, FilterError):
            dropped.append("filters")
    if dropped:
        view.problem = (
            f"This link's {' and '.join(dropped)} could not be read, so "
            f"{'they are' if len(dropped) > 1 or dropped == ['filters'] else 'it is'} not "
            "applied."
        )
    return view
