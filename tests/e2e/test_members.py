"""Settings → Members in Chromium (issue 9): an admin invites someone who joins from the
link, changes a role, removes a member (their open tab is signed out), hands a member a
reset link, and rotates the ingestion token (the old one is refused at once)."""

from __future__ import annotations

import re

import httpx
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from cloodot_app.models import Membership, Workspace
from cloodot_app.services import accounts
from cloodot_app.services.workspaces import ensure_workspace
from tests.e2e.conftest import ARTIFACTS, new_context, wait_until_connected
from tests.e2e.world import PASSWORD

NEW_PASSWORD = "a much newer secret"


def _open_members(page: Page) -> None:
    page.goto("/settings/members")
    expect(page.get_by_role("heading", name="Members", exact=True)).to_be_visible()
    expect(page.get_by_role("table", name="Members")).to_be_visible()


def _member(app_server, email: str, name: str, role: str = "agent") -> tuple[int, str]:
    """A member of the world's workspace (made here, so tests do not depend on order),
    with an open session: (user id, session token)."""
    with app_server.session() as session:
        user = accounts.user_by_email(session, email) or accounts.create_user(
            session, email, name, PASSWORD
        )
        accounts.add_member(session, app_server.workspace_id, user.id, role)
        token = accounts.start_session(session, user.id, app_server.workspace_id)
        return user.id, token


def _role(app_server, user_id: int) -> str | None:
    return _role_in(app_server, app_server.workspace_id, user_id)


def _role_in(app_server, workspace_id: int, user_id: int) -> str | None:
    with app_server.session() as session:
        return session.execute(
            sa.select(Membership.role).where(
                Membership.workspace_id == workspace_id, Membership.user_id == user_id
            )
        ).scalar_one_or_none()


def _row(page: Page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(name)))


def test_an_invited_agent_joins_from_the_link(browser: Browser, app_server, page: Page):
    _open_members(page)
    you = _row(page, "Ada Admin")
    expect(you).to_contain_text("(you)")
    page.screenshot(path=str(ARTIFACTS / "members.png"), full_page=True)

    page.get_by_role("button", name="Invite", exact=True).click()
    dialog = page.get_by_role("dialog", name="Invite a member")
    dialog.get_by_role("textbox", name="Email").fill("nina.new@example.com")
    expect(dialog.get_by_role("combobox", name="Role")).to_have_text("Agent")
    dialog.get_by_role("button", name="Create invitation").click()
    expect(dialog).to_contain_text("This link works once, for 7 days. Send it to them yourself.")
    link = dialog.get_by_role("textbox", name="Invitation link").input_value()
    assert link.startswith(f"{app_server.url}/accept-invitation?token=")
    expect(dialog.get_by_role("button", name="Copy invitation link")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "members-invite-link.png"))
    dialog.get_by_role("button", name="Done").click()
    pending = page.get_by_role("table", name="Pending invitations")
    expect(pending.get_by_role("row", name=re.compile("nina.new@example.com"))).to_contain_text(
        "Agent"
    )
    page.get_by_role("button", name="What each role may do").click()
    expect(page.get_by_role("dialog")).to_contain_text("Members and roles")
    page.screenshot(path=str(ARTIFACTS / "members-pending-and-roles.png"), full_page=True)
    page.keyboard.press("Escape")

    context = new_context(browser, app_server, role=None)
    invitee = context.new_page()
    try:
        invitee.goto(link)
        expect(invitee.get_by_role("heading", name="Join your team")).to_be_visible()
        invitee.get_by_role("textbox", name="Your name").fill("Nina New")
        invitee.get_by_label("Password").fill(NEW_PASSWORD)
        invitee.get_by_role("button", name="Join the workspace").click()
        wait_until_connected(invitee)
        assert re.search(r"/contacts/?$", invitee.url)
        nav = invitee.get_by_role("navigation", name="Main")
        expect(nav.get_by_text("Nina New")).to_be_visible()
        expect(nav.get_by_text("Agent", exact=True)).to_be_visible()
        expect(nav.get_by_role("link", name="Members")).to_have_count(0)
    finally:
        context.close()
    # Joined: a member now, no longer pending.
    page.reload()
    expect(_row(page, "Nina New")).to_contain_text("nina.new@example.com")
    expect(page.get_by_text("nina.new@example.com")).to_have_count(1)  # the member row only


def test_an_admin_changes_a_members_role(app_server, page: Page):
    user_id, _ = _member(app_server, "rita.role@example.com", "Rita Role")
    _open_members(page)
    row = _row(page, "Rita Role")
    row.get_by_role("combobox", name="Role of Rita Role").click()
    page.get_by_role("option", name="Manager").click()
    expect(page.get_by_text("Rita Role is now Manager.")).to_be_visible()
    expect(row.get_by_role("combobox", name="Role of Rita Role")).to_have_text("Manager")
    assert _role(app_server, user_id) == "manager"


def test_a_removed_members_open_tab_is_signed_out(browser: Browser, app_server, page: Page):
    user_id, token = _member(app_server, "remy.removed@example.com", "Remy Removed")
    context = new_context(browser, app_server, role=None)
    context.add_cookies(
        [{"name": "cloodot_session", "value": token, "url": app_server.url, "httpOnly": True}]
    )
    their_tab = context.new_page()
    try:
        their_tab.goto("/contacts")
        wait_until_connected(their_tab)

        _open_members(page)
        _row(page, "Remy Removed").get_by_role("button", name="Remove Remy Removed").click()
        confirm = page.get_by_role("alertdialog")
        expect(confirm).to_contain_text("their open sessions in this workspace end now")
        confirm.get_by_role("button", name="Remove member").click()
        expect(page.get_by_text("Removed Remy Removed from the workspace.")).to_be_visible()
        expect(_row(page, "Remy Removed")).to_have_count(0)
        assert _role(app_server, user_id) is None

        their_tab.get_by_role("button", name="Next").click()
        expect(their_tab.get_by_role("heading", name="Sign in")).to_be_visible()
    finally:
        context.close()


def test_the_last_admin_can_neither_leave_nor_step_down(browser: Browser, app_server):
    """In a workspace of its own (the world's may have other admins by now, such as the
    demo admin): its one admin is refused with the reason, and sees only its members."""
    with app_server.session() as session:
        workspace = ensure_workspace(session, "solo-studio", "Solo Studio")
        user = accounts.create_user(session, "sol.solo@example.com", "Sol Solo", PASSWORD)
        accounts.add_member(session, workspace.id, user.id, "admin")
        token = accounts.start_session(session, user.id, workspace.id)
    context = new_context(browser, app_server, role=None)
    context.add_cookies(
        [{"name": "cloodot_session", "value": token, "url": app_server.url, "httpOnly": True}]
    )
    page = context.new_page()
    try:
        _open_members(page)
        expect(page.get_by_role("table", name="Members").get_by_role("row")).to_have_count(2)
        expect(page.get_by_text("Ada Admin")).to_have_count(0)
        _row(page, "Sol Solo").get_by_role("button", name="Remove Sol Solo").click()
        confirm = page.get_by_role("alertdialog")
        expect(confirm).to_contain_text("Remove yourself from this workspace?")
        confirm.get_by_role("button", name="Remove member").click()
        expect(page.get_by_text("A workspace needs at least one admin")).to_be_visible()
        expect(_row(page, "Sol Solo")).to_contain_text("(you)")

        _row(page, "Sol Solo").get_by_role("combobox", name="Role of Sol Solo").click()
        page.get_by_role("option", name="Agent").click()
        confirm = page.get_by_role("alertdialog")
        expect(confirm).to_contain_text("Change your own role to Agent?")
        confirm.get_by_role("button", name="Change my role").click()
        expect(page.get_by_text("A workspace needs at least one admin").first).to_be_visible()
        expect(_row(page, "Sol Solo").get_by_role("combobox")).to_have_text("Admin")
        assert _role_in(app_server, workspace.id, user.id) == "admin"
    finally:
        context.close()


def test_a_reset_link_lets_a_member_choose_a_new_password(browser: Browser, app_server, page: Page):
    email = "rosa.reset@example.com"
    _member(app_server, email, "Rosa Reset")
    _open_members(page)
    _row(page, "Rosa Reset").get_by_role("button", name="Reset link for Rosa Reset").click()
    dialog = page.get_by_role("dialog", name="Password reset link for Rosa Reset")
    link = dialog.get_by_role("textbox", name="Reset link").input_value()
    assert link.startswith(f"{app_server.url}/reset-password?token=")
    expect(dialog.get_by_role("button", name="Copy reset link")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "members-reset-link.png"))
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_have_count(0)

    context = new_context(browser, app_server, role=None)
    rosa = context.new_page()
    try:
        rosa.goto(link)
        rosa.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        rosa.get_by_label("New password again").fill(NEW_PASSWORD)
        rosa.get_by_role("button", name="Set password").click()
        expect(rosa.get_by_text("Your password is changed.")).to_be_visible()
        rosa.goto("/signin")
        rosa.get_by_role("textbox", name="Email").fill(email)
        rosa.get_by_label("Password").fill(NEW_PASSWORD)
        rosa.get_by_role("button", name="Sign in").click()
        wait_until_connected(rosa)
        expect(
            rosa.get_by_role("navigation", name="Main").get_by_text("Rosa Reset")
        ).to_be_visible()
    finally:
        context.close()


def _post(app_server, token: str) -> int:
    return httpx.post(
        f"{app_server.url}/api/channels/webchat/messages",
        headers={"Authorization": f"Bearer {token}"},
        json={"external_id": f"members-test-{token[-6:]}", "text": "Hello", "name": "Tok Tester"},
        timeout=10,
    ).status_code


def test_rotating_the_ingestion_token_refuses_the_old_one(app_server, page: Page):
    old = app_server.token
    try:
        _open_members(page)
        expect(page.get_by_role("textbox", name="Ingestion endpoint")).to_have_value(
            f"POST {app_server.url}/api/channels/{{channel}}/messages"
        )
        expect(page.get_by_label(re.compile("Ingestion token, ending in"))).to_have_text(
            re.compile(re.escape(old[-4:]) + "$")
        )
        assert old not in page.content()
        page.get_by_role("button", name="Rotate token").click()
        confirm = page.get_by_role("alertdialog")
        expect(confirm).to_contain_text("stop working at once")
        confirm.get_by_role("button", name="Rotate token").click()
        dialog = page.get_by_role("dialog", name="New ingestion token")
        new = dialog.get_by_role("textbox", name="Ingestion token").input_value()
        assert new and new != old
        page.screenshot(path=str(ARTIFACTS / "members-new-token.png"))
        dialog.get_by_role("button", name="Done").click()
        expect(page.get_by_label(re.compile("Ingestion token, ending in"))).to_have_text(
            re.compile(re.escape(new[-4:]) + "$")
        )
        assert _post(app_server, old) == 401
        assert _post(app_server, new) == 201
    finally:
        # Other browser tests post with the world's token.
        with app_server.session() as session:
            session.execute(
                sa.update(Workspace)
                .where(Workspace.id == app_server.workspace_id)
                .values(ingest_token=old)
            )
