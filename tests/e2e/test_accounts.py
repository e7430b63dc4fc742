"""Sign-in, roles and sessions in Chromium (issue 9): a browser without a session sees
only the sign-in page; each role sees what it may do; a removed member's open tab is
signed out on its next action; the demo buttons; sign-out."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from cloodot_app.models import Contact
from cloodot_app.services import accounts
from tests.e2e.conftest import ARTIFACTS, new_context, wait_until_connected
from tests.e2e.world import MEMBERS, PASSWORD


def _sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_browser_without_a_session_sees_only_the_sign_in_page(browser: Browser, app_server):
    context = new_context(browser, app_server, role=None)
    page = context.new_page()
    try:
        for path in ("/contacts", "/contacts/leads", "/settings/labels", "/contacts/segments"):
            page.goto(path)
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            assert "/signin?next=" in page.url
            expect(page.get_by_role("table")).to_have_count(0)
            assert "Zoe Quartermaine" not in page.content()
        page.screenshot(path=str(ARTIFACTS / "sign-in.png"))
    finally:
        context.close()


def test_sign_in_refuses_a_wrong_password_then_comes_back_where_it_was(
    browser: Browser, app_server
):
    context = new_context(browser, app_server, role=None)
    page = context.new_page()
    try:
        page.goto("/contacts/segments")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        email = MEMBERS["manager"][0]
        _sign_in(page, email, "not the password")
        refused = page.get_by_role("alert")
        expect(refused).to_contain_text("do not match")
        wrong_password_words = refused.inner_text()
        _sign_in(page, "nobody@example.com", "not the password")
        # The same words whether or not the email has an account.
        expect(page.get_by_role("alert")).to_have_text(wrong_password_words)
        _sign_in(page, email, PASSWORD)
        expect(page.get_by_role("heading", name="Segments")).to_be_visible()
        assert re.search(r"/contacts/segments/?$", page.url)
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_text(MEMBERS["manager"][1])).to_be_visible()
        expect(nav.get_by_text("Manager", exact=True)).to_be_visible()
        cookie = next(c for c in context.cookies() if c["name"] == "cloodot_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.evaluate("document.cookie").find("cloodot_session") == -1
    finally:
        context.close()


def test_an_agent_sees_what_agents_may_do(browser: Browser, app_server):
    context = new_context(browser, app_server, role="agent")
    page = context.new_page()
    try:
        page.goto("/contacts?q=Quartermaine")
        wait_until_connected(page)
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Segments")).to_be_visible()
        expect(nav.get_by_role("link", name="Import")).to_have_count(0)
        expect(nav.get_by_role("link", name="Labels")).to_have_count(0)
        download = page.get_by_role("button", name="Download CSV")
        expect(download).to_be_disabled()
        download.hover(force=True)
        expect(page.get_by_role("tooltip")).to_contain_text(
            "Your role (Agent) cannot download contacts. Ask an admin."
        )
        # Agents edit contacts.
        page.get_by_role("button", name=re.compile(r"^City: ")).first.click()
        page.get_by_role("textbox", name="Edit City").fill("Porto")
        page.get_by_role("textbox", name="Edit City").press("Enter")
        expect(page.get_by_text("Saved.")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "contacts-as-agent.png"))
        page.goto("/settings/labels")
        expect(page.get_by_text("Your role cannot change labels or custom fields")).to_be_visible()
    finally:
        context.close()


def test_a_removed_member_is_signed_out_on_their_next_action(browser: Browser, app_server):
    email = "temp.agent@example.com"
    with app_server.session() as session:
        user = accounts.create_user(session, email, "Temp Agent", PASSWORD)
        accounts.add_member(session, app_server.workspace_id, user.id, "agent")
        token = accounts.start_session(session, user.id, app_server.workspace_id)
        user_id = user.id
    context = new_context(browser, app_server, role=None)
    context.add_cookies(
        [{"name": "cloodot_session", "value": token, "url": app_server.url, "httpOnly": True}]
    )
    page = context.new_page()
    try:
        page.goto("/contacts")
        wait_until_connected(page)
        with app_server.session() as session:
            accounts.remove_member(session, app_server.workspace_id, None, user_id)
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    finally:
        context.close()


def test_the_demo_buttons_sign_in_as_each_role_and_sign_out_ends_the_session(
    browser: Browser, app_server
):
    context = new_context(browser, app_server, role=None)
    page = context.new_page()
    try:
        page.goto("/signin")
        page.get_by_role("button", name="Try the demo as Manager").click()
        wait_until_connected(page)
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_text("Manager", exact=True)).to_be_visible()
        expect(nav.get_by_role("link", name="Import")).to_be_visible()
        expect(nav.get_by_role("link", name="Members")).to_have_count(0)
        nav.get_by_role("button", name="Sign out", exact=True).click()
        expect(page.get_by_text("You are signed out.")).to_be_visible()
        page.goto("/contacts")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    finally:
        context.close()


def test_an_agent_cannot_delete_contacts(browser, app_server):
    """The Delete button is disabled for agents; the server refuses the event anyway
    (the authorisation state test crafts it for every handler)."""
    context = new_context(browser, app_server, role="agent")
    page = context.new_page()
    try:
        page.goto("/contacts?q=Quartermaine")
        wait_until_connected(page)
        page.get_by_role("checkbox", name=re.compile("Select Zoe")).click()
        expect(page.get_by_role("button", name="Delete")).to_be_disabled()
        with app_server.session() as session:
            assert (
                session.execute(
                    sa.select(sa.func.count()).where(Contact.name == "Zoe Quartermaine")
                ).scalar_one()
                == 1
            )
    finally:
        context.close()
