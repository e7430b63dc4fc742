"""Bulk edit in Chromium, by role: a manager adds a label to all that match (the dialog
counts, the run reports, Undo puts it back) and sets a field with the field's own editor;
an agent sees the buttons disabled with the reason."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.models import AuditEntry, Contact, ContactLabel, Label
from tests.e2e.conftest import ARTIFACTS, new_context, wait_until_connected


def add_contacts(app_server, prefix: str, count: int) -> None:
    with app_server.session() as session:
        for number in range(count):
            session.add(
                Contact(
                    workspace_id=app_server.workspace_id,
                    name=f"{prefix} Person {number:02d}",
                    channel="imported",
                )
            )


def labelled(app_server, prefix: str, label: str) -> int:
    with app_server.session() as session:
        return session.execute(
            sa.select(sa.func.count())
            .select_from(ContactLabel)
            .join(Contact, Contact.id == ContactLabel.contact_id)
            .join(Label, Label.id == ContactLabel.label_id)
            .where(Contact.name.like(f"{prefix}%"), Label.name == label)
        ).scalar_one()


def choose(page: Page, dialog, combobox: str, option: str) -> None:
    dialog.get_by_role("combobox", name=combobox).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_a_manager_adds_a_label_to_all_that_match_and_undoes_it(browser, app_server):
    add_contacts(app_server, "Bulkedit", 12)
    context = new_context(browser, app_server, role="manager")
    page = context.new_page()
    try:
        page.goto("/contacts?q=Bulkedit")
        wait_until_connected(page)
        page.get_by_role("checkbox", name="Select all contacts on this page").click()
        page.get_by_text("Select all 12 contacts that match").click()
        bar = page.get_by_role("region", name="Bulk actions")
        expect(bar).to_contain_text("12 contacts selected")
        bar.get_by_role("button", name="Add label").click()

        dialog = page.get_by_role("dialog", name="Add a label")
        expect(dialog).to_contain_text("For the 12 contacts that matched when you opened this")
        expect(dialog.get_by_role("button", name="Apply to 0 contacts")).to_be_disabled()
        choose(page, dialog, "Label", "VIP")
        expect(dialog).to_contain_text("12 contacts change; 0 already have it.")
        page.screenshot(path=str(ARTIFACTS / "bulk-edit-dialog.png"))
        dialog.get_by_role("button", name="Apply to 12 contacts").click()

        expect(page.get_by_text("Added the label “VIP” to 12 contacts.")).to_be_visible()
        expect(
            page.get_by_text("Undo puts back exactly these values for 10 minutes")
        ).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "bulk-edit-done.png"))
        assert labelled(app_server, "Bulkedit", "VIP") == 12
        expect(bar).to_have_count(0)  # the selection is cleared

        page.get_by_role("button", name="Undo").click()
        expect(page.get_by_text("Undone: 12 contacts put back.")).to_be_visible()
        assert labelled(app_server, "Bulkedit", "VIP") == 0
        with app_server.session() as session:
            actions = session.execute(
                sa.select(AuditEntry.action).where(AuditEntry.action.like("contacts.bulk_edit%"))
            ).scalars()
            assert sorted(actions) == ["contacts.bulk_edit", "contacts.bulk_edit_undo"]
    finally:
        context.close()


def test_set_field_uses_the_fields_editor_and_its_rules(page: Page, app_server):
    add_contacts(app_server, "Fieldbulk", 3)
    page.goto("/contacts?q=Fieldbulk")
    wait_until_connected(page)
    page.get_by_role("checkbox", name="Select all contacts on this page").click()
    page.get_by_role("region", name="Bulk actions").get_by_role("button", name="Set field").click()
    dialog = page.get_by_role("dialog", name="Set a field")
    expect(dialog).to_contain_text("For the 3 contacts you selected.")
    choose(page, dialog, "Field", "Lifetime value")
    value = dialog.get_by_role("textbox", name="New value of Lifetime value").or_(
        dialog.get_by_role("spinbutton", name="New value of Lifetime value")
    )
    value.fill("1250")
    expect(dialog).to_contain_text("3 contacts change; 0 already have that value.")
    choose(page, dialog, "Field", "Plan")
    choose(page, dialog, "New value", "Pro")
    expect(dialog).to_contain_text("3 contacts change")
    dialog.get_by_role("button", name="Apply to 3 contacts").click()
    expect(page.get_by_text("Set “Plan” to “Pro” on 3 contacts.")).to_be_visible()
    with app_server.session() as session:
        plans = session.execute(
            sa.select(Contact.custom_fields).where(Contact.name.like("Fieldbulk%"))
        ).scalars()
        assert [values.get("plan") for values in plans] == ["Pro", "Pro", "Pro"]


def test_an_agent_sees_the_bulk_edit_buttons_disabled(browser, app_server):
    context = new_context(browser, app_server, role="agent")
    page = context.new_page()
    try:
        page.goto("/contacts")
        wait_until_connected(page)
        page.get_by_role("checkbox", name="Select all contacts on this page").click()
        bar = page.get_by_role("region", name="Bulk actions")
        for name in ("Add label", "Remove label", "Set field", "Set campaign opt-in"):
            expect(bar.get_by_role("button", name=name)).to_be_disabled()
    finally:
        context.close()
