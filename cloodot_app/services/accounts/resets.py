"""Password resets: a one-hour, single-use link for an email's account (asked for at most
3 times an hour), and setting a new password from it, which ends every session."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from cloodot_app import routes
from cloodot_app.access import Identity
from cloodot_app.errors import AccountError, NotFound
from cloodot_app.models import PasswordReset, User, utcnow
from cloodot_app.services import audit
from cloodot_app.services.accounts import authentication
from cloodot_app.services.accounts.credentials import check_password, hash_password
from cloodot_app.services.accounts.members import check_actor
from cloodot_app.services.accounts.sessions import end_all_sessions
from cloodot_app.services.accounts.tokens import app_link, new_token, token_hash
from cloodot_app.services.accounts.users import canonical_email, membership_of, user_by_email

PASSWORD_RESET_TTL = timedelta(hours=1)
# The page a reset link opens (the app's route must match).
PASSWORD_RESET_PATH = routes.RESET_PASSWORD


def password_reset_link(token: str) -> str:
    return app_link(PASSWORD_RESET_PATH, token)


def request_password_reset(
    session: Session,
    email: str,
    *,
    limiter: authentication.LoginLimiter | None = None,
    rate_limited: bool = True,
    now: datetime | None = None,
) -> str | None:
    """A reset token for `email`'s account, or None when there is none (or it is
    disabled, or asked for too often: 3 an hour). The caller shows the same message
    either way, and never shows the token to whoever asked: it goes by mail, or an
    operator prints it (`admin reset-link`, not rate-limited)."""
    # Looked up at call time: the app's one limiter, which tests swap per test.
    limiter = limiter or authentication.login_limiter()
    if rate_limited and not limiter.reset_requested(canonical_email(email)):
        return None
    user = user_by_email(session, email)
    if user is None or user.disabled_at is not None:
        return None
    now = now or utcnow()
    # Only the newest link works.
    session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    token, hashed = new_token()
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


def member_reset_link(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    user_id: int,
    *,
    now: datetime | None = None,
) -> str:
    """A password reset link for a member of this workspace, for an admin to hand over
    (Settings → Members, when the server sends no mail). Not rate-limited: an admin asks
    for it, not an anonymous visitor. Older links of that member stop working; the
    member's sessions end when the link is used, not before."""
    check_actor(actor, workspace_id)
    user = session.get(User, user_id)
    if user is None or membership_of(session, workspace_id, user_id) is None:
        raise NotFound("That person is not a member of this workspace.")
    now = now or utcnow()
    token = request_password_reset(session, user.email, rate_limited=False, now=now)
    if token is None:
        raise AccountError(f"{user.email}'s account is disabled: no reset link can be made.")
    audit.record(
        session,
        workspace_id,
        actor,
        "members.reset_link",
        f"Created a password reset link for {user.email}",
        {"user_id": user.id, "email": user.email},
        now=now,
    )
    return password_reset_link(token)


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
