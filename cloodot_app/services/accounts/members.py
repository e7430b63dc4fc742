"""A workspace's members: listing them, changing a role and removing one, always leaving the
workspace at least one admin. The actor is checked here too, behind the state's guard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.access import Identity, Role, require_admin_of
from cloodot_app.errors import AccountError, NotFound
from cloodot_app.models import AuthSession, Membership, User, Workspace, utcnow
from cloodot_app.services import audit
from cloodot_app.services.accounts.sessions import revoke_sessions
from cloodot_app.services.accounts.users import membership_of, parse_role

LAST_ADMIN_REFUSED = "A workspace needs at least one admin: make someone else an admin first."


@dataclass(frozen=True)
class Member:
    user_id: int
    email: str
    name: str
    role: Role
    joined_at: datetime
    disabled: bool


check_actor = require_admin_of


def list_members(session: Session, workspace_id: int) -> list[Member]:
    rows = session.execute(
        sa.select(User, Membership.role, Membership.created_at)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(sa.func.lower(User.name), User.email)
    ).all()
    return [
        Member(
            user_id=user.id,
            email=user.email,
            name=user.name,
            role=Role(role),
            joined_at=joined,
            disabled=user.disabled_at is not None,
        )
        for user, role, joined in rows
    ]


def change_role(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    user_id: int,
    role: Role | str,
    *,
    now: datetime | None = None,
) -> None:
    """Give a member another role; their sessions in this workspace end at once. The last
    admin cannot be given a lesser role."""
    check_actor(actor, workspace_id)
    role = parse_role(role)
    now = now or utcnow()
    _lock_workspace(session, workspace_id)
    membership = _member_or_404(session, workspace_id, user_id)
    old = Role(membership.role)
    if old == role:
        return
    if old == Role.ADMIN and _admin_count(session, workspace_id) <= 1:
        raise AccountError(LAST_ADMIN_REFUSED)
    membership.role = role.value
    session.flush()
    _end_sessions_in(session, workspace_id, user_id, now)
    email = _member_email(session, user_id)
    audit.record(
        session,
        workspace_id,
        actor,
        "members.role_change",
        f"Changed {email} from {old.label} to {role.label}",
        {"user_id": user_id, "email": email, "old": old.value, "new": role.value},
        now=now,
    )


def remove_member(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    user_id: int,
    *,
    now: datetime | None = None,
) -> None:
    """Remove a member from this workspace; their sessions in it end at once (an open tab
    is refused on its next event). The last admin cannot be removed, not even by
    themself."""
    check_actor(actor, workspace_id)
    now = now or utcnow()
    _lock_workspace(session, workspace_id)
    membership = _member_or_404(session, workspace_id, user_id)
    if membership.role == Role.ADMIN.value and _admin_count(session, workspace_id) <= 1:
        raise AccountError(LAST_ADMIN_REFUSED)
    old = Role(membership.role)
    session.delete(membership)
    session.flush()
    _end_sessions_in(session, workspace_id, user_id, now)
    email = _member_email(session, user_id)
    audit.record(
        session,
        workspace_id,
        actor,
        "members.remove",
        f"Removed {email} ({old.label})",
        {"user_id": user_id, "email": email, "role": old.value},
        now=now,
    )


def _lock_workspace(session: Session, workspace_id: int) -> None:
    """Serialise member changes per workspace, so two admins demoting each other at once
    cannot leave it with none. A no-op UPDATE rather than SELECT … FOR UPDATE: it locks
    the row on PostgreSQL and, on SQLite (where a plain SELECT starts no transaction),
    takes the write lock before the admin count is read."""
    session.execute(
        sa.update(Workspace)
        .where(Workspace.id == workspace_id)
        .values(slug=Workspace.slug)
        .execution_options(synchronize_session=False)
    )


def _admin_count(session: Session, workspace_id: int) -> int:
    return session.execute(
        sa.select(sa.func.count())
        .select_from(Membership)
        .where(Membership.workspace_id == workspace_id, Membership.role == Role.ADMIN.value)
    ).scalar_one()


def _member_or_404(session: Session, workspace_id: int, user_id: int) -> Membership:
    membership = membership_of(session, workspace_id, user_id)
    if membership is None:
        raise NotFound("That person is not a member of this workspace.")
    return membership


def _member_email(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.email if user else str(user_id)


def _end_sessions_in(session: Session, workspace_id: int, user_id: int, now: datetime) -> None:
    """A changed or removed member's open tabs in this workspace are refused at once."""
    revoke_sessions(
        session,
        AuthSession.user_id == user_id,
        AuthSession.workspace_id == workspace_id,
        now=now,
    )
