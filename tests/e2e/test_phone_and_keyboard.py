"""The day's work on a phone (390 px, by tap) and on a desktop by keyboard only (1440 px):
open All contacts, search, filter, open a contact, edit a value, select and delete,
export, move a Leads card."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from cloodot_app.models import Contact
from cloodot_app.state.access import SESSION_COOKIE
from tests.e2e.conftest import new_context, wait_until_connected


def add_contacts(app_server, prefix: str) -> None:
    """Two contacts to search for (one to edit, one to delete) and one for the board's
    "High-value customers" column."""
    with app_server.session() as session:
        for name, email, values in (
            (f"{prefix} Editme", f"{prefix.lower()}.edit@example.org", {}),
            (f"{prefix} Deleteme", f"{prefix.lower()}.delete@example.org", {}),
            (f"{prefix} Mover", None, {"lifetime_value": 5000}),
        ):
            session.add(
                Contact(
                    workspace_id=app_server.workspace_id,
                    name=name,
                    email=email,
                    channel="imported",
                    custom_fields=values,
                )
            )


def stored(app_server, column, name: str):
    with app_server.session() as session:
        return session.execute(sa.select(column).where(Contact.name == name)).scalar_one_or_none()


def settled(page: Page) -> None:
    """Wait for opening animations (a dialog zooms in) to end before measuring."""
    page.wait_for_function(
        "() => document.getAnimations().every("
        "a => a.effect.getComputedTiming().iterations === Infinity)"
    )


def rows(page: Page):
    return page.get_by_role("table", name="Contacts").locator("tbody tr")


def test_a_day_on_a_phone_by_tap(browser: Browser, app_server):
    add_contacts(app_server, "Phonetap")
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        timezone_id="Europe/Madrid",
        accept_downloads=True,
        base_url=app_server.url,
    )
    context.set_default_timeout(15000)
    context.add_cookies(
        [
            {
                "name": SESSION_COOKIE,
                "value": app_server.session_token("admin"),
                "url": app_server.url,
                "httpOnly": True,
                "sameSite": "Strict",
            }
        ]
    )
    page = context.new_page()
    try:
        page.goto("/settings/labels")
        # The sidebar is a menu button on a phone.
        expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
        page.get_by_role("button", name="Menu").tap()
        menu = page.get_by_role("dialog", name="Menu")
        menu.get_by_role("link", name="All").tap()
        wait_until_connected(page)
        assert page.url.endswith("/contacts")
        # Nothing is wider than the screen but the table, which scrolls inside itself.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        search = page.get_by_role("searchbox", name="Search")
        assert search.bounding_box()["width"] > 300
        search.tap()
        search.fill("Phonetap")
        expect(rows(page)).to_have_count(3)

        # Filter: email contains "delete" (the drawer takes the whole screen).
        page.get_by_role("button", name="Filters").tap()
        drawer = page.get_by_role("dialog", name="Filters")
        expect(drawer).to_be_visible()
        settled(page)
        assert drawer.bounding_box()["width"] == 390
        drawer.get_by_role("combobox", name="Field").tap()
        page.get_by_role("option", name="Email", exact=True).tap()
        drawer.get_by_role("combobox", name="Operator").tap()
        page.get_by_role("option", name="contains", exact=True).tap()
        drawer.get_by_role("textbox", name="Value").fill("delete")
        drawer.get_by_role("button", name="Apply").tap()
        expect(drawer).to_be_hidden()
        expect(rows(page)).to_have_count(1)
        page.get_by_role("button", name="Remove filter Email contains delete").tap()
        expect(rows(page)).to_have_count(3)

        # Open a contact and edit a value in the drawer.
        page.get_by_role("link", name="Open Phonetap Editme").tap()
        details = page.get_by_role("dialog", name="Phonetap Editme")
        expect(details).to_be_visible()
        settled(page)
        assert details.bounding_box()["width"] == 390
        city = details.get_by_role("textbox", name="City")
        city.tap()
        city.fill("Porto")
        city.blur()
        expect(page.get_by_text("City saved.")).to_be_visible()
        details.get_by_role("button", name="Close").tap()
        expect(details).to_be_hidden()

        # Select one and delete it: the bulk bar stays within the screen.
        page.get_by_role("checkbox", name="Select Phonetap Deleteme").tap()
        bar = page.get_by_role("region", name="Bulk actions")
        box = bar.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        bar.get_by_role("button", name="Delete").tap()
        confirm = page.get_by_role("alertdialog")
        confirm.get_by_role("button", name="Delete permanently").tap()
        expect(rows(page)).to_have_count(2)
        assert stored(app_server, Contact.id, "Phonetap Deleteme") is None

        # Export what the view shows.
        page.get_by_role("button", name="Download CSV").tap()
        dialog = page.get_by_role("dialog", name="Download CSV")
        settled(page)
        assert dialog.bounding_box()["width"] == 390
        with page.expect_download() as info:
            dialog.get_by_role("button", name="Download").tap()
        assert "Phonetap Editme" in Path(info.value.path()).read_text(encoding="utf-8")

        # Pagination is reachable.
        expect(page.get_by_role("button", name="Next")).to_be_visible()

        # Leads: one column at a time, Move by tap.
        page.get_by_role("button", name="Menu").tap()
        page.get_by_role("dialog", name="Menu").get_by_role("link", name="Leads").tap()
        page.wait_for_function(
            "() => document.querySelector('[data-rows-state=\"ready\"]') !== null"
        )
        column = page.get_by_role("region", name="High-value customers", exact=True)
        # Cards come from the server: once there, the page is connected and a search counts.
        expect(column.get_by_role("listitem").first).to_be_visible()
        page.get_by_role("searchbox", name="Search").fill("Phonetap Mover")
        # The search has narrowed the column to the one card before it is moved.
        expect(column.get_by_role("listitem")).to_have_count(1)
        expect(column.get_by_role("listitem", name="Phonetap Mover")).to_be_visible()
        assert column.bounding_box()["width"] <= 390
        column.get_by_role("button", name="Actions for Phonetap Mover").tap()
        page.get_by_role("menuitem", name="Enterprise plan").tap()
        expect(page.get_by_text("Phonetap Mover: sets Plan to Enterprise.")).to_be_visible()
        assert stored(app_server, Contact.custom_fields, "Phonetap Mover")["plan"] == "Enterprise"
        assert stored(app_server, Contact.custom_fields, "Phonetap Editme")["city"] == "Porto"
    finally:
        context.close()


def tab_to(page: Page, target, limit: int = 120) -> None:
    """Press Tab until `target` has the focus (as a keyboard user would)."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def focus_ring(page: Page) -> str:
    return page.evaluate("getComputedStyle(document.activeElement).outlineStyle")


def test_a_day_by_keyboard_only(browser: Browser, app_server):
    add_contacts(app_server, "Keyonly")
    context = new_context(browser, app_server, "admin")
    page = context.new_page()
    try:
        page.goto("/settings/labels")
        nav = page.get_by_role("navigation", name="Main")
        tab_to(page, nav.get_by_role("link", name="All"))
        assert focus_ring(page) != "none"
        page.keyboard.press("Enter")
        wait_until_connected(page)

        # "/" searches.
        page.keyboard.press("/")
        expect(page.get_by_role("searchbox", name="Search")).to_be_focused()
        page.keyboard.type("Keyonly")
        expect(rows(page)).to_have_count(3)

        # "f" opens Filters; Escape closes them; a filter by keyboard.
        page.keyboard.press("Tab")
        page.keyboard.press("f")
        drawer = page.get_by_role("dialog", name="Filters")
        expect(drawer).to_be_visible()
        page.keyboard.press("Escape")
        expect(drawer).to_be_hidden()
        page.keyboard.press("f")
        expect(drawer).to_be_visible()
        tab_to(page, drawer.get_by_role("combobox", name="Field"))
        page.keyboard.press("Enter")
        page.keyboard.type("Email")
        page.keyboard.press("Enter")
        tab_to(page, drawer.get_by_role("combobox", name="Operator"))
        page.keyboard.press("Enter")
        page.keyboard.type("contains")
        page.keyboard.press("Enter")
        tab_to(page, drawer.get_by_role("textbox", name="Value"))
        page.keyboard.type("delete")
        tab_to(page, drawer.get_by_role("button", name="Apply"))
        page.keyboard.press("Enter")
        expect(drawer).to_be_hidden()
        expect(rows(page)).to_have_count(1)
        tab_to(page, page.get_by_role("button", name="Remove filter Email contains delete"))
        page.keyboard.press("Enter")
        expect(rows(page)).to_have_count(3)

        # Arrow keys between rows, Enter opens the contact.
        tab_to(page, rows(page).first)
        assert focus_ring(page) != "none"
        names = [rows(page).nth(i).locator("[data-open-row]").inner_text() for i in range(3)]
        page.keyboard.press("ArrowDown")
        expect(rows(page).nth(1)).to_be_focused()
        page.keyboard.press("ArrowUp")
        expect(rows(page).first).to_be_focused()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        details = page.get_by_role("dialog", name=names[1].strip())
        expect(details).to_be_visible()

        # Edit a value in the drawer, then Escape.
        city = details.get_by_role("textbox", name="City")
        tab_to(page, city)
        page.keyboard.type("Braga")
        page.keyboard.press("Tab")
        expect(page.get_by_text("City saved.")).to_be_visible()
        page.keyboard.press("Escape")
        expect(details).to_be_hidden()
        assert stored(app_server, Contact.custom_fields, names[1].strip())["city"] == "Braga"

        # Select and delete.
        tab_to(page, page.get_by_role("checkbox", name="Select Keyonly Deleteme"))
        page.keyboard.press("Space")
        bar = page.get_by_role("region", name="Bulk actions")
        expect(bar).to_contain_text("1 contact selected")
        tab_to(page, bar.get_by_role("button", name="Delete"))
        page.keyboard.press("Enter")
        confirm = page.get_by_role("alertdialog")
        tab_to(page, confirm.get_by_role("button", name="Delete permanently"))
        page.keyboard.press("Enter")
        expect(rows(page)).to_have_count(2)
        assert stored(app_server, Contact.id, "Keyonly Deleteme") is None

        # Export.
        tab_to(page, page.get_by_role("button", name="Download CSV"))
        page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name="Download CSV")
        tab_to(page, dialog.get_by_role("button", name="Download"))
        with page.expect_download() as info:
            page.keyboard.press("Enter")
        assert "Keyonly Editme" in Path(info.value.path()).read_text(encoding="utf-8")
        expect(dialog).to_be_hidden()

        # "?" lists the shortcuts.
        page.keyboard.press("?")
        shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(shortcuts).to_contain_text("Open Filters")
        page.keyboard.press("Escape")
        expect(shortcuts).to_be_hidden()

        # Leads: Move without a mouse.
        tab_to(page, nav.get_by_role("link", name="Leads"))
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => document.querySelector('[data-rows-state=\"ready\"]') !== null"
        )
        column = page.get_by_role("region", name="High-value customers", exact=True)
        # Cards come from the server: once there, the page is connected and a search counts.
        expect(column.get_by_role("listitem").first).to_be_visible()
        page.keyboard.press("/")
        page.keyboard.type("Keyonly Mover")
        # The search has narrowed the column to the one card before it is moved.
        expect(column.get_by_role("listitem")).to_have_count(1)
        expect(column.get_by_role("listitem", name="Keyonly Mover")).to_be_visible()
        tab_to(page, column.get_by_role("button", name="Actions for Keyonly Mover"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("menu")).to_be_visible()
        # Down the menu (past "Why in …") to the column to move to, then Enter.
        target = page.get_by_role("menuitem", name="Enterprise plan")
        for _ in range(12):
            if target.evaluate("element => element === document.activeElement"):
                break
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        expect(page.get_by_text("Keyonly Mover: sets Plan to Enterprise.")).to_be_visible()
        assert stored(app_server, Contact.custom_fields, "Keyonly Mover")["plan"] == "Enterprise"
    finally:
        context.close()
