"""The WebChat widget in Chromium, on a page served from another local origin (a tiny
http.server on its own port): a visitor writes, an admin with Live on sees the new
contact appear in All contacts; the visitor comes back and stays one contact; a page
from an origin that is not on the site's list gets no chat. And demo mode's sample page."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from cloodot_app.models import Contact, Conversation, Message
from cloodot_app.services import channels
from tests.e2e.conftest import new_context, wait_until_connected


class Site:
    """A static website on 127.0.0.1:<port>, its pages carrying the widget's snippet."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.root = root
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, name: str, snippet: str) -> str:
        (self.root / name).write_text(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Acme Bikes</title>"
            "</head><body><h1>Acme Bikes</h1><p>Repairs in a day.</p>"
            f"{snippet}</body></html>",
            encoding="utf-8",
        )
        return f"{self.origin}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sites(tmp_path) -> Iterator[tuple[Site, Site]]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    allowed, refused = Site(tmp_path / "a"), Site(tmp_path / "b")
    yield allowed, refused
    allowed.close()
    refused.close()


def _webchat_contacts(app_server) -> set[int]:
    with app_server.session() as session:
        return set(
            session.execute(sa.select(Contact.id).where(Contact.channel == "webchat")).scalars()
        )


@pytest.fixture
def existing(app_server) -> set[int]:
    """The world's WebChat contacts before the test (the world is shared)."""
    return _webchat_contacts(app_server)


@pytest.fixture
def site_key(app_server, sites, existing) -> Iterator[str]:
    allowed, _ = sites
    with app_server.session() as session:
        row = channels.create_connection(
            session,
            app_server.workspace_id,
            None,
            "webchat",
            "Acme Bikes",
            allowed_origins=[allowed.origin],
        )
    yield row.key
    with app_server.session() as session:  # the world is shared by every browser test
        new = _webchat_contacts(app_server) - existing
        session.execute(sa.delete(Contact).where(Contact.id.in_(new)))
        channels.delete_connection(session, app_server.workspace_id, None, row.id)


def _snippet(app_server, key: str) -> str:
    return f'<script src="{app_server.url}/webchat.js" data-site="{key}" async></script>'


def test_a_visitor_writes_and_appears_live_then_comes_back_as_the_same_contact(
    browser, app_server, sites, site_key, existing
):
    allowed, _ = sites
    url = allowed.page("index.html", _snippet(app_server, site_key))

    admin = new_context(browser, app_server, "admin")
    contacts = admin.new_page()
    contacts.goto("/contacts?q=Wanda")
    wait_until_connected(contacts)
    expect(contacts.get_by_text("No contacts match")).to_be_visible()
    contacts.get_by_role("switch", name="Live", exact=True).click()

    visitor = browser.new_context(viewport={"width": 1280, "height": 800})
    page = visitor.new_page()
    page.goto(url)
    launcher = page.get_by_role("button", name="Open chat")
    launcher.click()
    chat = page.get_by_role("dialog", name="Chat with Acme Bikes")
    expect(chat).to_be_visible()
    expect(chat.get_by_role("textbox", name="Name")).to_be_focused()
    expect(chat.get_by_role("textbox", name="Message")).to_be_hidden()  # details first
    chat.get_by_role("textbox", name="Name").fill("Wanda Widget")
    chat.get_by_role("textbox", name="Email").fill("wanda@bikes.example")
    chat.get_by_role("button", name="Start chat").click()
    message = chat.get_by_role("textbox", name="Message")
    expect(message).to_be_focused()
    expect(chat.get_by_role("textbox", name="Name")).to_be_hidden()
    message.fill("My back wheel wobbles. Can you fix it by Friday?")
    message.press("Enter")
    log = chat.get_by_role("log", name="Messages")
    expect(log).to_contain_text("My back wheel wobbles")
    expect(log).to_contain_text("Sent")
    expect(log).to_contain_text("Thanks, we got your message.")
    page.screenshot(path="test-artifacts/webchat-widget.png")

    # The admin's table, with Live on, shows the new contact without a reload.
    expect(contacts.get_by_role("link", name="Open Wanda Widget")).to_be_visible(timeout=15000)
    contacts.screenshot(path="test-artifacts/webchat-live.png")

    # Escape closes the chat and gives the focus back to the launcher.
    message.press("Escape")
    expect(chat).to_be_hidden()
    expect(page.get_by_role("button", name="Open chat")).to_be_focused()

    # Coming back later (the id is in this browser's storage): the same contact.
    page.reload()
    page.get_by_role("button", name="Open chat").click()
    chat = page.get_by_role("dialog", name="Chat with Acme Bikes")
    expect(chat.get_by_role("log", name="Messages")).to_contain_text("My back wheel wobbles")
    chat.get_by_role("textbox", name="Message").fill("Also the brakes squeak.")
    chat.get_by_role("button", name="Send").click()
    expect(chat.get_by_role("log", name="Messages")).to_contain_text("Also the brakes squeak.")
    expect(chat.get_by_role("log", name="Messages").get_by_text("Sending…")).to_have_count(0)
    with app_server.session() as session:
        rows = session.execute(
            sa.select(Contact.id, Contact.name, Contact.email, Contact.last_message_text).where(
                Contact.channel == "webchat", Contact.id.not_in(existing)
            )
        ).all()
        assert [row[1:] for row in rows] == [
            ("Wanda Widget", "wanda@bikes.example", "Also the brakes squeak.")
        ]
        messages = session.execute(
            sa.select(Message.text)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.contact_id == rows[0][0])
            .order_by(Message.id)
        ).scalars()
        assert list(messages) == [
            "My back wheel wobbles. Can you fix it by Friday?",
            "Also the brakes squeak.",
        ]
    visitor.close()
    admin.close()


def test_a_page_from_another_origin_gets_no_chat(browser, app_server, sites, site_key, existing):
    _, refused = sites
    url = refused.page("index.html", _snippet(app_server, site_key))
    context = browser.new_context()
    page = context.new_page()
    with page.expect_console_message(lambda m: "Cloodot WebChat" in m.text) as warning:
        page.goto(url)
    assert refused.origin in warning.value.text
    expect(page.get_by_role("button", name="Open chat")).to_have_count(0)
    context.close()
    # And what its page would have sent is refused outright, with no CORS headers.
    response = httpx.post(
        f"{app_server.url}/api/webchat/{site_key}/messages",
        content=b'{"visitor_id": "0f8fad5b-d9cb-469f-a165-70867728950e",'
        b' "message_id": "msg-00000001", "text": "hi"}',
        headers={"Origin": refused.origin, "Content-Type": "text/plain"},
    )
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert _webchat_contacts(app_server) == existing


def test_demo_mode_serves_a_sample_page_with_the_widget(browser, app_server):
    context = browser.new_context(base_url=app_server.url)
    page = context.new_page()
    page.goto("/demo/webchat")
    expect(page.get_by_role("heading", name="Sofas, tables and chairs")).to_be_visible()
    page.get_by_role("button", name="Open chat").click()
    expect(page.get_by_role("dialog", name="Chat with Northwind Furniture")).to_be_visible()
    page.get_by_role("link", name="All contacts").wait_for()
    page.screenshot(path="test-artifacts/webchat-demo.png")
    context.close()
