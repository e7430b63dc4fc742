"""Settings → Channels: connect WhatsApp numbers, Facebook Pages, Instagram accounts and
WebChat sites; copy their webhook URL, verify token or snippet; rotate, replace the
secret, change a site, disconnect. Admins only (MANAGE_CHANNELS; the services check the
actor again).

An app secret typed into a dialog stays in state only until the dialog closes; the page
never receives a stored secret back, only its last characters.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import reflex as rx

from cloodot_app import routes
from cloodot_app.access import Capability
from cloodot_app.errors import UserError
from cloodot_app.models import ChannelKind
from cloodot_app.services import channels
from cloodot_app.services.channels import KIND_WORDS, META_KINDS, ConnectionRow
from cloodot_app.settings import settings
from cloodot_app.state.access import current_identity, in_workspace, requires

MANAGE = Capability.MANAGE_CHANNELS

# What each kind connects, for the cards at the top of the page.
KIND_CHOICES = [
    (ChannelKind.WHATSAPP.value, "WhatsApp", "A WhatsApp Business number (Cloud API)"),
    (ChannelKind.MESSENGER.value, "Messenger", "A Facebook Page's messages"),
    (ChannelKind.INSTAGRAM.value, "Instagram", "An Instagram professional account's DMs"),
    (ChannelKind.WEBCHAT.value, "WebChat", "A chat widget on your website"),
]


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def webhook_url(key: str) -> str:
    return settings.app_url + routes.API_WEBHOOK.replace("{key}", key)


def webchat_snippet(key: str) -> str:
    return f'<script src="{settings.app_url}/webchat.js" data-site="{key}" async></script>'


@dataclasses.dataclass
class ConnectionView:
    id: int = 0
    kind: str = ""
    kind_label: str = ""
    name: str = ""
    is_meta: bool = False
    webhook_url: str = ""
    verify_token: str = ""
    secret_hint: str = ""
    site_key: str = ""
    snippet: str = ""
    origins: list[str] = dataclasses.field(default_factory=list)
    ask_details: bool = True
    created_at: str = ""
    last_delivery_at: str = ""


def _view(row: ConnectionRow) -> ConnectionView:
    meta = row.kind in META_KINDS
    return ConnectionView(
        id=row.id,
        kind=row.kind.value,
        kind_label=KIND_WORDS[row.kind],
        name=row.name,
        is_meta=meta,
        webhook_url=webhook_url(row.key) if meta else "",
        verify_token=row.verify_token,
        secret_hint=row.secret_hint,
        site_key="" if meta else row.key,
        snippet="" if meta else webchat_snippet(row.key),
        origins=row.allowed_origins,
        ask_details=row.ask_details,
        created_at=_iso(row.created_at),
        last_delivery_at=_iso(row.last_delivery_at),
    )


def _origin_lines(text: str) -> list[str]:
    return [line for line in text.replace(",", "\n").splitlines() if line.strip()]


class ChannelConnectionsState(rx.State):
    """The connections, and the dialogs that change them."""

    connections: list[ConnectionView] = []
    loaded: bool = False

    # The connect dialog.
    connect_open: bool = False
    connect_kind: str = ChannelKind.WHATSAPP.value
    connect_name: str = ""
    connect_secret: str = ""
    connect_origins: str = ""
    connect_ask_details: bool = True
    connect_error: str = ""
    # Shown once, right after connecting: what to paste into the provider's dashboard.
    connected_id: int = 0

    # Replace the app secret (secret_id 0: closed).
    secret_id: int = 0
    new_secret: str = ""
    secret_error: str = ""
    # Rotate the verify token / disconnect (0: closed).
    rotate_id: int = 0
    delete_id: int = 0
    # Edit a WebChat site (edit_id 0: closed).
    edit_id: int = 0
    edit_name: str = ""
    edit_origins: str = ""
    edit_ask_details: bool = True
    edit_error: str = ""

    def _find(self, connection_id: int) -> ConnectionView | None:
        return next((c for c in self.connections if c.id == connection_id), None)

    @rx.var
    def connected(self) -> ConnectionView:
        return self._find(self.connected_id) or ConnectionView()

    @rx.var
    def rotate_name(self) -> str:
        found = self._find(self.rotate_id)
        return f"{found.kind_label} “{found.name}”" if found else ""

    @rx.var
    def delete_name(self) -> str:
        found = self._find(self.delete_id)
        return f"{found.kind_label} “{found.name}”" if found else ""

    @rx.var
    def delete_is_meta(self) -> bool:
        found = self._find(self.delete_id)
        return bool(found and found.is_meta)

    @rx.var
    def secret_name(self) -> str:
        found = self._find(self.secret_id)
        return f"{found.kind_label} “{found.name}”" if found else ""

    @rx.var
    def connect_is_webchat(self) -> bool:
        return self.connect_kind == ChannelKind.WEBCHAT.value

    @rx.var
    def connect_kind_label(self) -> str:
        return next((label for value, label, _ in KIND_CHOICES if value == self.connect_kind), "")

    @requires(MANAGE)
    async def load(self):
        await self._reload()

    async def _reload(self) -> None:
        rows = await in_workspace(channels.list_connections)
        self.connections = [_view(row) for row in rows]
        self.loaded = True

    # ------------------------------------------------------------------ connect

    @requires(MANAGE)
    def open_connect(self, kind: str):
        if kind not in {value for value, _, _ in KIND_CHOICES}:
            kind = ChannelKind.WHATSAPP.value
        self.connect_kind, self.connect_name, self.connect_secret = kind, "", ""
        self.connect_origins, self.connect_ask_details, self.connect_error = "", True, ""
        self.connect_open = True

    @requires(MANAGE)
    def set_connect_open(self, value: bool):
        self.connect_open = value
        if not value:
            self.connect_secret = ""

    @requires(MANAGE)
    def set_connect_kind(self, value: str):
        self.connect_kind, self.connect_error = value, ""

    @requires(MANAGE)
    def set_connect_name(self, value: str):
        self.connect_name = value

    @requires(MANAGE)
    def set_connect_secret(self, value: str):
        self.connect_secret = value

    @requires(MANAGE)
    def set_connect_origins(self, value: str):
        self.connect_origins = value

    @requires(MANAGE)
    def set_connect_ask_details(self, value: bool):
        self.connect_ask_details = bool(value)

    @requires(MANAGE)
    async def connect(self):
        try:
            row = await in_workspace(
                channels.create_connection,
                current_identity(),
                self.connect_kind,
                self.connect_name,
                app_secret=self.connect_secret,
                allowed_origins=_origin_lines(self.connect_origins),
                ask_details=self.connect_ask_details,
            )
        except UserError as error:
            self.connect_error = str(error)
            return
        self.connect_open, self.connect_secret, self.connect_error = False, "", ""
        await self._reload()
        self.connected_id = row.id

    @requires(MANAGE)
    def set_connected_open(self, value: bool):
        if not value:
            self.connected_id = 0

    # ------------------------------------------------------------------ verify token

    @requires(MANAGE)
    def ask_rotate(self, connection_id: int):
        self.rotate_id = connection_id if self._find(connection_id) else 0

    @requires(MANAGE)
    def set_rotate_open(self, value: bool):
        if not value:
            self.rotate_id = 0

    @requires(MANAGE)
    async def rotate(self):
        connection_id, self.rotate_id = self.rotate_id, 0
        await in_workspace(channels.rotate_verify_token, current_identity(), connection_id)
        await self._reload()
        return rx.toast.success(
            "New verify token made: paste it into the Meta dashboard and verify the webhook again."
        )

    # ------------------------------------------------------------------ app secret

    @requires(MANAGE)
    def ask_secret(self, connection_id: int):
        self.secret_id = connection_id if self._find(connection_id) else 0
        self.new_secret, self.secret_error = "", ""

    @requires(MANAGE)
    def set_secret_open(self, value: bool):
        if not value:
            self.secret_id, self.new_secret, self.secret_error = 0, "", ""

    @requires(MANAGE)
    def set_new_secret(self, value: str):
        self.new_secret = value

    @requires(MANAGE)
    async def save_secret(self):
        try:
            await in_workspace(
                channels.replace_app_secret, current_identity(), self.secret_id, self.new_secret
            )
        except UserError as error:
            self.secret_error = str(error)
            return
        self.secret_id, self.new_secret, self.secret_error = 0, "", ""
        await self._reload()
        return rx.toast.success(
            "App secret replaced: deliveries signed with the old one are refused."
        )

    # ------------------------------------------------------------------ WebChat site

    @requires(MANAGE)
    def open_edit(self, connection_id: int):
        found = self._find(connection_id)
        if found is None or found.is_meta:
            return
        self.edit_id, self.edit_name = found.id, found.name
        self.edit_origins = "\n".join(found.origins)
        self.edit_ask_details, self.edit_error = found.ask_details, ""

    @requires(MANAGE)
    def set_edit_open(self, value: bool):
        if not value:
            self.edit_id, self.edit_error = 0, ""

    @requires(MANAGE)
    def set_edit_name(self, value: str):
        self.edit_name = value

    @requires(MANAGE)
    def set_edit_origins(self, value: str):
        self.edit_origins = value

    @requires(MANAGE)
    def set_edit_ask_details(self, value: bool):
        self.edit_ask_details = bool(value)

    @requires(MANAGE)
    async def save_edit(self):
        try:
            await in_workspace(
                channels.update_webchat,
                current_identity(),
                self.edit_id,
                name=self.edit_name,
                allowed_origins=_origin_lines(self.edit_origins),
                ask_details=self.edit_ask_details,
            )
        except UserError as error:
            self.edit_error = str(error)
            return
        self.edit_id, self.edit_error = 0, ""
        await self._reload()
        return rx.toast.success("WebChat site saved.")

    # ------------------------------------------------------------------ disconnect

    @requires(MANAGE)
    def ask_delete(self, connection_id: int):
        self.delete_id = connection_id if self._find(connection_id) else 0

    @requires(MANAGE)
    def set_delete_open(self, value: bool):
        if not value:
            self.delete_id = 0

    @requires(MANAGE)
    async def confirm_delete(self):
        connection_id, self.delete_id = self.delete_id, 0
        said = await in_workspace(channels.delete_connection, current_identity(), connection_id)
        await self._reload()
        return rx.toast.success(f"Disconnected {said}.")
