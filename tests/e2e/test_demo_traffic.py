"""Demo mode as a hosted demo runs it: a visitor clicks "Try the demo as Agent", turns
Live on, and sees the demo traffic's messages arrive without reloading.

The shared app server runs without demo traffic (its demo workspace is the world the other
tests count), so this module starts a server of its own, from a copy of the project (its
own .web), set up as a hosted demo is: Redis, two Granian workers, demo mode with a demo
message every 2 s and 20 seeded demo contacts.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from cloodot_app.db import make_engine, session_scope
from cloodot_app.models import Contact, Conversation, Message
from cloodot_app.services.workspaces import workspace_by_slug
from tests.e2e.conftest import ARTIFACTS, _free_port, _stop, new_context, wait_until_connected
from tests.e2e.project_copy import project_copy

SEEDED = 20
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _redis_or_skip() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        message = f"Redis not reachable at {REDIS_URL}: {error}"
        if os.environ.get("CI"):
            pytest.fail(message + " (required under CI)")
        pytest.skip(message)
    return REDIS_URL


@dataclass
class DemoServer:
    url: str
    database_url: str

    def session(self):
        return session_scope(make_engine(self.database_url))


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory) -> DemoServer:
    redis_url = _redis_or_skip()
    workdir = tmp_path_factory.mktemp("demo-server")
    project = project_copy(workdir / "project")
    database_url = f"sqlite:///{workdir / 'demo.db'}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "FRONTEND_PORT": str(port),
        "CLOODOT_APP_URL": url,
        "CLOODOT_DEMO_MODE": "1",
        "CLOODOT_DEMO_TRAFFIC_SECONDS": "2",
        "CLOODOT_DEMO_CONTACTS": str(SEEDED),
        "CLOODOT_LIVE_INTERVAL": "1",
        # Several workers, as with Redis in production: still one demo message per turn.
        "REDIS_URL": redis_url,
        "GRANIAN_WORKERS": "2",
        "CLOODOT_SECRET_KEY": "demo-server-test-key-shared-by-both-workers",
    }
    for name in ("CLOODOT_WORKSPACE",):
        env.pop(name, None)
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "e2e-demo-server.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        ["reflex", "run", "--env", "prod", "--loglevel", "info"],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"demo server exited; see {ARTIFACTS / 'e2e-demo-server.log'}")
            try:
                if httpx.get(f"{url}/ping", timeout=2).status_code == 200 and (
                    httpx.get(f"{url}/contacts", timeout=5, follow_redirects=True).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("demo server did not start within 5 minutes")
            time.sleep(1)
        yield DemoServer(url, database_url)
    finally:
        _stop(process)
        log.close()


def _demo_workspace_id(server: DemoServer) -> int:
    with server.session() as session:
        workspace = workspace_by_slug(session, "demo")
        assert workspace is not None, "start-up seeds the demo workspace"
        return workspace.id


def _newest_contact_id(server: DemoServer, workspace_id: int) -> int:
    with server.session() as session:
        return (
            session.execute(
                sa.select(sa.func.max(Contact.id)).where(Contact.workspace_id == workspace_id)
            ).scalar()
            or 0
        )


def _next_new_contact(server: DemoServer, workspace_id: int, after_id: int) -> str:
    """The name of the first contact the demo traffic creates after `after_id`."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with server.session() as session:
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


def test_a_demo_visitor_with_live_on_sees_demo_messages_arrive(
    browser: Browser, demo_server: DemoServer
):
    workspace_id = _demo_workspace_id(demo_server)
    context = new_context(browser, demo_server, role=None)
    page = context.new_page()
    try:
        page.goto("/signin")
        page.get_by_role("button", name="Try the demo as Agent").click()
        wait_until_connected(page)
        page.get_by_role("switch", name="Live", exact=True).click()
        expect(page.get_by_role("switch", name="Live", exact=True)).to_be_checked()
        before = _newest_contact_id(demo_server, workspace_id)

        name = _next_new_contact(demo_server, workspace_id, before)
        expect(page.get_by_role("link", name=f"Open {name}").first).to_be_visible(timeout=15000)
        page.screenshot(path=str(ARTIFACTS / "demo-traffic-live.png"), full_page=True)
    finally:
        context.close()


def test_the_demo_traffic_writes_to_old_and_new_contacts_from_one_process(
    demo_server: DemoServer,
):
    workspace_id = _demo_workspace_id(demo_server)
    deadline = time.monotonic() + 90
    while True:
        with demo_server.session() as session:
            demo = Message.external_id.like("demo-%")
            messages = session.execute(
                sa.select(sa.func.count()).select_from(Message).where(demo)
            ).scalar_one()
            senders = session.execute(
                sa.select(Contact.id, Contact.channel)
                .join(Conversation, Conversation.contact_id == Contact.id)
                .join(Message, Message.conversation_id == Conversation.id)
                .where(demo, Contact.workspace_id == workspace_id)
                .distinct()
            ).all()
        seeded_senders = [c for c, _ in senders if c <= SEEDED]
        if (messages >= 6 and seeded_senders) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert messages >= 6
    assert len({channel for _, channel in senders}) >= 2, "several channels"
    assert seeded_senders, "people from the seeded demo data write again"
    log = Path(ARTIFACTS / "e2e-demo-server.log").read_text()
    assert log.count("demo traffic: this process posts") == 1, "one poster, not one per worker"
    assert "this one stands by" in log, "the other worker runs the task too, and waits"
