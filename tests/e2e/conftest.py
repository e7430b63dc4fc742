"""Browser tests: ONE production app server for the whole session, driven by Chromium.

The server runs `reflex run --env prod` on its own port against its own SQLite file, so
a developer's `make run` (port 3000, data/) is never touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    def __init__(self, url: str, database_url: str, token: str, workspace_id: int):
        self.url = url
        self.database_url = database_url
        self.token = token
        self.workspace_id = workspace_id

    @contextmanager
    def session(self):
        """A session on the app's database. A block that wrote bumps the workspace's data
        version, as every service write does: the app's count cache is keyed on it, so rows
        a test adds behind the app's back would otherwise leave old totals on screen."""
        from sqlalchemy import event

        from cloodot_app.db import make_engine, session_scope
        from cloodot_app.services.workspaces import bump_data_version

        flushes: list[bool] = []
        with session_scope(make_engine(self.database_url)) as session:
            event.listen(session, "after_flush", lambda *_: flushes.append(True))
            yield session
            if flushes:
                bump_data_version(session, self.workspace_id)

    def session_token(self, role: str = "admin") -> str:
        """A new session of the world's member of `role` (what signing in gives)."""
        from cloodot_app.services import accounts
        from tests.e2e.world import MEMBERS

        with self.session() as session:
            user = accounts.user_by_email(session, MEMBERS[role][0])
            return accounts.start_session(session, user.id, self.workspace_id)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory) -> AppServer:
    from tests.e2e.world import build_world

    workdir = tmp_path_factory.mktemp("e2e")
    database_url = f"sqlite:///{workdir / 'e2e.db'}"
    token, workspace_id = build_world(database_url)

    port = int(os.environ.get("E2E_PORT") or _free_port())
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CLOODOT_DEMO_CONTACTS": "0",
        "CLOODOT_LIVE_INTERVAL": "1",
        "FRONTEND_PORT": str(port),
        "CLOODOT_APP_URL": f"http://127.0.0.1:{port}",
        "CLOODOT_DEMO_MODE": "1",
        # No demo traffic here: its contacts would change what the tests count (the demo
        # workspace is the world). test_demo_traffic.py starts a server of its own.
        "CLOODOT_DEMO_TRAFFIC_SECONDS": "0",
        "REFLEX_PERF_MODE": "raise",
    }
    env.pop("REDIS_URL", None)
    ARTIFACTS.mkdir(exist_ok=True)
    # Open for the whole session (the server writes to it until teardown).
    log = open(ARTIFACTS / "e2e-server.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        ["reflex", "run", "--env", "prod", "--loglevel", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"app server exited; see {ARTIFACTS / 'e2e-server.log'}")
            try:
                if httpx.get(f"{url}/ping", timeout=2).status_code == 200 and (
                    httpx.get(f"{url}/contacts", timeout=5, follow_redirects=True).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("app server did not start within 5 minutes")
            time.sleep(1)
        yield AppServer(url, database_url, token, workspace_id)
    finally:
        _stop(process)
        log.close()


def _stop(process: subprocess.Popen) -> None:
    """End the server and everything it started (it runs in its own process group)."""
    try:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)


@pytest.fixture(scope="session")
def browser() -> Browser:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_context(browser: Browser, app_server: AppServer, role: str | None = "admin"):
    """A browser context (its own cookies), signed in as the world's member of `role`
    (None: signed out) the way the sign-in page leaves a browser: an HttpOnly cookie."""
    from cloodot_app.state.access import SESSION_COOKIE

    context = browser.new_context(
        viewport={"width": 1440, "height": 900},
        timezone_id="Europe/Madrid",
        accept_downloads=True,
        base_url=app_server.url,
    )
    context.set_default_timeout(15000)
    if role is not None:
        context.add_cookies(
            [
                {
                    "name": SESSION_COOKIE,
                    "value": app_server.session_token(role),
                    "url": app_server.url,
                    "httpOnly": True,
                    "sameSite": "Strict",
                }
            ]
        )
    return context


@pytest.fixture
def page(browser: Browser, app_server: AppServer, request) -> Page:
    """A page of a browser signed in as the world's admin."""
    context = new_context(browser, app_server)
    page = context.new_page()
    yield page
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        page.screenshot(path=str(ARTIFACTS / f"failed-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def wait_until_connected(page: Page) -> None:
    """Wait for Reflex's websocket and the first page of rows (or the empty state)."""
    page.wait_for_function("() => document.querySelector('[data-rows-state=\"ready\"]') !== null")
