"""Settings → Channels' handlers: connecting each kind (what to paste shown once, the app
secret never sent back), refused input shown in the dialog, rotating the verify token,
replacing the secret, editing a WebChat site, disconnecting; lesser roles refused."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from cloodot_app.db import session_scope
from cloodot_app.models import AuditEntry, ChannelConnection
from cloodot_app.settings import settings
from cloodot_app.state.channels import ChannelConnectionsState as S
from tests.state.conftest import Tab, run
from tests.unit.accounts_helpers import isolate_accounts

SECRET = "5f3c2a9e8b7d6c1f0e4a3b2c1d0e9f8a"
NEW_SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    isolate_accounts(monkeypatch)


@pytest.fixture
def admin(workspace) -> S:
    tab = Tab()
    tab.sign_in(workspace, "admin")
    state = tab.of(S)
    run(S.load, state)
    return state


def _connect(state: S, kind: str, name: str, secret: str = "", origins: str = "") -> None:
    run(S.open_connect, state, kind)
    run(S.set_connect_name, state, name)
    run(S.set_connect_secret, state, secret)
    run(S.set_connect_origins, state, origins)
    run(S.connect, state)


def _stored() -> list[tuple[str, str]]:
    with session_scope() as session:
        return list(
            session.execute(sa.select(ChannelConnection.kind, ChannelConnection.name)).all()
        )


def _actions(workspace: int) -> list[str]:
    with session_scope() as session:
        return list(
            session.execute(
                sa.select(AuditEntry.action)
                .where(AuditEntry.workspace_id == workspace)
                .order_by(AuditEntry.id)
            ).scalars()
        )


def test_an_empty_page_says_nothing_is_connected(admin):
    assert admin.loaded and admin.connections == []


def test_connecting_whatsapp_shows_the_url_and_token_and_never_the_secret(workspace, admin):
    _connect(admin, "whatsapp", "Support line", SECRET)
    assert admin.connect_error == "" and not admin.connect_open
    assert admin.connect_secret == ""
    [view] = admin.connections
    assert admin.connected_id == view.id and admin.connected.name == "Support line"
    assert view.is_meta and view.kind_label == "WhatsApp"
    assert view.webhook_url.startswith(settings.app_url + "/api/webhooks/")
    assert len(view.verify_token) >= 30
    assert view.secret_hint == SECRET[-4:]
    # Nothing the browser receives holds the secret.
    assert SECRET not in json.dumps(admin.dict(), default=str)
    run(S.set_connected_open, admin, False)
    assert admin.connected_id == 0
    assert _actions(workspace) == ["channels.connect"]


def test_connecting_a_webchat_site_gives_its_snippet(admin):
    _connect(admin, "webchat", "Acme site", origins="https://www.acme.example/\nacme.example")
    [view] = admin.connections
    assert not view.is_meta and view.verify_token == "" and view.webhook_url == ""
    assert view.origins == ["https://www.acme.example", "https://acme.example"]
    assert view.snippet == (
        f'<script src="{settings.app_url}/webchat.js" data-site="{view.site_key}" async></script>'
    )


@pytest.mark.parametrize(
    ("kind", "secret", "origins", "message"),
    [
        ("messenger", "", "", "Paste the app secret"),
        ("instagram", "too-short", "", "Meta's are 32"),
        ("webchat", "", "", "at least one website"),
        ("webchat", "", "https://*.acme.example", "wildcards"),
    ],
)
def test_refused_input_is_shown_in_the_dialog_and_nothing_is_stored(
    admin, kind, secret, origins, message
):
    _connect(admin, kind, "Acme", secret, origins)
    assert message in admin.connect_error
    assert admin.connect_open
    assert _stored() == [] and admin.connections == [] and admin.connected_id == 0


def test_rotating_the_verify_token(workspace, admin):
    _connect(admin, "whatsapp", "Support line", SECRET)
    before = admin.connections[0]
    run(S.ask_rotate, admin, before.id)
    assert admin.rotate_name == "WhatsApp “Support line”"
    returned = run(S.rotate, admin)
    assert "paste it into the Meta dashboard" in str(returned)
    assert admin.rotate_id == 0
    after = admin.connections[0]
    assert after.verify_token != before.verify_token and after.webhook_url == before.webhook_url
    assert _actions(workspace)[-1] == "channels.verify_token_rotate"


def test_replacing_the_app_secret(workspace, admin):
    _connect(admin, "instagram", "@acme", SECRET)
    connection = admin.connections[0]
    run(S.ask_secret, admin, connection.id)
    run(S.set_new_secret, admin, "nope")
    run(S.save_secret, admin)
    assert "Meta's are 32" in admin.secret_error and admin.secret_id == connection.id
    run(S.set_new_secret, admin, NEW_SECRET)
    run(S.save_secret, admin)
    assert admin.secret_id == 0 and admin.new_secret == "" and admin.secret_error == ""
    assert admin.connections[0].secret_hint == NEW_SECRET[-4:]
    assert _actions(workspace)[-1] == "channels.app_secret_replace"


def test_closing_the_secret_dialog_forgets_what_was_typed(admin):
    _connect(admin, "instagram", "@acme", SECRET)
    run(S.ask_secret, admin, admin.connections[0].id)
    run(S.set_new_secret, admin, NEW_SECRET)
    run(S.set_secret_open, admin, False)
    assert admin.new_secret == "" and admin.secret_id == 0


def test_editing_a_webchat_site(workspace, admin):
    _connect(admin, "webchat", "Site", origins="acme.example")
    site = admin.connections[0]
    run(S.open_edit, admin, site.id)
    assert admin.edit_origins == "https://acme.example"
    run(S.set_edit_origins, admin, "https://acme.example\nhttps://shop.acme.example")
    run(S.set_edit_ask_details, admin, False)
    run(S.set_edit_name, admin, "Acme shop")
    run(S.save_edit, admin)
    assert admin.edit_id == 0
    edited = admin.connections[0]
    assert edited.name == "Acme shop" and not edited.ask_details
    assert edited.origins == ["https://acme.example", "https://shop.acme.example"]
    assert _actions(workspace)[-1] == "channels.webchat_change"


def test_a_meta_connection_has_no_site_editor(admin):
    _connect(admin, "whatsapp", "Support line", SECRET)
    run(S.open_edit, admin, admin.connections[0].id)
    assert admin.edit_id == 0


def test_disconnecting(workspace, admin):
    _connect(admin, "messenger", "Acme Page", SECRET)
    connection = admin.connections[0]
    run(S.ask_delete, admin, connection.id)
    assert admin.delete_name == "Messenger “Acme Page”" and admin.delete_is_meta
    returned = run(S.confirm_delete, admin)
    assert "Disconnected Messenger “Acme Page”" in str(returned)
    assert admin.connections == [] and _stored() == []
    assert _actions(workspace)[-1] == "channels.disconnect"


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_lesser_roles_are_refused(workspace, role):
    tab = Tab()
    tab.sign_in(workspace, role)
    state = tab.of(S)
    returned = run(S.load, state)
    assert f"Your role ({role.title()}) cannot manage channel connections" in str(returned)
    _connect(state, "whatsapp", "Mine", SECRET)
    assert _stored() == []
