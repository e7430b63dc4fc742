"""The one way a state calls a service: in a worker thread, in one transaction, in the
tab's workspace.

No other module under state/ opens a database session. Keeping every call on this path is
what lets one place decide, for every call, which workspace it runs in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import cache
from typing import Concatenate, ParamSpec, TypeVar

from sqlmodel import Session

from cloodot_app.db import session_scope
from cloodot_app.services.workspaces import ensure_workspace
from cloodot_app.settings import settings

P = ParamSpec("P")
R = TypeVar("R")


@cache
def current_workspace_id() -> int:
    with session_scope() as session:
        return ensure_workspace(session, settings.workspace_slug).id


async def in_workspace(
    service: Callable[Concatenate[Session, int, P], R], *args: P.args, **kwargs: P.kwargs
) -> R:
    """Run `service(session, workspace_id, *args, **kwargs)` in a worker thread, in one
    transaction (committed when it returns, rolled back when it raises).

    A thread, because a query on the event loop would stall every tab on this worker.
    """
    workspace_id = current_workspace_id()

    def call() -> R:
        with session_scope() as session:
            return service(session, workspace_id, *args, **kwargs)

    return await asyncio.to_thread(call)
