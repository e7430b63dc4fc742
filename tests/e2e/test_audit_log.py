"""The audit log and the consent history in Chromium: what an admin does shows up, with
their name, on Settings → Audit log and in the contact's drawer; agents cannot open it."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from cloodot_app.models import Contact
from tests.e2e.conftest import ARTIFACTS, new_context, wait_until_connected
from tests.e2e.test_export import download
from tests.e2e.world import MEMBERS

ADMIN_NAME = MEMBERS["admin"][1]


def add_contacts(app_server, *names: str) -> None:
    with app_server.session() as session:
        for name in names:
            session.add(
                Contact(workspace_id=app_server.workspace_id, name=name, channel="imported")
            )


def open_audit_log(page: Page) -> None:
    page.goto("/settings/audit")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    page.wait_for_function("() => document.querySelector('[data-audit-state=\"ready\"]') !== null")


def test_the_drawers_consent_history_shows_an_opt_in_change(page: Page, app_server):
    add_contacts(app_server, "Consenting Carla")
    page.goto("/contacts?q=Consenting")
    wait_until_connected(page)
    page.get_by_role("link", name="Open Consenting Carla").click()
    drawer = page.get_by_role("dialog", name="Consenting Carla")
    expect(drawer.get_by_text("No changes recorded")).to_be_visible()
    drawer.get_by_role("switch", name="Campaign opt-in").click()
    history = drawer.get_by_role("list", name="Consent history")
    expect(history.get_by_role("listitem")).to_have_count(1)
    expect(history).to_contain_text("On")
    expect(history).to_contain_text("from off")
    expect(history).to_contain_text(ADMIN_NAME)
    drawer.get_by_role("switch", name="Campaign opt-in").click()
    expect(history.get_by_role("listitem")).to_have_count(2)
    expect(history.get_by_role("listitem").first).to_contain_text("from on")
    drawer.screenshot(path=str(ARTIFACTS / "drawer-consent-history.png"))


def test_an_export_and_a_delete_are_on_the_audit_log(page: Page, app_server):
    add_contacts(app_server, "Auditable Aaron", "Auditable Bea")
    page.goto("/contacts?q=Auditable")
    wait_until_connected(page)
    _name, rows = download(page)
    assert len(rows) == 2
    page.get_by_role("checkbox", name="Select Auditable Aaron").click()
    page.get_by_role("region", name="Bulk actions").get_by_role("button", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete permanently").click()
    expect(page.get_by_text("Deleted 1 contact.")).to_be_visible()

    open_audit_log(page)
    table = page.get_by_role("table", name="Audit log")
    export = table.get_by_role("row").filter(
        has_text="Exported 2 contacts — view: search “Auditable”"
    )
    expect(export).to_have_count(1)
    expect(export).to_contain_text(ADMIN_NAME)
    expect(export).to_contain_text("Exported contacts")
    delete = table.get_by_role("row").filter(has_text="Deleted 1 contact — selected rows")
    expect(delete).to_have_count(1)
    expect(delete).to_contain_text(ADMIN_NAME)
    expect(page.get_by_role("status", name="Entries found")).to_contain_text("entries")
    page.screenshot(path=str(ARTIFACTS / "audit-log.png"), full_page=True)

    page.get_by_role("combobox", name="Action").click()
    page.get_by_role("option", name="Deleted contacts").click()
    expect(export).to_have_count(0)
    expect(delete).to_have_count(1)
    actions = table.locator("tbody tr th")
    expect(actions.first).to_have_text("Deleted contacts")
    for text in actions.all_inner_texts():
        assert text == "Deleted contacts"
    page.screenshot(path=str(ARTIFACTS / "audit-log-filtered.png"), full_page=True)
    page.get_by_role("button", name="Clear filters").click()
    expect(export).to_have_count(1)


def test_an_agent_cannot_open_the_audit_log(browser: Browser, app_server):
    context = new_context(browser, app_server, role="agent")
    page = context.new_page()
    try:
        page.goto("/settings/audit")
        expect(page.get_by_text("Your role cannot")).to_be_visible()
        expect(page.get_by_role("table", name="Audit log")).to_have_count(0)
        expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
    finally:
        context.close()


def test_an_import_that_sets_opt_in_is_logged_and_in_the_consent_history(
    page: Page, app_server, tmp_path
):
    file = tmp_path / "audit-import.csv"
    file.write_text(
        "Name,Email,Campaign opt-in\r\nOptin Importee,optin.importee@example.com,yes\r\n"
    )
    page.goto("/contacts/import")
    page.locator("input[type=file]").set_input_files(str(file))
    expect(page.get_by_role("combobox", name="Import Campaign opt-in as")).to_have_text(
        "Campaign opt-in"
    )
    page.get_by_role("button", name=re.compile(r"^Import 1 rows?$")).click()
    expect(page.get_by_role("region", name="Import report")).to_contain_text("Created1")

    open_audit_log(page)
    table = page.get_by_role("table", name="Audit log")
    imported = table.get_by_role("row").filter(has_text="Imported “audit-import.csv”: 1 row")
    expect(imported).to_contain_text(ADMIN_NAME)
    expect(imported).to_contain_text("(1 created)")
    opt_in = table.get_by_role("row").filter(has_text="Import of “audit-import.csv” changed")
    expect(opt_in).to_contain_text("campaign opt-in of 1 contact (1 on, 0 off)")

    page.goto("/contacts?q=Optin Importee")
    wait_until_connected(page)
    page.get_by_role("link", name="Open Optin Importee").click()
    history = page.get_by_role("dialog", name="Optin Importee").get_by_role(
        "list", name="Consent history"
    )
    expect(history).to_contain_text("On")
    expect(history).to_contain_text("first value · by " + ADMIN_NAME)
