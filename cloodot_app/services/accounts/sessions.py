"""Sessions: starting one, resolving its token to an `Identity` on every event, ending one
or all of a user's, and moving one to another workspace of the same user."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.access import Capability, Identity, Role, require
from cloodot_app.errors import AccessDenied
from cloodot_app.models import AuthSession, Membership, User, Workspace, utcnow
from cloodot_app.services.accounts.tokens import new_token, token_hash
from cloodot_app.services.accounts.users import DEMO_EMAILS, membership_of
from cloodot_app.settings import settings

# resolve_session writes last_seen_at at most this often (it runs on every event).
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)


def _idle_limit() -> timedelta:
    return timedelta(hours=settings.session_idle_hours)


def start_session(
    session: Session,
    user_id: int,
    workspace_id: int,
    user_agent: str = "",
    ip: str = "",
    *,
    now: datetime | None = None,
) -> str:
    """A new session of `user_id` in `workspace_id` (a member of it): its raw token, for
    the browser; the database keeps only the token's hash."""
    if membership_of(session, workspace_id, user_id) is None:
        raise AccessDenied("You are not a member of this workspace.")
    now = now or utcnow()
    token, hashed = new_token()
    session.add(
        AuthSession(
            token_hash=hashed,
            user_id=user_id,
            workspace_id=workspace_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(days=settings.session_max_days),
            user_agent=user_agent[:300],
            ip=ip[:64],
        )
    )
    session.flush()
    return token


def resolve_session(
    session: Session, token: str | None, *, now: datetime | None = None
) -> Identity | None:
    """Who holds `token`, in which workspace and role; None when the token is unknown,
    revoked, idle or past its absolute expiry, the user is disabled, or their membership
    in the session's workspace is gone. Call it on every event: the role is read fresh."""
    if not token:
        return None
    row = session.execute(
        sa.select(AuthSession, User, Membership.role, Workspace.name)
        .join(User, User.id == AuthSession.user_id)
        .join(
            Membership,
            sa.and_(
                Membership.user_id == AuthSession.user_id,
                Membership.workspace_id == AuthSession.workspace_id,
            ),
        )
        .join(Workspace, Workspace.id == AuthSession.workspace_id)
        .where(AuthSession.token_hash == token_hash(token))
    ).first()
    if row is None:
        return None
    auth, user, role, workspace_name = row
    now = now or utcnow()
    if (
        auth.revoked_at is not None
        or now >= auth.expires_at
        or now - auth.last_seen_at >= _idle_limit()
        or user.disabled_at is not None
    ):
        return None
    if now - auth.last_seen_at >= SESSION_TOUCH_INTERVAL:
        session.execute(
            sa.update(AuthSession).where(AuthSession.id == auth.id).values(last_seen_at=now)
        )
    return Identity(
        user_id=user.id,
        email=user.email,
        name=user.name,
        workspace_id=auth.workspace_id,
        workspace_name=workspace_name,
        role=Role(role),
        session_id=auth.id,
        demo=user.email in DEMO_EMAILS,
    )


def authorize(
    session: Session,
    token: str | None,
    capability: Capability,
    *,
    now: datetime | None = None,
) -> Identity:
    """`resolve_session` then `access.require`: the one call a state guard or an HTTP
    route makes before it touches a service (AccessDenied when it may not)."""
    return require(resolve_session(session, token, now=now), capability)


def revoke_sessions(session: Session, *conditions: sa.ColumnElement[bool], now: datetime) -> int:
    """End every open session that meets `conditions`; how many there were."""
    result = session.execute(
        sa.update(AuthSession)
        .where(AuthSession.revoked_at.is_(None), *conditions)
        .values(revoked_at=now)
    )
    return result.rowcount or 0


def end_session(session: Session, token: str, *, now: datetime | None = None) -> bool:
    """Sign out this one session. False when it was unknown or already ended."""
    if not token:
        return False
    this_one = AuthSession.token_hash == token_hash(token)
    return revoke_sessions(session, this_one, now=now or utcnow()) > 0


def end_all_sessions(session: Session, user_id: int, *, now: datetime | None = None) -> int:
    """Sign `user_id` out everywhere; how many sessions were open."""
    return revoke_sessions(session, AuthSession.user_id == user_id, now=now or utcnow())


def switch_workspace(
    session: Session, token: str, workspace_id: int, *, now: datetime | None = None
) -> Identity:
    """Move this session to another workspace of the same user (only one they belong to)."""
    identity = resolve_session(session, token, now=now)
    if identity is None:
        raise AccessDenied("Sign in to continue.")
    if membership_of(session, workspace_id, identity.user_id) is None:
        raise AccessDenied("You are not a member of that workspace.")
    session.execute(
        sa.update(AuthSession)
        .where(AuthSession.id == identity.session_id)
        .values(workspace_id=workspace_id)
    )
    switched = resolve_session(session, token, now=now)
    assert switched is not None
    return switched
