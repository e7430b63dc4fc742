"""Demo users, one per role, that no password opens: in demo mode "Try the demo as …"
signs in as one of them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from cloodot_app.access import Role
from cloodot_app.errors import AccessDenied
from cloodot_app.models import User
from cloodot_app.services.accounts.credentials import unusable_password_hash
from cloodot_app.services.accounts.sessions import start_session
from cloodot_app.services.accounts.users import (
    DEMO_DOMAIN,
    DEMO_USERS,
    add_member,
    parse_role,
    user_by_email,
)
from cloodot_app.settings import settings

__all__ = ["DEMO_DOMAIN", "DEMO_USERS", "ensure_demo_users", "start_demo_session"]


def ensure_demo_users(session: Session, workspace_id: int) -> dict[Role, User]:
    """The three demo users (one per role) as members of `workspace_id`. No password opens
    them: only `start_demo_session` (demo mode) signs them in."""
    users: dict[Role, User] = {}
    for role, (email, name) in DEMO_USERS.items():
        user = user_by_email(session, email)
        if user is None:
            user = User(email=email, name=name, password_hash=unusable_password_hash())
            session.add(user)
            session.flush()
        add_member(session, workspace_id, user.id, role)
        users[role] = user
    return users


def start_demo_session(
    session: Session,
    workspace_id: int,
    role: Role | str,
    user_agent: str = "",
    ip: str = "",
    *,
    now: datetime | None = None,
) -> str:
    """Sign in as the demo user of `role` ("Try the demo as …"); refused unless demo mode
    is on (CLOODOT_DEMO_MODE=1)."""
    if not settings.demo_mode:
        raise AccessDenied("The demo sign-in is turned off on this server.")
    user = ensure_demo_users(session, workspace_id)[parse_role(role)]
    return start_session(session, user.id, workspace_id, user_agent, ip, now=now)
