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
RUN = """async () => {
  axe.configure({checks: [{id: "region", options: {regionMatcher:
    "dialog, [role=dialog], [role=alertdialog], [role=menu], svg"}}]});
  return await axe.run(document, {resultTypes: ["violations"]});
}"""


def violations(page: Page) -> list[str]:
    """One line per violated rule: id, impact, how many nodes, and the first of them."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.axe_script)
    return [
        f"{v['id']} ({v['impact']}) ×{len(v['nodes'])}: {v['nodes'][0]['target']} "
        f"{v['nodes'][0]['failureSummary']}"
        for v in page.evaluate(RUN)["violations"]
    ]


def check_every_look(page: Page, where: str, problems: list[str]) -> None:
    """axe at each width and colour scheme on the page as it is now; back to desktop light."""
    for look, viewport, scheme in LOOKS:
        page.set_viewport_size(viewport)
        page.emulate_media(color_scheme=scheme)
        # The theme follows the system setting (the html element's class says which).
        page.wait_for_function("s => document.documentElement.classList.contains(s)", arg=scheme)
        # Let transitions (drawers sliding, colours fading) finish before measuring.
        page.wait_for_timeout(250)
        problems += [f"{where} at {look}: {line}" for line in violations(page)]
    page.set_viewport_size(DESKTOP)
    page.emulate_media(color_scheme="light")


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


def open_move_menu(page: Page) -> None:
    page.get_by_role("button", name="Move ").first.click()
    expect(page.get_by_role("menu")).to_be_visible()


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
        ],
    ),
    "leads": ("/contacts/leads", [("a card's Move menu", open_move_menu)]),
    "segments": ("/contacts/segments", [("the segment editor", open_new("New segment"))]),
    "import": ("/contacts/import", []),
    "labels": ("/settings/labels", [("the label editor", open_new("New label"))]),
    "fields": ("/settings/fields", [("the field editor", open_new("New field"))]),
    "members": ("/settings/members", [("the invite dialog", open_new("Invite"))]),
    "audit": ("/settings/audit", []),
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
            check_every_look(page, f"{route} with {state_name}", problems)
            page.keyboard.press("Escape")
            if "confirm" in state_name:
                expect(page.get_by_role("alertdialog")).to_have_count(0)
                page.get_by_role("button", name="Clear selection").first.click()
            else:
                expect(page.get_by_role("dialog")).to_have_count(0)
                expect(page.get_by_role("menu")).to_have_count(0)
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
