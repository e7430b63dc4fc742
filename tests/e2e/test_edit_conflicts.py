"""Two people edit the same value at once, each in their own browser: the second save
does not silently win (issue 8, item 3)."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from cloodot_app.models import Contact
from tests.e2e.conftest import new_context, wait_until_connected


def _open(browser: Browser, app_server):
    context = new_context(browser, app_server)
    page = context.new_page()
    page.goto("/contacts?q=Xena")
    wait_until_connected(page)
    return context, page


def _email(app_server) -> str:
    with app_server.session() as session:
        return session.execute(
            sa.select(Contact.email).where(Contact.name == "Xena Varga")
        ).scalar_one()


def test_second_save_of_the_same_value_asks_keep_theirs_or_use_mine(browser: Browser, app_server):
    mine_context, mine = _open(browser, app_server)
    theirs_context, theirs = _open(browser, app_server)
    try:
        cell = "Email: xena@example.com (click to edit)"
        # I open the editor first...
        mine.get_by_role("button", name=cell).click()
        # ...then a colleague changes the same email and saves.
        theirs.get_by_role("button", name=cell).click()
        theirs.get_by_role("textbox", name="Edit Email").fill("xena.theirs@example.com")
        theirs.get_by_role("textbox", name="Edit Email").press("Enter")
        expect(
            theirs.get_by_role("button", name="Email: xena.theirs@example.com (click to edit)")
        ).to_be_visible()

        mine.get_by_role("textbox", name="Edit Email").fill("xena.mine@example.com")
        mine.get_by_role("textbox", name="Edit Email").press("Enter")
        conflict = mine.get_by_role("alertdialog", name="This value has changed")
        expect(conflict).to_contain_text(
            "Changed by someone else since you opened it: “xena.theirs@example.com”"
        )
        assert _email(app_server) == "xena.theirs@example.com"
        mine.screenshot(path="test-artifacts/edit-conflict.png")

        conflict.get_by_role("button", name="Use mine").click()
        expect(conflict).to_be_hidden()
        expect(
            mine.get_by_role("button", name="Email: xena.mine@example.com (click to edit)")
        ).to_be_visible()
        assert _email(app_server) == "xena.mine@example.com"

        # Now the colleague's tab is the one behind: Keep theirs leaves mine in place.
        theirs.get_by_role("button", name="Email: xena.theirs@example.com (click to edit)").click()
        theirs.get_by_role("textbox", name="Edit Email").fill("xena.again@example.com")
        theirs.get_by_role("textbox", name="Edit Email").press("Enter")
        their_conflict = theirs.get_by_role("alertdialog", name="This value has changed")
        expect(their_conflict).to_contain_text("“xena.mine@example.com”")
        their_conflict.get_by_role("button", name="Keep theirs").click()
        expect(
            theirs.get_by_role("button", name="Email: xena.mine@example.com (click to edit)")
        ).to_be_visible()
        assert _email(app_server) == "xena.mine@example.com"
    finally:
        mine_context.close()
        theirs_context.close()
