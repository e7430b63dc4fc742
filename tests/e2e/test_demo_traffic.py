"""Demo mode in a hosted demo: a visitor clicks "Try the demo as Agent", turns Live on, and
sees the demo traffic's messages arrive without reloading. The server posts one every 2 s
into its own demo workspace (conftest.DEMO_WORKSPACE), never into the tests' world."""

from __future__ import annotations

import time

import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from cloodot_app.models import Contact, Message
from cloodot_app.services.workspaces import workspace_by_slug
from tests.e2e.conftest import ARTIFACTS, DEMO_WORKSPACE, new_context, wait_until_connected


def _demo_workspace_id(app_server) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with app_server.session() as session:
            workspace = workspace_by_slug(session, DEMO_WORKSPACE)
            if workspace is not None:
                return workspace.id
        time.sleep(0.5)
    raise AssertionError("the demo traffic never made the demo workspace")


def _newest_contact_id(app_server, workspace_id: int) -> int:
    with app_server.session() as session:
        return (
            session.execute(
                sa.select(sa.func.max(Contact.id)).where(Contact.workspace_id == workspace_id)
            ).scalar()
            or 0
        )


def _next_new_contact(app_server, workspace_id: int, after_id: int) -> str:
    """The name of the first contact the demo traffic creates after `after_id`."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with app_server.session() as session:
            name = session.execute(
                sa.select(Contact.name)
                .where(Contact.workspace_id == workspace_id, Contact.id > after_id)
                .order_by(Contact.id)
                .limit(1)
            ).scalar()
        if name:
            return name
        time.sleep(0.5)
    raise AssertionError("no new demo contact within a minute")


def test_a_demo_visitor_with_live_on_sees_demo_messages_arrive(browser: Browser, app_server):
    workspace_id = _demo_workspace_id(app_server)
    context = new_context(browser, app_server, role=None)
    page = context.new_page()
    try:
        page.goto("/signin")
        page.get_by_role("button", name="Try the demo as Agent").click()
        wait_until_connected(page)
        page.get_by_role("switch", name="Live", exact=True).click()
        expect(page.get_by_role("switch", name="Live", exact=True)).to_be_checked()
        before = _newest_contact_id(app_server, workspace_id)

        name = _next_new_contact(app_server, workspace_id, before)
        expect(page.get_by_role("link", name=f"Open {name}").first).to_be_visible(timeout=15000)
        page.screenshot(path=str(ARTIFACTS / "demo-traffic-live.png"), full_page=True)
    finally:
        context.close()

    with app_server.session() as session:
        demo_messages = session.execute(
            sa.select(sa.func.count())
            .select_from(Message)
            .where(Message.workspace_id == workspace_id, Message.external_id.like("demo-%"))
        ).scalar_one()
        world_messages = session.execute(
            sa.select(sa.func.count())
            .select_from(Message)
            .where(
                Message.workspace_id == app_server.workspace_id,
                Message.external_id.like("demo-%"),
            )
        ).scalar_one()
    assert demo_messages >= 2
    assert world_messages == 0, "the demo traffic stays out of the tests' workspace"
