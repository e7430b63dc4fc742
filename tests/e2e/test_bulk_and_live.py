"""Bulk delete with its informed confirmation, and Live mode picking up new messages."""

from __future__ import annotations

import time

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.models import Contact, Conversation, Message
from tests.e2e.conftest import ARTIFACTS, new_context, wait_until_connected


def post_message(app_server, channel: str, **body) -> dict:
    response = httpx.post(
        f"{app_server.url}/api/channels/{channel}/messages",
        json=body,
        headers={"Authorization": f"Bearer {app_server.token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def add_contact_without_conversation(app_server, name: str) -> None:
    with app_server.session() as session:
        session.add(Contact(workspace_id=app_server.workspace_id, name=name, channel="imported"))


def test_bulk_delete_tells_who_has_conversations_then_deletes(page: Page, app_server):
    for number in range(3):
        post_message(
            app_server,
            "webchat",
            external_id=f"bulk-{number}",
            name=f"Bulkdelete Person {number}",
            text="hello",
        )
    add_contact_without_conversation(app_server, "Bulkdelete Imported")
    page.goto("/contacts?q=Bulkdelete")
    wait_until_connected(page)
    expect(page.get_by_role("table", name="Contacts").locator("tbody tr")).to_have_count(4)
    page.get_by_role("checkbox", name="Select all contacts on this page").click()
    bar = page.get_by_role("region", name="Bulk actions")
    expect(bar).to_contain_text("4 contacts selected")
    bar.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Delete 4 contacts?")
    expect(dialog).to_contain_text("3 have conversations")
    expect(dialog).to_contain_text("1 has no conversations.")
    expect(dialog).to_contain_text("permanent")
    dialog.get_by_role("button", name="Cancel").click()
    with app_server.session() as session:
        left = session.execute(
            sa.select(sa.func.count()).select_from(Contact).where(Contact.name.like("Bulkdelete%"))
        ).scalar_one()
    assert left == 4, "cancelling must delete nothing"
    bar.get_by_role("button", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete permanently").click()
    expect(page.get_by_text("Deleted 4 contacts.")).to_be_visible()
    expect(page.get_by_text("No contacts match")).to_be_visible()
    with app_server.session() as session:
        assert (
            session.execute(
                sa.select(sa.func.count())
                .select_from(Contact)
                .where(Contact.name.like("Bulkdelete%"))
            ).scalar_one()
            == 0
        )
        orphans = session.execute(
            sa.select(sa.func.count())
            .select_from(Message)
            .outerjoin(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.id.is_(None))
        ).scalar_one()
    assert orphans == 0


def test_select_all_matching_across_pages(page: Page, app_server):
    for number in range(12):
        add_contact_without_conversation(app_server, f"Acrosspages Person {number:02d}")
    page.goto("/contacts?q=Acrosspages")
    wait_until_connected(page)
    page.get_by_role("checkbox", name="Select all contacts on this page").click()
    page.get_by_text("Select all 12 contacts that match").click()
    bar = page.get_by_role("region", name="Bulk actions")
    expect(bar).to_contain_text("12 contacts selected")
    bar.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Delete 12 contacts?")
    expect(dialog).to_contain_text("12 have no conversations.")
    dialog.get_by_role("button", name="Delete permanently").click()
    expect(page.get_by_text("Deleted 12 contacts.")).to_be_visible()


def _live_stops_logged() -> int:
    return (ARTIFACTS / "e2e-server.log").read_text().count("live loop for")


def test_live_mode_shows_a_new_contact_without_a_reload(page: Page, app_server):
    page.goto("/contacts?q=Livewire")
    wait_until_connected(page)
    expect(page.get_by_text("No contacts match")).to_be_visible()
    page.get_by_role("switch", name="Live", exact=True).click()
    post_message(app_server, "instagram", external_id="live-1", name="Livewire Lucy", text="hi!")
    expect(page.get_by_role("link", name="Open Livewire Lucy")).to_be_visible(timeout=10000)
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("Livewire")

    stopped_before = _live_stops_logged()
    page.get_by_role("switch", name="Live", exact=True).click()
    deadline = time.monotonic() + 10
    while _live_stops_logged() <= stopped_before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _live_stops_logged() > stopped_before, "the loop must end when Live goes off"
    post_message(app_server, "instagram", external_id="live-2", name="Livewire Leo", text="yo")
    page.wait_for_timeout(2500)
    expect(page.get_by_role("link", name="Open Livewire Leo")).to_have_count(0)


def test_live_loop_ends_when_the_tab_closes(browser, app_server):
    context = new_context(browser, app_server)
    page = context.new_page()
    page.goto("/contacts")
    wait_until_connected(page)
    page.get_by_role("switch", name="Live", exact=True).click()
    page.wait_for_timeout(1500)
    stopped_before = _live_stops_logged()
    context.close()
    deadline = time.monotonic() + 15
    while _live_stops_logged() <= stopped_before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _live_stops_logged() > stopped_before, "the loop must end when its tab is gone"
