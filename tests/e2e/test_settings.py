"""Settings → Labels and Settings → Custom fields in Chromium."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.models import Contact, CustomFieldDefinition, Label


def rows(page: Page, table: str):
    return page.get_by_role("table", name=table).locator("tbody tr")


def test_create_rename_and_delete_a_label(page: Page, app_server):
    page.goto("/settings/labels")
    expect(rows(page, "Labels").first).to_be_visible()
    page.get_by_role("button", name="New label").click()
    dialog = page.get_by_role("dialog", name="New label")
    dialog.get_by_role("button", name="Save label").click()
    expect(dialog.get_by_role("alert")).to_be_visible()
    dialog.get_by_role("textbox", name="Label name").fill("vip")
    dialog.get_by_role("button", name="Save label").click()
    expect(dialog.get_by_role("alert")).to_contain_text("already")
    dialog.get_by_role("textbox", name="Label name").fill("Wholesale")
    dialog.get_by_role("button", name="Save label").click()
    expect(dialog).to_be_hidden()
    expect(rows(page, "Labels").filter(has_text="Wholesale")).to_have_count(1)
    page.get_by_role("button", name="Edit Wholesale").click()
    dialog = page.get_by_role("dialog", name="Edit label")
    dialog.get_by_role("textbox", name="Label name").fill("Wholesale buyers")
    dialog.get_by_role("button", name="Save label").click()
    expect(rows(page, "Labels").filter(has_text="Wholesale buyers")).to_have_count(1)
    page.get_by_role("button", name="Delete Wholesale buyers").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("It comes off 0 contacts")
    confirm.get_by_role("button", name="Delete label").click()
    # While a dialog is open the page behind it is hidden from the accessibility tree.
    expect(confirm).to_be_hidden()
    expect(page.get_by_text("Deleted the label “Wholesale buyers”.")).to_be_visible()
    expect(rows(page, "Labels").filter(has_text="Wholesale")).to_have_count(0)
    with app_server.session() as session:
        assert not session.execute(sa.select(Label.id).where(Label.name.like("Wholesale%"))).first()
    page.screenshot(path="test-artifacts/labels.png")


def test_deleting_a_label_names_the_segments_that_use_it(page: Page):
    page.goto("/settings/labels")
    page.get_by_role("button", name="Delete VIP").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("These segments use it")
    expect(confirm).to_contain_text("VIP")
    confirm.get_by_role("button", name="Cancel").click()
    expect(rows(page, "Labels").filter(has_text="VIP")).to_have_count(1)


def test_create_a_select_field_and_refuse_a_lossy_type_change(page: Page, app_server):
    page.goto("/settings/fields")
    expect(rows(page, "Custom fields").first).to_be_visible()
    page.get_by_role("button", name="New field").click()
    dialog = page.get_by_role("dialog", name="New field")
    dialog.get_by_role("textbox", name="Field name").fill("Shoe size")
    dialog.get_by_role("combobox", name="Type").click()
    page.get_by_role("option", name="Text", exact=True).click()
    dialog.get_by_role("button", name="Save field").click()
    expect(dialog).to_be_hidden()
    expect(rows(page, "Custom fields").filter(has_text="Shoe size")).to_contain_text("shoe_size")
    with app_server.session() as session:
        contact = session.execute(
            sa.select(Contact).where(Contact.name == "Yusuf Quayle")
        ).scalar_one()
        contact.custom_fields = {**contact.custom_fields, "shoe_size": "forty-two"}
        session.add(contact)
    page.get_by_role("button", name="Edit Shoe size").click()
    dialog = page.get_by_role("dialog", name="Edit field")
    dialog.get_by_role("combobox", name="Type").click()
    page.get_by_role("option", name="Number", exact=True).click()
    dialog.get_by_role("button", name="Save field").click()
    expect(dialog.get_by_role("alert")).to_contain_text("cannot become Number")
    with app_server.session() as session:
        definition = session.execute(
            sa.select(CustomFieldDefinition).where(CustomFieldDefinition.key == "shoe_size")
        ).scalar_one()
        assert definition.type == "text"
    dialog.get_by_role("button", name="Clear those values and save").click()
    expect(dialog).to_be_hidden()
    with app_server.session() as session:
        definition = session.execute(
            sa.select(CustomFieldDefinition).where(CustomFieldDefinition.key == "shoe_size")
        ).scalar_one()
        values = session.execute(
            sa.select(Contact.custom_fields).where(Contact.name == "Yusuf Quayle")
        ).scalar_one()
    assert definition.type == "number"
    assert "shoe_size" not in values
    page.screenshot(path="test-artifacts/custom-fields.png")
