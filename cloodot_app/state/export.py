"""The Download CSV dialog: what to export; the file itself streams from an HTTP route."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import reflex as rx

from cloodot_app import routes
from cloodot_app.access import Capability
from cloodot_app.errors import UserError
from cloodot_app.services import export as export_service
from cloodot_app.services.contacts import ContactQuery, count_contacts
from cloodot_app.services.export import ExportOptions, export_filename
from cloodot_app.settings import settings
from cloodot_app.state.access import in_workspace, requires
from cloodot_app.state.columns import ColumnsState
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.urls import backend_url


class ExportState(rx.State):
    is_open: bool = False
    limit: str = ""
    sort: str = "last_interaction_at"
    include_conversation_labels: bool = False
    include_conversation_fields: bool = False
    has_conversation_fields: bool = False
    matching: int = 0
    max_rows: int = settings.export_max_rows
    error: str = ""
    # The view being exported (copied from the table when the dialog opens).
    _query: ContactQuery | None = None

    @rx.var
    def allowed(self) -> int:
        return min(self.matching, self.max_rows)

    @requires(Capability.EXPORT)
    async def open_dialog(self):
        contacts = await self.get_state(ContactsState)
        columns = await self.get_state(ColumnsState)
        self._query = contacts._query()
        matching = contacts.total
        if not contacts.total_exact:
            # The table still says "10,000+": the dialog needs the real number.
            matching = await in_workspace(count_contacts, self._query)
        self.matching = matching
        self.has_conversation_fields = any(c.entity == "conversation" for c in columns.columns)
        self.limit = str(min(matching, self.max_rows))
        self.error = ""
        self.is_open = True

    @requires(Capability.EXPORT)
    def set_open(self, value: bool):
        self.is_open = value

    @requires(Capability.EXPORT)
    def set_limit(self, value: str):
        self.limit = value

    @requires(Capability.EXPORT)
    def set_sort(self, value: str):
        self.sort = value if value in ("last_interaction_at", "created_at") else self.sort

    @requires(Capability.EXPORT)
    def set_include_conversation_labels(self, value: bool):
        self.include_conversation_labels = bool(value)

    @requires(Capability.EXPORT)
    def set_include_conversation_fields(self, value: bool):
        self.include_conversation_fields = bool(value) and self.has_conversation_fields

    @requires(Capability.EXPORT)
    async def confirm(self):
        """Check the options at the service layer, then let the browser fetch the file."""
        try:
            limit = int(self.limit)
        except ValueError:
            self.error = "Enter how many contacts to export, as a whole number."
            return
        if self._query is None:
            self.error = "Open the dialog again from the contacts table."
            return
        options = ExportOptions(
            query=self._query,
            limit=limit,
            sort=self.sort,
            include_conversation_labels=self.include_conversation_labels,
            include_conversation_fields=self.include_conversation_fields,
        )
        try:
            rows, ticket = await in_workspace(
                export_service.prepare_export, options, settings.export_max_rows
            )
        except UserError as error:
            self.error = str(error)
            return
        if rows == 0:
            self.error = "No contacts match this view, so there is nothing to export."
            return
        self.is_open, self.error = False, ""
        filename = export_filename(datetime.now(UTC).date())
        url = backend_url(f"{routes.API_CONTACTS_EXPORT}?ticket={quote(ticket)}")
        noun = "contact" if rows == 1 else "contacts"
        return [
            # A Var, because rx.download only takes relative strings and the dev
            # server's backend lives on another port.
            rx.download(url=rx.Var.create(url), filename=filename),
            rx.toast.success(f"Downloading {rows:,} {noun} as {filename}."),
        ]
