"""The one place below the UI where every call from a browser is authorised.

- `requires(capability)` replaces `@rx.event` on every event handler: it declares who may
  call the handler and checks it before the handler runs, against the member the tab's
  server-side session belongs to (resolved again on every event, so a removed member or a
  revoked session is refused on their next click). `public_event` marks the few handlers
  anyone may call (the sign-in pages).
- `in_workspace(service, *args)` is the only way a state reaches a service: it runs it in
  a worker thread, in one transaction, in the workspace of the member the handler was
  admitted for. There is no other source of a workspace id: not the browser, not the URL,
  not the environment.

A handler without a declared rule is a test failure (tests/state/test_authorisation.py).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Callable
from contextvars import ContextVar
from http.cookies import CookieError, SimpleCookie
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import quote

import reflex as rx
from sqlmodel import Session

from cloodot_app import routes
from cloodot_app.access import Capability, Identity, refusal
from cloodot_app.db import session_scope
from cloodot_app.errors import AccessDenied, UserError
from cloodot_app.services import accounts

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

SESSION_COOKIE = "cloodot_session"
# The rule of a handler anyone may call, signed in or not.
PUBLIC = "public"
# Where a handler's declared rule is kept (read by the authorisation test).
RULE_ATTRIBUTE = "__cloodot_rule__"

# The member the running handler was admitted for (set by the guard, read by in_workspace).
_identity: ContextVar[Identity | None] = ContextVar("cloodot_identity", default=None)


def session_token(cookie_header: str) -> str:
    """The session token from a Cookie header ("" when there is none)."""
    cookies = SimpleCookie()
    try:
        cookies.load(cookie_header or "")
    except CookieError:
        return ""
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel else ""


async def resolve_identity(state: rx.State) -> Identity | None:
    """Who this tab belongs to now, from the session cookie its connection carried (the
    cookie is HttpOnly: page scripts never see it, only the server does)."""
    token = session_token(state.router.headers.cookie)
    if not token:
        return None

    def resolve() -> Identity | None:
        with session_scope() as session:
            return accounts.resolve_session(session, token)

    return await asyncio.to_thread(resolve)


def current_identity() -> Identity:
    """The member the running handler was admitted for."""
    identity = _identity.get()
    if identity is None:
        raise AccessDenied("Sign in to continue.")
    return identity


async def in_workspace(
    service: Callable[Concatenate[Session, int, P], R], *args: P.args, **kwargs: P.kwargs
) -> R:
    """Run `service(session, workspace_id, *args, **kwargs)` in a worker thread, in one
    transaction (committed when it returns, rolled back when it raises), in the workspace
    of the member the running handler was admitted for.

    A thread, because a query on the event loop would stall every tab on this worker.
    """
    workspace_id = current_identity().workspace_id

    def call() -> R:
        with session_scope() as session:
            return service(session, workspace_id, *args, **kwargs)

    return await asyncio.to_thread(call)


async def in_workspace_transactions(
    service: Callable[Concatenate[Callable[[], Any], int, P], R],
    *args: P.args,
    **kwargs: P.kwargs,
) -> R:
    """Like in_workspace, for a service that commits in several transactions of its own
    (an import, chunk by chunk): it gets a session factory instead of a session."""
    workspace_id = current_identity().workspace_id
    return await asyncio.to_thread(service, session_scope, workspace_id, *args, **kwargs)


async def in_transaction(
    fn: Callable[Concatenate[Session, P], R], *args: P.args, **kwargs: P.kwargs
) -> R:
    """Run `fn(session, *args, **kwargs)` in a worker thread and one transaction, in no
    workspace: for what belongs to a person rather than a workspace (their sign-in, their
    sessions, the workspaces they belong to). Workspace data goes through in_workspace."""

    def call() -> R:
        with session_scope() as session:
            return fn(session, *args, **kwargs)

    return await asyncio.to_thread(call)


def sign_in_redirect(state: rx.State):
    """Send the tab to the sign-in page, coming back here afterwards."""
    here = state.router.url.path or routes.CONTACTS
    query = state.router.url.query or ""
    back = here + (f"?{query}" if query else "")
    return rx.redirect(f"{routes.SIGN_IN}?next={quote(back, safe='')}")


async def _admit(state: rx.State, rule: Capability | str) -> tuple[Identity | None, Any]:
    """(identity, refusal): the refusal is the event to answer with instead of running."""
    identity = await resolve_identity(state)
    if rule == PUBLIC:
        return identity, None
    if identity is None:
        return None, sign_in_redirect(state)
    if not identity.can(Capability(rule)):
        logger.info("refused %s to user %s (%s)", rule, identity.user_id, identity.role)
        return identity, rx.toast.error(refusal(identity.role, Capability(rule)))
    return identity, None


async def still_admitted(state: rx.State, capability: Capability) -> bool:
    """For a long-running handler (Live mode's loop): is its member still signed in, in
    this workspace, with `capability`? The answer also becomes the identity its next
    service calls run as."""
    identity = await resolve_identity(state)
    admitted = identity if identity is not None and identity.can(capability) else None
    _identity.set(admitted)
    return admitted is not None


def _guarded(rule: Capability | str, fn: Callable) -> Callable:
    """`fn` behind the check of `rule`, of the same kind (coroutine or async generator)."""
    if inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        async def generator_handler(self, *args, **kwargs):
            identity, refused = await _admit(self, rule)
            if refused is not None:
                yield refused
                return
            admitted = _identity.set(identity)
            try:
                if inspect.isasyncgenfunction(fn):
                    async for item in fn(self, *args, **kwargs):
                        yield item
                else:
                    for item in fn(self, *args, **kwargs):
                        yield item
            except UserError as error:
                yield rx.toast.error(str(error))
            finally:
                _identity.reset(admitted)

        handler = generator_handler
    else:

        @functools.wraps(fn)
        async def call_handler(self, *args, **kwargs):
            identity, refused = await _admit(self, rule)
            if refused is not None:
                return refused
            admitted = _identity.set(identity)
            try:
                result = fn(self, *args, **kwargs)
                return await result if inspect.isawaitable(result) else result
            except UserError as error:
                # What the user can fix (a deleted row, a refused value) is said, not raised:
                # one place for every handler that does not answer it itself.
                return rx.toast.error(str(error))
            finally:
                _identity.reset(admitted)

        handler = call_handler
    setattr(handler, RULE_ATTRIBUTE, rule)
    return handler


def requires(capability: Capability, **event_options):
    """`@rx.event` for a handler that needs `capability` (see access.ROLE_CAPABILITIES)."""

    def decorate(fn):
        return rx.event(_guarded(capability, fn), **event_options)

    return decorate


def public_event(fn=None, **event_options):
    """`@rx.event` for a handler anyone may call, signed in or not (the sign-in pages).
    It still knows the member when there is one (current_identity())."""

    def decorate(fn):
        return rx.event(_guarded(PUBLIC, fn), **event_options)

    return decorate(fn) if fn is not None else decorate
