"""Inline editors, the column chooser and the contact details drawer in Chromium."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.models import Contact, ContactLabel, Label
from tests.e2e.conftest import wait_until_connected


def stored(app_server, column, name: str):
    with app_server.session() as session:
        return session.execute(sa.select(column).where(Contact.name == name)).scalar_one()


def test_email_editor_rejects_a_bad_value_then_saves_a_good_one(page: Page, app_server):
    page.goto("/contacts?q=Quartermaine")
    wait_until_connected(page)
    page.get_by_role("button", name="Email: zoe.q@example.org (click to edit)").click()
    editor = page.get_by_role("textbox", name="Edit Email")
    editor.fill("zoe at example")
    editor.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("not a valid email address")
    assert stored(app_server, Contact.email, "Zoe Quartermaine") == "zoe.q@example.org"
    editor.press("Escape")
    expect(
        page.get_by_role("button", name="Email: zoe.q@example.org (click to edit)")
    ).to_be_visible()
    page.get_by_role("button", name="Email: zoe.q@example.org (click to edit)").click()
    page.get_by_role("textbox", name="Edit Email").fill("zoe.quartermaine@example.org")
    page.get_by_role("textbox", name="Edit Email").press("Enter")
    expect(
        page.get_by_role("button", name="Email: zoe.quartermaine@example.org (click to edit)")
    ).to_be_visible()
    assert stored(app_server, Contact.email, "Zoe Quartermaine") == "zoe.quartermaine@example.org"


def test_phone_editor_saves_on_click_away_in_e164(page: Page, app_server):
    page.goto("/contacts?q=Yusuf")
    wait_until_connected(page)
    page.get_by_role("button", name="Phone: +14155550123 (click to edit)").click()
    page.get_by_role("textbox", name="Edit Phone").fill("+1 (415) 555-0199")
    page.get_by_role("heading", name="All contacts").click()  # click away
    expect(page.get_by_role("button", name="Phone: +14155550199 (click to edit)")).to_be_visible()
    assert stored(app_server, Contact.phone, "Yusuf Quayle") == "+14155550199"
    assert stored(app_server, Contact.phone_digits, "Yusuf Quayle") == "14155550199"


def test_column_chooser_shows_custom_fields_and_remembers_the_choice(page: Page, app_server):
    page.goto("/contacts?q=Yusuf")
    wait_until_connected(page)
    page.get_by_role("button", name="Columns").click()
    chooser = page.get_by_role("dialog", name="Columns")
    chooser.get_by_text("Plan", exact=True).click()
    chooser.get_by_text("Lifetime value", exact=True).click()
    page.keyboard.press("Escape")
    table = page.get_by_role("table", name="Contacts")
    expect(table.get_by_role("columnheader", name="Plan")).to_be_visible()
    expect(table.get_by_role("columnheader", name="Lifetime value")).to_be_visible()
    page.reload()
    wait_until_connected(page)
    expect(table.get_by_role("columnheader", name="Plan")).to_be_visible()


def test_number_and_select_custom_field_editors(page: Page, app_server):
    page.goto("/contacts?q=Yusuf")
    wait_until_connected(page)
    page.get_by_role("button", name="Columns").click()
    chooser = page.get_by_role("dialog", name="Columns")
    checkbox_plan = chooser.locator("label", has_text="Plan").get_by_role("checkbox")
    if checkbox_plan.get_attribute("aria-checked") != "true":
        checkbox_plan.click()
    checkbox_value = chooser.locator("label", has_text="Lifetime value").get_by_role("checkbox")
    if checkbox_value.get_attribute("aria-checked") != "true":
        checkbox_value.click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Lifetime value: empty (click to edit)").click()
    editor = page.get_by_role("spinbutton", name="Edit Lifetime value")
    editor.fill("1250.5")
    editor.press("Enter")
    expect(
        page.get_by_role("button", name="Lifetime value: 1250.5 (click to edit)")
    ).to_be_visible()
    page.get_by_role("combobox", name="Plan").click()
    page.get_by_role("option", name="Enterprise").click()
    expect(page.get_by_role("combobox", name="Plan")).to_have_text("Enterprise")
    values = stored(app_server, Contact.custom_fields, "Yusuf Quayle")
    assert values["lifetime_value"] == 1250.5
    assert values["plan"] == "Enterprise"


def test_details_drawer_edits_labels_and_fields(page: Page, app_server):
    page.goto("/contacts?q=Quartermaine")
    wait_until_connected(page)
    page.get_by_role("link", name="Open Zoe Quartermaine").click()
    drawer = page.get_by_role("dialog", name="Zoe Quartermaine")
    expect(drawer.get_by_role("heading", name="Zoe Quartermaine")).to_be_visible()
    expect(drawer.get_by_text("Can I change my plan?")).to_be_visible()
    drawer.get_by_role("combobox", name="Add label").click()
    page.get_by_role("option", name="VIP").click()
    expect(drawer.get_by_role("button", name="Remove label VIP")).to_be_visible()
    city = drawer.get_by_role("textbox", name="City")
    city.fill("Lisboa")
    city.blur()
    expect(page.get_by_text("City saved.")).to_be_visible()
    website = drawer.get_by_role("textbox", name="Website")
    website.fill("not a url")
    website.blur()
    expect(drawer.get_by_role("alert")).to_contain_text("web address")
    with app_server.session() as session:
        contact = session.execute(
            sa.select(Contact).where(Contact.name == "Zoe Quartermaine")
        ).scalar_one()
        labels = (
            session.execute(
                sa.select(Label.name)
                .join(ContactLabel)
                .where(ContactLabel.contact_id == contact.id)
            )
            .scalars()
            .all()
        )
    assert contact.custom_fields.get("city") == "Lisboa"
    assert "website" not in contact.custom_fields
    assert "VIP" in labels
    drawer.get_by_role("button", name="Remove label VIP").click()
    expect(drawer.get_by_role("button", name="Remove label VIP")).to_be_hidden()
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()


def test_clicking_a_row_opens_the_drawer_but_editing_a_cell_does_not(page: Page):
    page.goto("/contacts?q=Yusuf")
    wait_until_connected(page)
    row = page.get_by_role("table", name="Contacts").locator("tbody tr").first
    row.get_by_role("button", name=re.compile(r"^Email: ")).click()
    expect(page.get_by_role("textbox", name="Edit Email")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.keyboard.press("Escape")
    row.get_by_role("cell").nth(4).click()  # "Created At"
    expect(page.get_by_role("dialog", name="Yusuf Quayle")).to_be_visible()
