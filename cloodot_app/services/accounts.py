"""Accounts: users and passwords, sign-in and sessions, members and invitations, password
resets, demo users and single-use export tickets. No Reflex here.

Secrets handed out (session tokens, invitation and reset links) are 256-bit random strings;
the database keeps only their SHA-256, so a copy of it signs no one in. Functions flush and
leave the commit to the caller (`db.session_scope`), except where noted.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from urllib.parse import urlencode

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from cloodot_app.access import Capability, Identity, Role, require
from cloodot_app.errors import (
    AccessDenied,
    AccountError,
    AuthError,
    NotFound,
    PasswordError,
)
from cloodot_app.models import (
    AuthSession,
    ExportTicketUse,
    Invitation,
    Membership,
    PasswordReset,
    User,
    Workspace,
    utcnow,
)
from cloodot_app.services import audit
from cloodot_app.settings import settings

# The one answer to every refused sign-in: a wrong password, an unknown email, a disabled
# account and a locked-out account all read the same, so none of them tells who has one.
SIGN_IN_REFUSED = (
    "That email and password do not match, or there were too many attempts. "
    "Check them and try again in a few minutes."
)
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 1024  # argon2 hashes anything; a megabyte "password" is a DoS
PASSWORD_RESET_TTL = timedelta(hours=1)
# resolve_session writes last_seen_at at most this often (it runs on every event).
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
# Stored instead of a hash for accounts no password opens (demo users): argon2 hashes
# start with "$", so nothing verifies against it.
UNUSABLE_PASSWORD_PREFIX = "!"

# Pages the links in mails point to (the lead's routes must match).
INVITATION_PATH = "/accept-invitation"
PASSWORD_RESET_PATH = "/reset-password"

DEMO_DOMAIN = "example.com"  # reserved (RFC 2606): no mail is ever delivered there
DEMO_USERS: dict[Role, tuple[str, str]] = {
    Role.ADMIN: (f"demo-admin@{DEMO_DOMAIN}", "Demo Admin"),
    Role.MANAGER: (f"demo-manager@{DEMO_DOMAIN}", "Demo Manager"),
    Role.AGENT: (f"demo-agent@{DEMO_DOMAIN}", "Demo Agent"),
}

# argon2id with pwdlib's recommended parameters (tests swap in cheaper ones).
passwords = PasswordHash((Argon2Hasher(),))


# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class WorkspaceChoice:
    workspace_id: int
    slug: str
    name: str
    role: Role


@dataclass(frozen=True)
class Member:
    user_id: int
    email: str
    name: str
    role: Role
    joined_at: datetime
    disabled: bool


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


# --------------------------------------------------------------------------- helpers


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def canonical_email(email: str) -> str:
    """The stored form of an address (lower-case); a malformed one is only trimmed."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return email.strip().lower()


def _valid_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise AccountError(f"Enter a valid email address ({error}).") from None


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise AccountError(f"Unknown role {role!r}: choose one of {names}.") from None


def _user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == canonical_email(email))).first()


def _membership(session: Session, workspace_id: int, user_id: int) -> Membership | None:
    return session.exec(
        select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user_id
        )
    ).first()


def _check_actor(actor: Identity | None, workspace_id: int) -> None:
    """Defence in depth behind the state guard: a given actor must be an admin of this
    workspace. None is the server itself (the admin CLI)."""
    if actor is None:
        return
    require(actor, Capability.MANAGE_WORKSPACE)
    if actor.workspace_id != workspace_id:
        raise AccessDenied("You cannot manage another workspace from this one.")


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


def _app_link(path: str, token: str) -> str:
    return f"{settings.app_url}{path}?{urlencode({'token': token})}"


def invitation_link(token: str) -> str:
    return _app_link(INVITATION_PATH, token)


def password_reset_link(token: str) -> str:
    return _app_link(PASSWORD_RESET_PATH, token)


# --------------------------------------------------------------------------- passwords


def check_password(password: str, email: str) -> None:
    """Raise `PasswordError` (for the user) unless `password` keeps the password rules."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise PasswordError(f"Use at least {PASSWORD_MIN_LENGTH} characters.")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise PasswordError(f"Use at most {PASSWORD_MAX_LENGTH:,} characters.")
    if len(set(password)) == 1:
        raise PasswordError("One character repeated is too easy to guess: mix characters.")
    lowered = password.strip().lower()
    email = email.strip().lower()
    if lowered in {email, email.split("@", 1)[0]}:
        raise PasswordError("Your password cannot be your email address.")


def hash_password(password: str) -> str:
    return passwords.hash(password)


@cache
def _dummy_hash(hasher: PasswordHash) -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def _burn_a_verification(password: str) -> None:
    """Take as long as checking a real password (unknown email, demo user): the response
    time must not tell whether the email has an account."""
    passwords.verify(password, _dummy_hash(passwords))


def _verify(password: str, stored: str) -> tuple[bool, str | None]:
    if stored.startswith(UNUSABLE_PASSWORD_PREFIX):
        _burn_a_verification(password)
        return False, None
    try:
        return passwords.verify_and_update(password, stored)
    except UnknownHashError:
        _burn_a_verification(password)
        return False, None


# --------------------------------------------------------------------------- users


def create_user(
    session: Session, email: str, name: str, password: str, *, now: datetime | None = None
) -> User:
    email = _valid_email(email)
    check_password(password, email)
    if _user_by_email(session, email) is not None:
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


def user_by_email(session: Session, email: str) -> User | None:
    """For the server's own use (the CLI): never answer a browser with this."""
    return _user_by_email(session, email)


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
    role = _role(role)
    membership = _membership(session, workspace_id, user_id)
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


# --------------------------------------------------------------------------- sign-in


class LoginLimiter:
    """Failed sign-ins counted per account (the email typed, whether or not it has an
    account) and per client (its IP), in a moving window.

    `memory://` counts in this process; with Redis (settings.redis_url) every worker and
    host shares the counts, as it must when several serve the app.
    """

    def __init__(
        self,
        storage_uri: str = "memory://",
        per_account: str = "5 per 15 minutes",
        per_client: str = "20 per 15 minutes",
        key_prefix: str = "cloodot-login",
        resets_per_account: str = "3 per hour",
    ) -> None:
        options = {"key_prefix": key_prefix} if storage_uri.startswith("redis") else {}
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri, **options))
        self.per_account: RateLimitItem = parse(per_account)
        self.per_client: RateLimitItem = parse(per_client)
        self.resets_per_account: RateLimitItem = parse(resets_per_account)

    def allowed(self, account: str, client: str) -> bool:
        if not self._limiter.test(self.per_account, "account", account):
            return False
        return not client or self._limiter.test(self.per_client, "client", client)

    def failed(self, account: str, client: str) -> None:
        self._limiter.hit(self.per_account, "account", account)
        if client:
            self._limiter.hit(self.per_client, "client", client)

    def succeeded(self, account: str) -> None:
        # The account's own count starts again; the client's does not (one client
        # spraying many accounts is what that count is for).
        self._limiter.clear(self.per_account, "account", account)

    def reset_requested(self, account: str) -> bool:
        """Count a reset request; False past the limit (no one fills a mailbox with
        reset mails)."""
        return self._limiter.hit(self.resets_per_account, "reset", account)


@cache
def login_limiter() -> LoginLimiter:
    """The app's limiter: Redis when REDIS_URL is set (shared by workers), else memory."""
    return LoginLimiter(
        settings.redis_url or "memory://",
        settings.login_limit_account,
        settings.login_limit_client,
    )


def authenticate(
    session: Session,
    email: str,
    password: str,
    client_key: str = "",
    *,
    limiter: LoginLimiter | None = None,
) -> User:
    """The user whose email and password these are, or `AuthError(SIGN_IN_REFUSED)`.

    `client_key` identifies the client for rate limiting (its IP address).
    """
    limiter = limiter or login_limiter()
    account = canonical_email(email)
    if not limiter.allowed(account, client_key):
        raise AuthError(SIGN_IN_REFUSED)
    user = session.exec(select(User).where(User.email == account)).first()
    if user is None:
        _burn_a_verification(password)
        ok, new_hash = False, None
    else:
        ok, new_hash = _verify(password, user.password_hash)
    if not ok or user is None or user.disabled_at is not None:
        limiter.failed(account, client_key)
        raise AuthError(SIGN_IN_REFUSED)
    if new_hash:  # the hasher's parameters changed since this hash was made
        user.password_hash = new_hash
        session.flush()
    limiter.succeeded(account)
    return user


def sign_in(
    session: Session,
    email: str,
    password: str,
    client_key: str = "",
    user_agent: str = "",
    *,
    limiter: LoginLimiter | None = None,
    now: datetime | None = None,
) -> str:
    """Authenticate and start a session in the workspace the user last worked in (else
    their first): the new session token, for the browser to keep."""
    user = authenticate(session, email, password, client_key, limiter=limiter)
    workspace_id = _preferred_workspace(session, user.id)
    if workspace_id is None:
        raise AccountError("Your account is not a member of any workspace: ask an admin.")
    return start_session(session, user.id, workspace_id, user_agent, client_key, now=now)


def _preferred_workspace(session: Session, user_id: int) -> int | None:
    last = session.execute(
        sa.select(AuthSession.workspace_id)
        .join(
            Membership,
            sa.and_(
                Membership.user_id == AuthSession.user_id,
                Membership.workspace_id == AuthSession.workspace_id,
            ),
        )
        .where(AuthSession.user_id == user_id)
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if last is not None:
        return last
    return session.execute(
        sa.select(Membership.workspace_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.created_at, Membership.id)
        .limit(1)
    ).scalar_one_or_none()


# --------------------------------------------------------------------------- sessions


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
    if _membership(session, workspace_id, user_id) is None:
        raise AccessDenied("You are not a member of this workspace.")
    now = now or utcnow()
    token, hashed = _new_token()
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


def _revoke(session: Session, *conditions: sa.ColumnElement[bool], now: datetime) -> int:
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
    return _revoke(session, AuthSession.token_hash == token_hash(token), now=now or utcnow()) > 0


def end_all_sessions(session: Session, user_id: int, *, now: datetime | None = None) -> int:
    """Sign `user_id` out everywhere; how many sessions were open."""
    return _revoke(session, AuthSession.user_id == user_id, now=now or utcnow())


def switch_workspace(
    session: Session, token: str, workspace_id: int, *, now: datetime | None = None
) -> Identity:
    """Move this session to another workspace of the same user (only one they belong to)."""
    identity = resolve_session(session, token, now=now)
    if identity is None:
        raise AccessDenied("Sign in to continue.")
    if _membership(session, workspace_id, identity.user_id) is None:
        raise AccessDenied("You are not a member of that workspace.")
    session.execute(
        sa.update(AuthSession)
        .where(AuthSession.id == identity.session_id)
        .values(workspace_id=workspace_id)
    )
    switched = resolve_session(session, token, now=now)
    assert switched is not None
    return switched


# --------------------------------------------------------------------------- members


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
    _check_actor(actor, workspace_id)
    email = _valid_email(email)
    role = _role(role)
    existing = _user_by_email(session, email)
    if existing is not None and _membership(session, workspace_id, existing.id) is not None:
        raise AccountError(f"{email} is already a member of this workspace.")
    now = now or utcnow()
    session.execute(
        sa.delete(Invitation).where(
            Invitation.workspace_id == workspace_id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
        )
    )
    token, hashed = _new_token()
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
    _check_actor(actor, workspace_id)
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


def _open_invitation(session: Session, token: str, now: datetime) -> Invitation:
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == token_hash(token or ""))
    ).first()
    if invitation is None or invitation.accepted_at is not None or now >= invitation.expires_at:
        raise AccountError(
            "This invitation link has expired or was already used. Ask an admin for a new one."
        )
    return invitation


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
        has_account=_user_by_email(session, invitation.email) is not None,
    )


def accept_invitation(
    session: Session, token: str, name: str, password: str, *, now: datetime | None = None
) -> User:
    """Join the invitation's workspace. A new email gets an account with `name` and
    `password`; an existing account proves itself with its current `password` (the link
    never changes an existing password). The link works once."""
    now = now or utcnow()
    invitation = _open_invitation(session, token, now)
    user = _user_by_email(session, invitation.email)
    if user is None:
        user = create_user(session, invitation.email, name, password, now=now)
    else:
        ok, _ = _verify(password, user.password_hash)
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
    if _membership(session, invitation.workspace_id, user.id) is None:
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


def _member_or_404(session: Session, workspace_id: int, user_id: int) -> Membership:
    membership = _membership(session, workspace_id, user_id)
    if membership is None:
        raise NotFound("That person is not a member of this workspace.")
    return membership


def _member_email(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.email if user else str(user_id)


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
    _check_actor(actor, workspace_id)
    role = _role(role)
    now = now or utcnow()
    _lock_workspace(session, workspace_id)
    membership = _member_or_404(session, workspace_id, user_id)
    old = Role(membership.role)
    if old == role:
        return
    if old == Role.ADMIN and _admin_count(session, workspace_id) <= 1:
        raise AccountError(
            "A workspace needs at least one admin: make someone else an admin first."
        )
    membership.role = role.value
    session.flush()
    _revoke(
        session,
        AuthSession.user_id == user_id,
        AuthSession.workspace_id == workspace_id,
        now=now,
    )
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
    _check_actor(actor, workspace_id)
    now = now or utcnow()
    _lock_workspace(session, workspace_id)
    membership = _member_or_404(session, workspace_id, user_id)
    if membership.role == Role.ADMIN.value and _admin_count(session, workspace_id) <= 1:
        raise AccountError(
            "A workspace needs at least one admin: make someone else an admin first."
        )
    old = Role(membership.role)
    session.delete(membership)
    session.flush()
    _revoke(
        session,
        AuthSession.user_id == user_id,
        AuthSession.workspace_id == workspace_id,
        now=now,
    )
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


# --------------------------------------------------------------------------- password reset


def request_password_reset(
    session: Session,
    email: str,
    *,
    limiter: LoginLimiter | None = None,
    rate_limited: bool = True,
    now: datetime | None = None,
) -> str | None:
    """A reset token for `email`'s account, or None when there is none (or it is
    disabled, or asked for too often: 3 an hour). The caller shows the same message
    either way, and never shows the token to whoever asked: it goes by mail, or an
    operator prints it (`admin reset-link`, not rate-limited)."""
    limiter = limiter or login_limiter()
    if rate_limited and not limiter.reset_requested(canonical_email(email)):
        return None
    user = _user_by_email(session, email)
    if user is None or user.disabled_at is not None:
        return None
    now = now or utcnow()
    # Only the newest link works.
    session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    token, hashed = _new_token()
    session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=hashed,
            created_at=now,
            expires_at=now + PASSWORD_RESET_TTL,
        )
    )
    session.flush()
    return token


def reset_password(
    session: Session, token: str, new_password: str, *, now: datetime | None = None
) -> User:
    """Set a new password from a reset link (single use, one hour); every session of the
    user ends."""
    now = now or utcnow()
    reset = session.exec(
        select(PasswordReset).where(PasswordReset.token_hash == token_hash(token or ""))
    ).first()
    refused = AccountError("This reset link has expired or was already used. Ask for a new one.")
    if reset is None or reset.used_at is not None or now >= reset.expires_at:
        raise refused
    user = session.get(User, reset.user_id)
    if user is None or user.disabled_at is not None:
        raise refused
    check_password(new_password, user.email)
    claimed = session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        raise refused
    user.password_hash = hash_password(new_password)
    session.flush()
    end_all_sessions(session, user.id, now=now)
    return user


# --------------------------------------------------------------------------- demo


def ensure_demo_users(session: Session, workspace_id: int) -> dict[Role, User]:
    """The three demo users (one per role) as members of `workspace_id`. No password opens
    them: only `start_demo_session` (demo mode) signs them in."""
    users: dict[Role, User] = {}
    for role, (email, name) in DEMO_USERS.items():
        user = _user_by_email(session, email)
        if user is None:
            user = User(
                email=email,
                name=name,
                password_hash=UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(8),
            )
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
    user = ensure_demo_users(session, workspace_id)[_role(role)]
    return start_session(session, user.id, workspace_id, user_agent, ip, now=now)


# --------------------------------------------------------------------------- export tickets


def use_ticket_once(session: Session, nonce: str, *, now: datetime | None = None) -> bool:
    """Claim an export ticket's nonce: True the first time, False ever after. The primary
    key decides (INSERT … ON CONFLICT DO NOTHING), so two simultaneous uses cannot both
    win; the caller commits at once (on PostgreSQL the loser waits for that commit)."""
    insert = postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    claimed = session.execute(
        insert(ExportTicketUse)
        .values(nonce=nonce, used_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["nonce"])
        .returning(ExportTicketUse.nonce)
    ).scalar_one_or_none()
    return claimed is not None


def forget_used_tickets(session: Session, before: datetime) -> int:
    """Drop nonces of tickets that have expired anyway (tickets live minutes)."""
    result = session.execute(sa.delete(ExportTicketUse).where(ExportTicketUse.used_at < before))
    return result.rowcount or 0
