"""axe-core on every page and with every dialog and drawer open, at phone (390 px) and
desktop (1440 px) width, in light and dark: any violation of any impact fails.

Each page is loaded once; the viewport and the colour scheme are switched on the loaded
page (the layout follows CSS media queries, the theme follows the system setting), so
one load is checked four times instead of being loaded four times.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import new_context, wait_until_connected

AXE = Axe()
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
LOOKS = [
    ("1440 light", DESKTOP, "light"),
    ("1440 dark", DESKTOP, "dark"),
    ("390 light", PHONE, "light"),
    ("390 dark", PHONE, "dark"),
]


# axe's region rule already counts dialogs as regions (they sit in a portal at the end of
# the page); a menu opened from a card sits there too, for the same reason.
RUN = """async (within) => {
  axe.configure({checks: [{id: "region", options: {regionMatcher:
    "dialog, [role=dialog], [role=alertdialog], [role=menu], svg"}}]});
  const context = within ? document.querySelector(within) : document;
  return await axe.run(context, {resultTypes: ["violations"]});
}"""


def violations(page: Page, within: str | None = None) -> list[str]:
    """One line per violated rule: id, impact, how many nodes, and the first of them.
    `within`: a selector to check only that part (an open dialog: the page under it was
    checked on its own and is hidden from assistive technology while the dialog is open)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.axe_script)
    return [
        f"{v['id']} ({v['impact']}) ×{len(v['nodes'])}: {v['nodes'][0]['target']} "
        f"{v['nodes'][0]['failureSummary']}"
        for v in page.evaluate(RUN, within)["violations"]
    ]


def check_every_look(
    page: Page, where: str, problems: list[str], phone_only=False, within: str | None = None
) -> None:
    """axe at each width and colour scheme on the page as it is now; back to desktop light."""
    for look, viewport, scheme in LOOKS:
        if phone_only and viewport != PHONE:
            continue
        page.set_viewport_size(viewport)
        page.emulate_media(color_scheme=scheme)
        # The theme follows the system setting (the html element's class says which).
        page.wait_for_function("s => document.documentElement.classList.contains(s)", arg=scheme)
        # Let transitions (drawers sliding, colours fading) finish before measuring.
        page.wait_for_timeout(150)
        problems += [f"{where} at {look}: {line}" for line in violations(page, within)]
    page.emulate_media(color_scheme="light")
    if not phone_only:
        page.set_viewport_size(DESKTOP)


def open_filters(page: Page) -> None:
    page.get_by_role("button", name="Filters").click()
    expect(page.get_by_role("dialog", name="Filters")).to_be_visible()


def open_contact(page: Page) -> None:
    page.get_by_role("link", name=re.compile("^Open ")).first.click()
    expect(page.get_by_role("dialog")).to_contain_text("Recent conversations")


def open_export(page: Page) -> None:
    page.get_by_role("button", name="Download CSV").click()
    expect(page.get_by_role("dialog")).to_be_visible()


def open_columns(page: Page) -> None:
    page.get_by_role("button", name="Columns").click()
    expect(page.get_by_role("dialog", name="Columns")).to_be_visible()


def open_delete(page: Page) -> None:
    page.get_by_role("checkbox", name=re.compile("^Select ")).nth(1).click()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("alertdialog")).to_be_visible()


def open_bulk_edit(page: Page) -> None:
    page.get_by_role("checkbox", name=re.compile("^Select ")).nth(1).click()
    page.get_by_role("button", name="Add label", exact=True).click()
    expect(page.get_by_role("dialog")).to_be_visible()


def open_move_menu(page: Page) -> None:
    page.get_by_role("button", name=re.compile("^Actions for ")).first.click()
    expect(page.get_by_role("menu")).to_be_visible()


def open_menu(page: Page) -> None:
    """The sidebar as a drawer: a phone's only way to the other pages."""
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("dialog", name="Menu")).to_be_visible()


def open_shortcuts(page: Page) -> None:
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()


def upload_a_file(page: Page) -> None:
    """The mapping and preview step of an import (no dialog: the page changes)."""
    page.locator("input[type=file]").set_input_files(
        files=[
            {
                "name": "people.csv",
                "mimeType": "text/csv",
                "buffer": b"Name,E-mail,Phone\nAna Axe,ana.axe@example.org,+14155550100\n",
            }
        ]
    )
    expect(page.get_by_role("heading", name="Map columns")).to_be_visible()


def ask_to_delete(label: str) -> Callable[[Page], None]:
    def open_it(page: Page) -> None:
        page.get_by_role("button", name=label, exact=True).click()
        expect(page.get_by_role("alertdialog")).to_be_visible()

    return open_it


def open_new(label: str) -> Callable[[Page], None]:
    def open_it(page: Page) -> None:
        page.get_by_role("button", name=label).click()
        expect(page.get_by_role("dialog")).to_be_visible()

    return open_it


PAGES = {
    "contacts": (
        "/contacts",
        [
            ("the filter drawer", open_filters),
            ("the contact drawer", open_contact),
            ("the export dialog", open_export),
            ("the column chooser", open_columns),
            ("the delete confirmation", open_delete),
            ("the bulk edit dialog", open_bulk_edit),
            ("the phone menu", open_menu),
        ],
    ),
    "leads": ("/contacts/leads", [("a card's Move menu", open_move_menu)]),
    "segments": (
        "/contacts/segments",
        [
            ("the segment editor", open_new("New segment")),
            ("the delete confirmation", ask_to_delete("Delete VIP")),
            ("the keyboard shortcuts", open_shortcuts),
        ],
    ),
    "import": ("/contacts/import", [("a file's mapping and preview", upload_a_file)]),
    "labels": (
        "/settings/labels",
        [
            ("the label editor", open_new("New label")),
            ("the delete confirmation", ask_to_delete("Delete VIP")),
        ],
    ),
    "fields": ("/settings/fields", [("the field editor", open_new("New field"))]),
    "members": ("/settings/members", [("the invite dialog", open_new("Invite"))]),
    "audit": ("/settings/audit", []),
    "duplicates": ("/contacts/duplicates", []),
    "channels": (
        "/settings/channels",
        [("the connect dialog", open_new("Connect WhatsApp"))],
    ),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_axe_violations(browser: Browser, app_server, name: str):
    route, states = PAGES[name]
    context = new_context(browser, app_server, "admin")
    page = context.new_page()
    try:
        page.goto(route)
        if name == "contacts":
            wait_until_connected(page)
        expect(page.get_by_role("navigation", name="Main")).to_be_attached()
        problems: list[str] = []
        check_every_look(page, route, problems)
        for state_name, open_it in states:
            open_it(page)
            phone_only = "phone" in state_name
            within = next(
                (
                    selector
                    for selector in ('[role="alertdialog"]', '[role="dialog"]', '[role="menu"]')
                    if page.locator(selector).count()
                ),
                None,
            )
            check_every_look(page, f"{route} with {state_name}", problems, phone_only, within)
            page.keyboard.press("Escape")
            if "confirm" in state_name:
                expect(page.get_by_role("alertdialog")).to_have_count(0)
                if name == "contacts":
                    page.get_by_role("button", name="Clear selection").first.click()
            else:
                expect(page.get_by_role("dialog")).to_have_count(0)
                expect(page.get_by_role("menu")).to_have_count(0)
                if "bulk" in state_name:
                    page.get_by_role("button", name="Clear selection").first.click()
        assert not problems, "\n".join(problems)
    finally:
        context.close()


@pytest.mark.parametrize("route", ["/signin", "/forgot-password"])
def test_signed_out_pages_have_no_axe_violations(browser: Browser, app_server, route: str):
    context = new_context(browser, app_server, None)
    page = context.new_page()
    try:
        page.goto(route)
        expect(page.get_by_role("button").first).to_be_visible()
        problems: list[str] = []
        check_every_look(page, route, problems)
        assert not problems, "\n".join(problems)
    finally:
        context.close()
