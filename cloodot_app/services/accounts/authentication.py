"""Signing in: the failed-attempt limiter, checking an email and password, and starting a
session in the workspace the user last worked in."""

from __future__ import annotations

from datetime import datetime
from functools import cache

import sqlalchemy as sa
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlmodel import Session, select

from cloodot_app.errors import AccountError, AuthError
from cloodot_app.models import AuthSession, Membership, User
from cloodot_app.services.accounts.credentials import burn_a_verification, verify_password
from cloodot_app.services.accounts.sessions import start_session
from cloodot_app.services.accounts.users import canonical_email
from cloodot_app.settings import settings

# The one answer to every refused sign-in: a wrong password, an unknown email, a disabled
# account and a locked-out account all read the same, so none of them tells who has one.
SIGN_IN_REFUSED = (
    "That email and password do not match, or there were too many attempts. "
    "Check them and try again in a few minutes."
)


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
        burn_a_verification(password)
        ok, new_hash = False, None
    else:
        ok, new_hash = verify_password(password, user.password_hash)
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
    user_id = check_sign_in(session, email, password, client_key, limiter=limiter)
    return open_session(session, user_id, user_agent, client_key, now=now)


def check_sign_in(
    session: Session,
    email: str,
    password: str,
    client_key: str = "",
    *,
    limiter: LoginLimiter | None = None,
) -> int:
    """The id of the user these credentials are, if they can sign in anywhere (the browser
    then trades a one-use ticket for the session cookie: see session_routes.py)."""
    user = authenticate(session, email, password, client_key, limiter=limiter)
    if _preferred_workspace(session, user.id) is None:
        raise AccountError(NO_WORKSPACE)
    return user.id


def open_session(
    session: Session,
    user_id: int,
    user_agent: str = "",
    ip: str = "",
    *,
    workspace_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """A new session of `user_id` in `workspace_id` (a member of it), or else in the
    workspace they last worked in (else their first): its token, for the browser."""
    workspace_id = workspace_id or _preferred_workspace(session, user_id)
    if workspace_id is None:
        raise AccountError(NO_WORKSPACE)
    return start_session(session, user_id, workspace_id, user_agent, ip, now=now)


NO_WORKSPACE = "Your account is not a member of any workspace: ask an admin."


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
