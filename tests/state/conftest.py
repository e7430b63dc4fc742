"""State tests: event handlers called directly against a fresh SQLite workspace."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

import cloodot_app.db as db
import cloodot_app.state.workspace as workspace_state
from cloodot_app.services.ingestion import IncomingMessage, ingest_message
from cloodot_app.services.workspaces import ensure_workspace
from cloodot_app.settings import settings

CHANNELS = ("whatsapp", "instagram", "facebook", "webchat")


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A workspace with 23 contacts named "Person 0 Smith" … "Person 22 Smith"."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    db.migrate(url)
    monkeypatch.setattr(db, "settings", replace(settings, database_url=url))
    db.get_engine.cache_clear()
    workspace_state.current_workspace_id.cache_clear()
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
    workspace_state.current_workspace_id.cache_clear()


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
    states works as in the app, without a state manager)."""

    def __init__(self):
        from reflex.state import State

        import cloodot_app.cloodot_app  # noqa: F401  (registers every state of the app)

        self.root = State(_reflex_internal_init=True)

    def of(self, state_cls):
        return self.root.get_substate(state_cls.get_full_name().split("."))


@pytest.fixture
def tab(workspace) -> Tab:
    return Tab()
