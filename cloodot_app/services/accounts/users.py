"""Users and their memberships: creating an account, finding one by email, giving it a role
in a workspace, and the workspaces it belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, select

from cloodot_app.access import Role
from cloodot_app.errors import AccountError
from cloodot_app.models import Membership, User, Workspace, utcnow
from cloodot_app.services.accounts.credentials import check_password, hash_password

DEMO_DOMAIN = "example.com"  # reserved (RFC 2606): no mail is ever delivered there
DEMO_USERS: dict[Role, tuple[str, str]] = {
    Role.ADMIN: (f"demo-admin@{DEMO_DOMAIN}", "Demo Admin"),
    Role.MANAGER: (f"demo-manager@{DEMO_DOMAIN}", "Demo Manager"),
    Role.AGENT: (f"demo-agent@{DEMO_DOMAIN}", "Demo Agent"),
}
# Shared accounts anyone in a demo can sign in as (see demo.py and access.require_admin_of).
DEMO_EMAILS = frozenset(email for email, _name in DEMO_USERS.values())


@dataclass(frozen=True)
class WorkspaceChoice:
    workspace_id: int
    slug: str
    name: str
    role: Role


def canonical_email(email: str) -> str:
    """The stored form of an address (lower-case); a malformed one is only trimmed."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return email.strip().lower()


def valid_email(email: str) -> str:
    """The stored form of an address, or `AccountError` (for the user) if it is malformed."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise AccountError(f"Enter a valid email address ({error}).") from None


def parse_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise AccountError(f"Unknown role {role!r}: choose one of {names}.") from None


def user_by_email(session: Session, email: str) -> User | None:
    """The account with this email (in any case), or None. For the server's own use: never
    tell a browser whether an email has an account."""
    return session.exec(select(User).where(User.email == canonical_email(email))).first()


def membership_of(session: Session, workspace_id: int, user_id: int) -> Membership | None:
    return session.exec(
        select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user_id
        )
    ).first()


def create_user(
    session: Session, email: str, name: str, password: str, *, now: datetime | None = None
) -> User:
    email = valid_email(email)
    check_password(password, email)
    if user_by_email(session, email) is not None:
        raise AccountError("An account with this email already exists.")
    user = User(
        email=email,
        name=name.strip() or email.split("@", 1)[0],
        password_hash=hash_password(password),
        created_at=now or utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def add_member(
    session: Session,
    workspace_id: int,
    user_id: int,
    role: Role | str,
    *,
    now: datetime | None = None,
) -> Membership:
    """Make `user_id` a member with `role` (a member already keeps the membership and gets
    the role). No actor check: for the CLI, invitations and demo users."""
    role = parse_role(role)
    membership = membership_of(session, workspace_id, user_id)
    if membership is None:
        membership = Membership(
            user_id=user_id, workspace_id=workspace_id, role=role.value, created_at=now or utcnow()
        )
        session.add(membership)
    else:
        membership.role = role.value
    session.flush()
    return membership


def user_workspaces(session: Session, user_id: int) -> list[WorkspaceChoice]:
    """The workspaces `user_id` belongs to, by name (the switcher shows them when > 1)."""
    rows = session.execute(
        sa.select(Workspace.id, Workspace.slug, Workspace.name, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user_id)
        .order_by(Workspace.name, Workspace.id)
    ).all()
    return [WorkspaceChoice(wid, slug, name, Role(role)) for wid, slug, name, role in rows]
