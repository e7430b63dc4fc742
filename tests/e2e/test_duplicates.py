"""Possible duplicates and merging in Chromium, by role: a manager merges a group side
by side, ingestion then finds the merged contact by the merged one's channel id, and the
drawer says whom it was merged from; an agent has no Duplicates page."""

from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.models import AuditEntry, Contact, Conversation, utcnow
from tests.e2e.conftest import ARTIFACTS, new_context, wait_until_connected


def test_a_manager_merges_two_contacts_and_ingestion_finds_the_merged_one(browser, app_server):
    with app_server.session() as session:
        ana = Contact(
            workspace_id=app_server.workspace_id,
            name="Dupe Ana",
            email="dupe@example.org",
            channel="whatsapp",
            external_id="dupe-wa",
            created_at=utcnow() - timedelta(days=3),
        )
        anna = Contact(
            workspace_id=app_server.workspace_id,
            name="Dupe Anna",
            email="dupe@example.org",
            phone="+34600999888",
            phone_digits="34600999888",
            channel="instagram",
            external_id="dupe-ig",
        )
        session.add_all([ana, anna])
        session.flush()
        session.add(
            Conversation(
                workspace_id=app_server.workspace_id, contact_id=anna.id, channel="instagram"
            )
        )
        ana_id = ana.id

    context = new_context(browser, app_server, role="manager")
    page = context.new_page()
    try:
        page.goto("/contacts")
        wait_until_connected(page)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Duplicates").click()
        expect(page.get_by_role("heading", name="Possible duplicates")).to_be_visible()
        group = page.get_by_role("region", name="Same email dupe@example.org")
        expect(group).to_contain_text("Dupe Anna")
        page.get_by_role("button", name="Merge Same email dupe@example.org").click()

        dialog = page.get_by_role("dialog", name="Merge contacts")
        primary = dialog.get_by_role("radiogroup", name="Primary contact")
        expect(primary.get_by_role("radio", name=f"Dupe Ana #{ana_id}")).to_be_checked()
        # Ana has no phone: Anna's is kept unless another is chosen.
        expect(
            dialog.get_by_role("radiogroup", name="Phone").get_by_role("radio", name="+34600999888")
        ).to_be_checked()
        dialog.get_by_role("radiogroup", name="Name").get_by_role("radio", name="Dupe Ana").check()
        page.screenshot(path=str(ARTIFACTS / "merge-dialog.png"))
        dialog.get_by_role("button", name="Merge into Dupe Ana").click()
        expect(page.get_by_text("Merged 2 contacts into Dupe Ana.")).to_be_visible()
        expect(page.get_by_role("region", name="Same email dupe@example.org")).to_have_count(0)

        # The Instagram sender writes again: it is the merged contact, not a new one.
        response = httpx.post(
            f"{app_server.url}/api/channels/instagram/messages",
            json={"external_id": "dupe-ig", "text": "Still me"},
            headers={"Authorization": f"Bearer {app_server.token}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        assert response.json()["contact_id"] == ana_id
        with app_server.session() as session:
            assert (
                session.execute(
                    sa.select(sa.func.count())
                    .select_from(Contact)
                    .where(Contact.name.like("Dupe%"))
                ).scalar_one()
                == 1
            )
            assert (
                session.execute(
                    sa.select(sa.func.count()).where(AuditEntry.action == "contacts.merge")
                ).scalar_one()
                >= 1
            )

        page.goto("/contacts?q=Dupe")
        wait_until_connected(page)
        page.get_by_role("link", name="Open Dupe Ana").click()
        drawer = page.get_by_role("dialog", name="Dupe Ana")
        merged = drawer.get_by_role("list", name="Merged from")
        expect(merged).to_contain_text("Dupe Anna (instagram id dupe-ig · dupe@example.org")
        page.screenshot(path=str(ARTIFACTS / "merged-from-drawer.png"))
    finally:
        context.close()


def test_an_agent_has_no_duplicates_page(browser, app_server):
    context = new_context(browser, app_server, role="agent")
    page: Page = context.new_page()
    try:
        page.goto("/contacts/duplicates")
        expect(page.get_by_text("Your role cannot merge contacts.")).to_be_visible()
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="All")).to_be_visible()
        expect(nav.get_by_role("link", name="Duplicates")).to_have_count(0)
    finally:
        context.close()
