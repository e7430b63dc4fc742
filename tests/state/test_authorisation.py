"""Every event handler of every state declares who may call it, and is refused to everyone
else: a tab with no session, a member of another workspace, and each lesser role. Nothing
changes when it is refused (issue 9).

The handlers are found by walking the app's state tree, so a new handler without a rule,
or one that forgets to check it, fails here without anyone listing it.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

import cloodot_app.cloodot_app  # noqa: F401  (registers every state of the app)
from cloodot_app.access import ROLE_CAPABILITIES, Capability, Role
from cloodot_app.db import session_scope
from cloodot_app.models import (
    ChannelConnection,
    Contact,
    CustomFieldDefinition,
    Label,
    Segment,
)
from cloodot_app.services.contact_deletes import Selection
from cloodot_app.services.contacts import ContactQuery
from cloodot_app.services.workspaces import ensure_workspace
from cloodot_app.state.access import PUBLIC, RULE_ATTRIBUTE
from tests.state.conftest import Tab

# Reflex's own handlers: setvar only calls a state's declared `set_<var>` handler (guarded
# like any other); the internal states hydrate the page and sync client storage.
FRAMEWORK_HANDLERS = {"setvar"}


def _app_states() -> Iterator[type]:
    from reflex.state import State

    stack = list(State.get_substates())
    while stack:
        cls = stack.pop()
        stack.extend(cls.get_substates())
        if cls.__module__.startswith("cloodot_app."):
            yield cls


@dataclass(frozen=True)
class Handler:
    state: type
    name: str
    fn: Any

    @property
    def rule(self) -> Capability | str | None:
        return getattr(self.fn, RULE_ATTRIBUTE, None)

    def __str__(self) -> str:
        return f"{self.state.__name__}.{self.name}"


def app_handlers() -> list[Handler]:
    handlers, seen = [], set()
    for state in _app_states():
        for name, handler in state.event_handlers.items():
            if name in FRAMEWORK_HANDLERS or (state, name) in seen:
                continue
            seen.add((state, name))
            handlers.append(Handler(state, name, handler.fn))
    return sorted(handlers, key=str)


HANDLERS = app_handlers()


def test_every_handler_declares_who_may_call_it():
    undeclared = [str(h) for h in HANDLERS if h.rule is None]
    assert undeclared == [], (
        f"handlers without a rule (use @requires / @public_event): {undeclared}"
    )
    assert len(HANDLERS) > 100


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    workspace: int
    other: int
    ids: dict[str, int]


@pytest.fixture
def world(workspace_on_both) -> World:
    """The test workspace (23 contacts) with a label, a field and a segment; and another
    workspace whose admin will try every handler on the first one's ids (on SQLite and
    PostgreSQL)."""
    workspace = workspace_on_both
    with session_scope() as session:
        label = Label(workspace_id=workspace, name="VIP", color="amber")
        field = CustomFieldDefinition(
            workspace_id=workspace, entity="contact", key="plan", label="Plan", type="text"
        )
        segment = Segment(
            workspace_id=workspace,
            name="Everyone named Person",
            filter_spec={
                "match": "all",
                "conditions": [{"field": "name", "operator": "contains", "value": "Person"}],
            },
        )
        session.add_all([label, field, segment])
        session.flush()
        contact = session.execute(
            sa.select(Contact.id).where(Contact.workspace_id == workspace).limit(1)
        ).scalar_one()
        other = ensure_workspace(session, "globex").id
        connection = ChannelConnection(
            workspace_id=workspace,
            kind="whatsapp",
            name="Support line",
            key="authorisation-test-key",
            verify_token="verify-token",
            app_secret="5f3c2a9e8b7d6c1f0e4a3b2c1d0e9f8a",
        )
        session.add(connection)
        session.flush()
        ids = {
            "contact": contact,
            "label": label.id,
            "field": field.id,
            "segment": segment.id,
            "connection": connection.id,
        }
    return World(workspace, other, ids)


def snapshot(workspace_id: int) -> dict[str, Any]:
    """Every row of every table that belongs to the workspace (directly or through a
    contact or conversation), as plain values."""
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    contact_ids = sa.select(tables["contact"].c.id).where(
        tables["contact"].c.workspace_id == workspace_id
    )
    conversation_ids = sa.select(tables["conversation"].c.id).where(
        tables["conversation"].c.workspace_id == workspace_id
    )
    result = {}
    with session_scope() as session:
        for name, table in tables.items():
            columns = table.c
            if "workspace_id" in columns:
                where = columns.workspace_id == workspace_id
            elif "contact_id" in columns:
                where = columns.contact_id.in_(contact_ids)
            elif "conversation_id" in columns:
                where = columns.conversation_id.in_(conversation_ids)
            else:
                continue
            if name in ("workspace", "auth_session"):
                continue  # sessions are touched by every sign-in; workspace has no data
            rows = session.execute(sa.select(table).where(where)).all()
            result[name] = sorted(repr(tuple(row)) for row in rows)
    return result


# --------------------------------------------------------------------------- arguments

SPEC = {"match": "all", "conditions": [{"field": "name", "operator": "contains", "value": "x"}]}


def _argument(name: str, annotation: Any, ids: dict[str, int]) -> Any:
    for key in ("contact", "label", "segment", "field", "connection"):
        if name.startswith(key) and name.endswith("_id"):
            return ids[key]
    if name in ("index",):
        return 0
    if name == "spec":
        return SPEC
    if name in ("form",):
        return {"email": "admin@example.com", "password": "wrong", "name": "X"}
    text = str(annotation)
    if "bool" in text:
        return True
    if "int" in text:
        return ids["contact"]
    if "dict" in text:
        return SPEC
    if "list" in text:
        return [ids["label"]]
    return "x"


def arguments(handler: Handler, ids: dict[str, int]) -> list[Any]:
    hints = typing.get_type_hints(inspect.unwrap(handler.fn))
    parameters = list(inspect.signature(inspect.unwrap(handler.fn)).parameters.values())[1:]
    return [
        _argument(p.name, hints.get(p.name, Any), ids)
        for p in parameters
        if p.default is inspect.Parameter.empty
    ]


def _aim_at(state, world: World) -> None:
    """Point what the handlers act on at the first workspace's rows (as a crafted event
    from another workspace's member would)."""
    ids = world.ids
    values = {
        "contact_id": ids["contact"],
        "delete_id": ids["label"],
        "rotate_id": ids["connection"],
        "secret_id": ids["connection"],
        "new_secret": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "edit_id": ids["label"],
        "segment_id": ids["segment"],
        "editing_cell": f"{ids['contact']}:name",
        "edit_value": "Changed by a stranger",
        "delete_open": True,
        "is_open": True,
    }
    for name, value in values.items():
        if name in type(state).__fields__:
            setattr(state, name, value)
    if "_delete_selection" in type(state).__fields__:
        state._delete_selection = Selection(query=ContactQuery())


def call(handler: Handler, tab: Tab, world: World) -> list[Any]:
    """Run the handler to its end; what it returned or yielded."""
    import asyncio

    state = tab.of(handler.state)
    _aim_at(state, world)
    result = handler.fn(state, *arguments(handler, world.ids))

    async def finish():
        if inspect.isasyncgen(result):
            return [item async for item in result]
        if inspect.isawaitable(result):
            return [await result]
        return [result]

    return asyncio.run(finish())


# --------------------------------------------------------------------------- the refusals


def _lesser_roles(rule) -> list[Role]:
    if rule == PUBLIC:
        return []
    return [role for role in Role if Capability(rule) not in ROLE_CAPABILITIES[role]]


def _refusal(returned: list[Any]) -> str:
    return " ".join(str(item) for item in returned)


GUARDED = [h for h in HANDLERS if h.rule not in (None, PUBLIC)]


def test_refusals(world, capsys):
    """Each guarded handler × (no session, each role that lacks its capability): refused
    with a redirect to sign in or a message naming the role, and nothing changed."""
    for role in Role:  # the members exist before the snapshot
        Tab().sign_in(world.workspace, role.value)
    before = snapshot(world.workspace)
    tried = 0
    for handler in GUARDED:
        for role in [None, *_lesser_roles(handler.rule)]:
            tab = Tab()
            if role is not None:
                tab.sign_in(world.workspace, role.value)
            returned = _refusal(call(handler, tab, world))
            if role is None:
                assert "/signin?next=" in returned, f"{handler} admitted a tab with no session"
            else:
                assert f"Your role ({role.label}) cannot" in returned, (
                    f"{handler} admitted a {role.value}"
                )
            tried += 1
    assert snapshot(world.workspace) == before
    with capsys.disabled():
        print(f"\nauthorisation: {tried} refusals checked over {len(GUARDED)} handlers")


def test_another_workspaces_admin_changes_nothing_here(world, capsys):
    """An admin of another workspace may call every handler (they are a member of
    *a* workspace), aimed at this workspace's ids: nothing here changes."""
    Tab().sign_in(world.other, "admin", email="intruder@example.com")
    before = snapshot(world.workspace)
    crashed = []
    for handler in GUARDED:
        if getattr(handler.fn, "_reflex_background_task", False):
            continue  # runs only under Reflex's event loop (`async with self`)
        tab = Tab()
        tab.sign_in(world.other, "admin", email="intruder@example.com")
        try:
            call(handler, tab, world)
        except Exception as error:
            crashed.append(f"{handler}: {type(error).__name__}: {error}")
    assert snapshot(world.workspace) == before
    assert crashed == []
    with capsys.disabled():
        print(f"\nauthorisation: {len(GUARDED)} handlers called by another workspace's admin")
