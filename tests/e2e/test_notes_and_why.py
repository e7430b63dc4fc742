"""Notes on a contact (by role), the "Latest note" column, the "Notes contain" filter, and
"why is this contact in this segment" in the drawer and from the Leads board, in Chromium."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.models import AuditEntry, Contact, ContactNote
from tests.e2e.conftest import ARTIFACTS, new_context, wait_until_connected


def add_contact(app_server, name: str, **fields) -> int:
    with app_server.session() as session:
        contact = Contact(workspace_id=app_server.workspace_id, name=name, **fields)
        session.add(contact)
        session.flush()
        return contact.id


def notes_of(app_server, contact_id: int) -> list[str]:
    with app_server.session() as session:
        return list(
            session.execute(
                sa.select(ContactNote.body)
                .where(ContactNote.contact_id == contact_id)
                .order_by(ContactNote.id)
            ).scalars()
        )


def note_actions(app_server, contact_id: int) -> list[str]:
    with app_server.session() as session:
        return [
            action
            for action, details in session.execute(
                sa.select(AuditEntry.action, AuditEntry.details)
                .where(AuditEntry.action.like("contacts.note_%"))
                .order_by(AuditEntry.id)
            )
            if details.get("contact_id") == contact_id
        ]


def open_drawer(page: Page, name: str, search: str):
    page.goto(f"/contacts?q={search}")
    wait_until_connected(page)
    page.get_by_role("link", name=f"Open {name}").click()
    drawer = page.get_by_role("dialog", name=name)
    expect(drawer.get_by_role("heading", name="Notes")).to_be_visible()
    return drawer


def test_notes_by_role_column_and_filter(browser, app_server):
    contact_id = add_contact(app_server, "Nora Notewell", email="nora@notes.example")

    # An agent writes a note, is told when it is empty, and edits it.
    agent = new_context(browser, app_server, "agent")
    page = agent.new_page()
    drawer = open_drawer(page, "Nora Notewell", "Notewell")
    expect(drawer.get_by_text("No notes yet.")).to_be_visible()
    expect(drawer.get_by_role("button", name="Add note")).to_be_disabled()
    drawer.get_by_role("textbox", name="New note").fill("Prefers WhatsApp after 6pm")
    drawer.get_by_role("button", name="Add note").click()
    notes = drawer.get_by_role("list", name="Notes")
    expect(notes.get_by_role("listitem")).to_have_count(1)
    expect(notes).to_contain_text("Alex Agent")
    expect(notes).to_contain_text("Prefers WhatsApp after 6pm")
    drawer.get_by_role("button", name="Edit note by Alex Agent").click()
    editor = drawer.get_by_role("textbox", name="Edit note")
    editor.fill("   ")
    drawer.get_by_role("button", name="Save note").click()
    expect(drawer.get_by_role("alert")).to_have_text(
        "Write something in the note before saving it."
    )
    editor.fill("Prefers WhatsApp after 6pm, never calls")
    drawer.get_by_role("button", name="Save note").click()
    expect(notes).to_contain_text("Prefers WhatsApp after 6pm, never calls")
    expect(notes).to_contain_text("edited")
    assert notes_of(app_server, contact_id) == ["Prefers WhatsApp after 6pm, never calls"]
    page.screenshot(path=str(ARTIFACTS / "notes-drawer-agent.png"))
    agent.close()

    # A manager reads it but cannot change a colleague's note.
    manager = new_context(browser, app_server, "manager")
    page = manager.new_page()
    drawer = open_drawer(page, "Nora Notewell", "Notewell")
    notes = drawer.get_by_role("list", name="Notes")
    expect(notes).to_contain_text("Prefers WhatsApp after 6pm, never calls")
    expect(drawer.get_by_role("button", name="Edit note by Alex Agent")).to_have_count(0)
    expect(drawer.get_by_role("button", name="Delete note by Alex Agent")).to_have_count(0)
    manager.close()

    # The table's "Latest note" column and the "Notes contain" filter, as the admin.
    admin = new_context(browser, app_server, "admin")
    page = admin.new_page()
    page.goto("/contacts?q=Notewell")
    wait_until_connected(page)
    page.get_by_role("button", name="Columns").click()
    page.get_by_role("dialog", name="Columns").get_by_text("Latest note", exact=True).click()
    page.keyboard.press("Escape")
    table = page.get_by_role("table", name="Contacts")
    expect(table.get_by_role("columnheader", name="Latest note")).to_be_visible()
    expect(table.get_by_role("row", name="Nora Notewell")).to_contain_text(
        "Prefers WhatsApp after 6pm, never calls"
    )
    page.get_by_role("searchbox", name="Search").fill("")
    page.get_by_role("button", name="Filters").click()
    filters = page.get_by_role("dialog", name="Filters")
    filters.get_by_role("combobox", name="Field").click()
    page.get_by_role("option", name="Notes", exact=True).click()
    filters.get_by_role("combobox", name="Operator").click()
    page.get_by_role("option", name="contain", exact=True).click()
    filters.get_by_role("textbox", name="Value").fill("never calls")
    filters.get_by_role("button", name="Apply").click()
    expect(
        page.get_by_role("button", name="Remove filter Notes contain never calls")
    ).to_be_visible()
    expect(page.get_by_role("status", name="Contacts found")).to_have_text("1–1 of 1 contact")
    expect(table.get_by_role("row", name="Nora Notewell")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "notes-column-and-filter.png"))

    # The admin deletes the agent's note, after confirming.
    page.get_by_role("link", name="Open Nora Notewell").click()
    drawer = page.get_by_role("dialog", name="Nora Notewell")
    drawer.get_by_role("button", name="Delete note by Alex Agent").click()
    confirm = page.get_by_role("alertdialog", name="Delete this note?")
    confirm.get_by_role("button", name="Delete note").click()
    expect(drawer.get_by_text("No notes yet.")).to_be_visible()
    assert notes_of(app_server, contact_id) == []
    assert note_actions(app_server, contact_id) == [
        "contacts.note_add",
        "contacts.note_edit",
        "contacts.note_delete",
    ]
    admin.close()


def test_why_in_a_segment_in_the_drawer_and_from_the_leads_board(browser, app_server):
    add_contact(
        app_server,
        "Hugo Highvalue",
        channel="imported",
        custom_fields={"lifetime_value": 1250, "plan": "Pro"},
    )
    agent = new_context(browser, app_server, "agent")
    page = agent.new_page()
    drawer = open_drawer(page, "Hugo Highvalue", "Highvalue")
    expect(drawer.get_by_role("heading", name="Segments")).to_be_visible()
    expect(drawer.get_by_role("button", name="Why in High-value customers")).to_be_visible()
    why = drawer.get_by_role("region", name="Why in High-value customers")
    expect(why).to_contain_text("In this segment")
    check = why.get_by_role("listitem")
    expect(check).to_have_count(1)
    expect(check).to_have_text("✔Holds: Lifetime value ≥ 1000: 1,250")
    page.screenshot(path=str(ARTIFACTS / "why-in-segment.png"))

    # A segment it is not in: which condition fails, and the contact's own value.
    drawer.get_by_role("combobox", name="Explain segment").click()
    page.get_by_role("option", name="Enterprise plan").click()
    why_not = drawer.get_by_role("region", name="Why not in Enterprise plan")
    expect(why_not).to_contain_text("Not in this segment")
    expect(why_not.get_by_role("listitem")).to_have_text("✘Fails: Plan is Enterprise: Pro")
    page.keyboard.press("Escape")

    # The same explanation from a Leads card's ⋯ menu (agents may not move cards).
    page.goto("/contacts/leads")
    page.wait_for_function("() => document.querySelector('[data-rows-state=\"ready\"]') !== null")
    page.get_by_role("searchbox", name="Search").fill("Highvalue")
    column = page.get_by_role("region", name="High-value customers", exact=True)
    expect(column.get_by_role("listitem")).to_have_count(1)  # the search has applied
    expect(column.get_by_role("listitem", name="Hugo Highvalue")).to_be_visible()
    column.get_by_role("button", name="Actions for Hugo Highvalue").click()
    menu = page.get_by_role("menu", name="Actions for Hugo Highvalue")
    expect(menu.get_by_role("menuitem")).to_have_count(1)
    menu.get_by_role("menuitem", name="Why in “High-value customers”?").click()
    drawer = page.get_by_role("dialog", name="Hugo Highvalue")
    why = drawer.get_by_role("region", name="Why in High-value customers")
    expect(why.get_by_role("listitem")).to_have_text("✔Holds: Lifetime value ≥ 1000: 1,250")
    page.screenshot(path=str(ARTIFACTS / "why-from-leads.png"))
    agent.close()
