"""Screenshots of every page at 390, 768 and 1440 px, light and dark, for a person to look
at (test-artifacts/screens/). Off by default (about two minutes): `SCREENSHOTS=1 python -m
pytest tests/e2e/test_screenshots.py`. Each one also checks that the page itself never
scrolls sideways (only a wide table or the Leads board scrolls, inside itself)."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import ARTIFACTS, new_context

pytestmark = pytest.mark.skipif(
    not os.environ.get("SCREENSHOTS"), reason="screenshots only when SCREENSHOTS=1"
)

PAGES = {
    "contacts": "/contacts",
    "leads": "/contacts/leads",
    "segments": "/contacts/segments",
    "import": "/contacts/import",
    "labels": "/settings/labels",
    "fields": "/settings/fields",
    "members": "/settings/members",
    "audit": "/settings/audit",
    "signin": "/signin",
}
WIDTHS = {"phone": 390, "tablet": 768, "desktop": 1440}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES))
def test_screenshot(browser: Browser, app_server, name: str, scheme: str):
    folder = ARTIFACTS / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    context = new_context(browser, app_server, None if name == "signin" else "admin")
    page = context.new_page()
    try:
        page.emulate_media(color_scheme=scheme)
        page.goto(PAGES[name])
        expect(page.locator("main").first).to_be_visible()
        page.wait_for_timeout(1200)
        for label, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900 if width > 500 else 844})
            page.wait_for_timeout(300)
            page.screenshot(path=str(folder / f"{name}-{label}-{scheme}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (
                f"{name} scrolls sideways at {width} px"
            )
        if name == "contacts":
            _phone_overlays(page, folder, scheme)
    finally:
        context.close()


def _phone_overlays(page, folder, scheme: str) -> None:
    """The menu, the filter drawer, the export dialog and the details drawer on a phone."""
    page.set_viewport_size({"width": 390, "height": 844})
    for button, shot in (
        ("Menu", "menu"),
        ("Filters", "filters"),
        ("Download CSV", "export"),
    ):
        page.get_by_role("button", name=button).click()
        expect(page.get_by_role("dialog")).to_be_visible()
        page.wait_for_timeout(500)
        page.screenshot(path=str(folder / f"contacts-{shot}-phone-{scheme}.png"))
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_role("link", name=re.compile("^Open ")).first.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.wait_for_timeout(500)
    page.screenshot(path=str(folder / f"contacts-drawer-phone-{scheme}.png"))
