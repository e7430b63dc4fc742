"""Which workspace a browser session works in (sign-in is outside this module)."""

from __future__ import annotations

from functools import cache

from cloodot_app.db import session_scope
from cloodot_app.services.workspaces import ensure_workspace
from cloodot_app.settings import settings


@cache
def current_workspace_id() -> int:
    with session_scope() as session:
        return ensure_workspace(session, settings.workspace_slug).id
