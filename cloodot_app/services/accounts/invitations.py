"""Invitations: an admin invites an email with a role, the invitee opens the link once and
joins (creating an account, or proving an existing one with its password)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from cloodot_app import routes
from cloodot_app.access import Identity, Role
from cloodot_app.errors import AccountError, AuthError, NotFound
from cloodot_app.models import Invitation, User, Workspace, utcnow
from cloodot_app.services import audit
from cloodot_app.services.accounts.credentials import verify_password
from cloodot_app.services.accounts.members import check_actor
from cloodot_app.services.accounts.tokens import app_link, new_token, token_hash
from cloodot_app.services.accounts.users import (
    add_member,
    create_user,
    membership_of,
    parse_role,
    user_by_email,
    valid_email,
)
from cloodot_app.settings import settings

# The page an invitation link opens (the app's route must match).
INVITATION_PATH = routes.ACCEPT_INVITATION


@dataclass(frozen=True)
class PendingInvitation:
    id: int
    email: str
    role: Role
    invited_by_name: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class InvitationDetails:
    """What the invitation page shows before the invitee answers."""

    email: str
    workspace_name: str
    role: Role
    # True: the invitee signs in with their existing password; False: they choose one.
    has_account: bool
    # Where the invitee is signed in once they accept.
    workspace_id: int = 0


def invitation_link(token: str) -> str:
    return app_link(INVITATION_PATH, token)


def list_invitations(
    session: Session, workspace_id: int, *, now: datetime | None = None
) -> list[PendingInvitation]:
    """Open invitations (not accepted, not expired), newest first."""
    rows = session.execute(
        sa.select(Invitation, User.name)
        .outerjoin(User, User.id == Invitation.invited_by)
        .where(
            Invitation.workspace_id == workspace_id,
            Invitation.accepted_at.is_(None),
            Invitation.expires_at > (now or utcnow()),
        )
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()
    return [
        PendingInvitation(
            id=inv.id,
            email=inv.email,
            role=Role(inv.role),
            invited_by_name=name or "",
            created_at=inv.created_at,
            expires_at=inv.expires_at,
        )
        for inv, name in rows
    ]


def invite(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    email: str,
    role: Role | str,
    *,
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """Invite `email` with `role`: the invitation and its raw token (for the link, shown
    once). Inviting the same email again replaces its open invitation."""
    check_actor(actor, workspace_id)
    email = valid_email(email)
    role = parse_role(role)
    existing = user_by_email(session, email)
    if existing is not None and membership_of(session, workspace_id, existing.id) is not None:
        raise AccountError(f"{email} is already a member of this workspace.")
    now = now or utcnow()
    session.execute(
        sa.delete(Invitation).where(
            Invitation.workspace_id == workspace_id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
        )
    )
    token, hashed = new_token()
    invitation = Invitation(
        workspace_id=workspace_id,
        email=email,
        role=role.value,
        token_hash=hashed,
        invited_by=actor.user_id if actor else None,
        created_at=now,
        expires_at=now + timedelta(days=settings.invitation_days),
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        workspace_id,
        actor,
        "members.invite",
        f"Invited {email} as {role.label}",
        {"email": email, "role": role.value},
        now=now,
    )
    return invitation, token


def revoke_invitation(
    session: Session, workspace_id: int, actor: Identity | None, invitation_id: int
) -> None:
    check_actor(actor, workspace_id)
    invitation = session.exec(
        select(Invitation).where(
            Invitation.id == invitation_id,
            Invitation.workspace_id == workspace_id,
            Invitation.accepted_at.is_(None),
        )
    ).first()
    if invitation is None:
        raise NotFound("That invitation is no longer open.")
    email = invitation.email
    session.delete(invitation)
    session.flush()
    audit.record(
        session,
        workspace_id,
        actor,
        "members.invitation_revoke",
        f"Withdrew the invitation of {email}",
        {"email": email},
    )


def invitation_details(
    session: Session, token: str, *, now: datetime | None = None
) -> InvitationDetails:
    invitation = _open_invitation(session, token, now or utcnow())
    workspace = session.get(Workspace, invitation.workspace_id)
    assert workspace is not None
    return InvitationDetails(
        email=invitation.email,
        workspace_name=workspace.name,
        role=Role(invitation.role),
        has_account=user_by_email(session, invitation.email) is not None,
        workspace_id=invitation.workspace_id,
    )


def accept_invitation(
    session: Session, token: str, name: str, password: str, *, now: datetime | None = None
) -> User:
    """Join the invitation's workspace. A new email gets an account with `name` and
    `password`; an existing account proves itself with its current `password` (the link
    never changes an existing password). The link works once."""
    now = now or utcnow()
    invitation = _open_invitation(session, token, now)
    user = user_by_email(session, invitation.email)
    if user is None:
        user = create_user(session, invitation.email, name, password, now=now)
    else:
        ok, _ = verify_password(password, user.password_hash)
        if not ok or user.disabled_at is not None:
            raise AuthError(
                "You already have an account with this email: enter its password to join."
            )
    # Only one of two simultaneous acceptances gets the row.
    claimed = session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=now)
    ).rowcount
    if claimed != 1:
        raise AccountError("This invitation link was already used.")
    role = Role(invitation.role)
    if membership_of(session, invitation.workspace_id, user.id) is None:
        add_member(session, invitation.workspace_id, user.id, role, now=now)
    audit.record(
        session,
        invitation.workspace_id,
        None,
        "members.join",
        f"{user.email} joined as {role.label}",
        {"email": user.email, "role": role.value},
        audit.ActorKind.USER,
        actor_user_id=user.id,
        now=now,
    )
    return user


def _open_invitation(session: Session, token: str, now: datetime) -> Invitation:
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == token_hash(token or ""))
    ).first()
    if invitation is None or invitation.accepted_at is not None or now >= invitation.expires_at:
        raise AccountError(
            "This invitation link has expired or was already used. Ask an admin for a new one."
        )
    return invitation
