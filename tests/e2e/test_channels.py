"""Settings → Channels in Chromium: an admin connects a WhatsApp number, copies the
callback URL and verify token, Meta's handshake and a signed delivery work against the
real server, the token is rotated, the secret replaced, the connection disconnected; a
WebChat site shows its snippet; an agent has no Channels page."""

from __future__ import annotations

import json

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.models import ChannelConnection, Contact
from cloodot_app.services.channels.webhooks import sign
from tests.e2e.conftest import new_context
from tests.unit.meta_payloads import wa_message, wa_value, whatsapp_body

SECRET = "5f3c2a9e8b7d6c1f0e4a3b2c1d0e9f8a"
NEW_SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
SENDER = "16315550917"


def _field(scope, name: str) -> str:
    return scope.get_by_role("textbox", name=name).input_value()


def test_connect_whatsapp_copy_verify_receive_rotate_replace_and_disconnect(page: Page, app_server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/settings/channels")
    page.get_by_role("button", name="Connect WhatsApp").click()
    dialog = page.get_by_role("dialog", name="Connect WhatsApp")
    dialog.get_by_role("textbox", name="Name").fill("Support line +1 631 555 0100")
    dialog.get_by_role("button", name="Connect").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Paste the app secret")
    dialog.get_by_label("App secret").fill(SECRET)
    dialog.get_by_role("button", name="Connect").click()

    done = page.get_by_role("dialog", name="WhatsApp “Support line +1 631 555 0100” is connected")
    expect(done).to_be_visible()
    url = _field(done, "Callback URL")
    token = _field(done, "Verify token")
    assert url.startswith(app_server.url + "/api/webhooks/") and len(token) >= 30
    assert SECRET not in done.inner_text()
    done.get_by_role("button", name="Copy verify token").click()
    expect(page.get_by_text("Copied to the clipboard.").first).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token
    page.screenshot(path="test-artifacts/channels-connected.png")
    done.get_by_role("button", name="Done").click()

    card = page.get_by_role("region", name="WhatsApp Support line +1 631 555 0100")
    expect(card).to_contain_text("Nothing received yet")
    expect(card.get_by_label("App secret, ending in " + SECRET[-4:])).to_be_visible()
    assert _field(card, "Verify token of Support line +1 631 555 0100") == token

    # What Meta does with them: the handshake, then a signed delivery.
    handshake = httpx.get(
        url,
        params={"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "8675309"},
    )
    assert (handshake.status_code, handshake.text) == (200, "8675309")
    body = json.dumps(
        whatsapp_body(
            wa_value(
                [wa_message("text", 1, SENDER, text={"body": "Is the store open on Sunday?"})],
                contacts=[(SENDER, "Noor Haddad")],
            )
        )
    ).encode()
    delivered = httpx.post(url, content=body, headers={"X-Hub-Signature-256": sign(SECRET, body)})
    assert delivered.status_code == 200 and delivered.json()["stored"] == 1
    with app_server.session() as session:
        assert session.execute(
            sa.select(Contact.name, Contact.phone).where(Contact.external_id == SENDER)
        ).one() == ("Noor Haddad", "+16315550917")
    page.reload()
    expect(card).to_contain_text("Last delivery")

    card.get_by_role("button", name="Rotate the verify token of Support line").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Rotate the verify token of WhatsApp")
    confirm.get_by_role("button", name="Rotate token").click()
    expect(page.get_by_text("New verify token made")).to_be_visible()
    expect(
        card.get_by_role("textbox", name="Verify token of Support line +1 631 555 0100")
    ).not_to_have_value(token)

    card.get_by_role("button", name="Replace the app secret of Support line").click()
    secret_dialog = page.get_by_role("dialog")
    secret_dialog.get_by_label("New app secret").fill(NEW_SECRET)
    secret_dialog.get_by_role("button", name="Replace secret").click()
    expect(card.get_by_label("App secret, ending in " + NEW_SECRET[-4:])).to_be_visible()
    refused = httpx.post(url, content=body, headers={"X-Hub-Signature-256": sign(SECRET, body)})
    assert refused.status_code == 401

    card.get_by_role("button", name="Disconnect Support line").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Contacts and messages it already brought in stay")
    confirm.get_by_role("button", name="Disconnect").click()
    expect(
        page.get_by_text("Disconnected WhatsApp “Support line +1 631 555 0100”.")
    ).to_be_visible()
    expect(card).to_have_count(0)
    assert httpx.get(url, params={"hub.mode": "subscribe"}).status_code == 404


def test_a_webchat_site_shows_its_snippet(page: Page, app_server):
    page.goto("/settings/channels")
    expect(page.get_by_role("link", name="a sample website")).to_have_attribute(
        "href", "/demo/webchat"
    )
    page.get_by_role("button", name="Connect WebChat").click()
    dialog = page.get_by_role("dialog", name="Connect WebChat")
    dialog.get_by_role("textbox", name="Name").fill("Acme website")
    dialog.get_by_role("textbox", name="Allowed websites").fill(
        "https://www.acme.example/\nshop.acme.example"
    )
    dialog.get_by_role("button", name="Connect").click()
    done = page.get_by_role("dialog", name="WebChat “Acme website” is connected")
    snippet = _field(done, "Snippet")
    with app_server.session() as session:
        key = session.execute(
            sa.select(ChannelConnection.key).where(ChannelConnection.name == "Acme website")
        ).scalar_one()
    assert snippet == f'<script src="{app_server.url}/webchat.js" data-site="{key}" async></script>'
    done.get_by_role("button", name="Done").click()
    card = page.get_by_role("region", name="WebChat Acme website")
    expect(card).to_contain_text("https://www.acme.example")
    expect(card).to_contain_text("https://shop.acme.example")
    page.screenshot(path="test-artifacts/channels.png", full_page=True)


def test_an_agent_has_no_channels_page(browser, app_server):
    context = new_context(browser, app_server, "agent")
    page = context.new_page()
    page.goto("/settings/channels")
    expect(page.get_by_text("Your role cannot manage channel connections")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Channels")
    ).to_have_count(0)
    context.close()
