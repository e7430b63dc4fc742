"""State tests: event handlers called directly against a fresh SQLite workspace (and,
for the tests that ask for `workspace_on_both`, on PostgreSQL too)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

import cloodot_app.db as db
from cloodot_app.services.ingestion import IncomingMessage, ingest_message
from cloodot_app.services.workspaces import ensure_workspace
from cloodot_app.settings import settings

CHANNELS = ("whatsapp", "instagram", "facebook", "webchat")


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A workspace with 23 contacts named "Person 0 Smith" … "Person 22 Smith"."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    db.migrate(url)
    yield from _workspace_with_contacts(url, monkeypatch)


@pytest.fixture
def workspace_on_both(database_url, monkeypatch):
    """The same workspace, on SQLite and on PostgreSQL (tests/conftest.py's database_url,
    already migrated)."""
    yield from _workspace_with_contacts(database_url, monkeypatch)


def _workspace_with_contacts(url: str, monkeypatch):
    monkeypatch.setattr(db, "settings", replace(settings, database_url=url))
    db.get_engine.cache_clear()
    with db.session_scope() as session:
        ws = ensure_workspace(session, settings.workspace_slug)
        for number in range(23):
            ingest_message(
                session,
                ws.id,
                CHANNELS[number % 4],
                IncomingMessage(
                    external_id=f"sender-{number}",
                    name=f"Person {number} Smith",
                    email=f"person{number}@example.com",
                    phone=f"+4420794600{number:02d}",
                    text=f"Message number {number}",
                ),
            )
        workspace_id = ws.id
    yield workspace_id
    db.get_engine.cache_clear()


def run(handler, state, *args):
    """Run an event handler's function (sync or async) on a state instance."""
    result = handler.fn(state, *args)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result


def drain(generator) -> list:
    """Run an async-generator event handler (one that yields) to the end."""

    async def collect():
        return [item async for item in generator]

    return asyncio.run(collect())


class Tab:
    """One browser tab's whole state tree, as Reflex builds it (so `get_state` between
    states works as in the app, without a state manager), signed in as `sign_in` says:
    its connection carries the session cookie, as a browser's would."""

    def __init__(self):
        from reflex.state import State

        import cloodot_app.cloodot_app  # noqa: F401  (registers every state of the app)

        self.root = State(_reflex_internal_init=True)
        self.connect(cookie="")

    def of(self, state_cls):
        return self.root.get_substate(state_cls.get_full_name().split("."))

    def connect(self, cookie: str, path: str = "/contacts") -> None:
        from reflex.istate.data import RouterData

        self.root.router = RouterData.from_router_data(
            {"headers": {"cookie": cookie}, "pathname": path, "asPath": path, "query": {}}
        )

    def sign_in(self, workspace_id: int, role: str = "admin", email: str | None = None) -> int:
        """A member of `workspace_id` with `role`, signed in on this tab; their user id."""
        from cloodot_app.services import accounts
        from cloodot_app.state.access import SESSION_COOKIE

        email = email or f"{role}-{workspace_id}@example.com"
        with db.session_scope() as session:
            user = accounts.user_by_email(session, email) or accounts.create_user(
                session, email, role.title(), "correct horse battery"
            )
            accounts.add_member(session, workspace_id, user.id, role)
            token = accounts.start_session(session, user.id, workspace_id)
            user_id = user.id
        self.connect(f"{SESSION_COOKIE}={token}")
        return user_id


@pytest.fixture
def tab(workspace) -> Tab:
    """A tab signed in as an admin of the workspace."""
    tab = Tab()
    tab.sign_in(workspace)
    return tab
