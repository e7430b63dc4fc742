"""Users, passwords, sign-in (with its rate limits) and sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cloodot_app.access import Role
from cloodot_app.errors import AccessDenied, AccountError, AuthError, PasswordError
from cloodot_app.models import AuthSession, User, utcnow
from cloodot_app.services import accounts
from cloodot_app.services.accounts import (
    SIGN_IN_REFUSED,
    LoginLimiter,
    authentication,
    credentials,
)
from tests.unit.accounts_helpers import (
    PASSWORD,
    all_text_in,
    isolate_accounts,
    make_member,
    use_settings,
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    isolate_accounts(monkeypatch)


@pytest.fixture
def limiter() -> LoginLimiter:
    """A fresh in-memory limiter per test: 3 failures per account, 5 per client."""
    return LoginLimiter("memory://", "3 per 15 minutes", "5 per 15 minutes")


# --------------------------------------------------------------------------- users


def test_a_user_is_stored_lower_case_with_an_argon2_hash(session):
    user = accounts.create_user(session, "  Ana.Lima@Acme.EXAMPLE ", "Ana Lima", PASSWORD)
    session.commit()
    assert user.email == "ana.lima@acme.example"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in all_text_in(session, "user")


def test_one_account_per_email_whatever_the_case(session):
    accounts.create_user(session, "ana@acme.example", "Ana", PASSWORD)
    with pytest.raises(AccountError, match="already exists"):
        accounts.create_user(session, "ANA@acme.example", "Ana again", PASSWORD)


def test_the_database_refuses_a_second_row_with_the_same_email(session):
    session.add(User(email="ana@acme.example", name="A", password_hash="x"))
    session.commit()
    session.add(User(email="ana@acme.example", name="B", password_hash="y"))
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()


def test_an_invalid_email_is_refused(session):
    with pytest.raises(AccountError, match="valid email"):
        accounts.create_user(session, "not-an-address", "X", PASSWORD)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "at least 10 characters"),
        ("aaaaaaaaaaaa", "One character repeated"),
        ("ana@acme.example", "cannot be your email"),
        ("ANA@ACME.EXAMPLE", "cannot be your email"),
        ("x" * 1025 + "y", "at most 1,024"),
    ],
)
def test_password_rules_explain_themselves(password, message):
    with pytest.raises(PasswordError, match=message):
        accounts.check_password(password, "ana@acme.example")


def test_a_long_enough_mixed_password_passes():
    accounts.check_password("ana-acme-2026", "ana@acme.example")


# --------------------------------------------------------------------------- authenticate


def test_the_right_password_signs_in_whatever_the_email_case(session, workspace_id, limiter):
    user = make_member(session, workspace_id, "ana@acme.example")
    found = accounts.authenticate(
        session, " ANA@acme.example", PASSWORD, "10.0.0.1", limiter=limiter
    )
    assert found.id == user.id


def test_wrong_password_unknown_email_and_disabled_account_read_the_same(
    session, workspace_id, limiter
):
    make_member(session, workspace_id, "ana@acme.example")
    disabled = make_member(session, workspace_id, "bo@acme.example")
    disabled.disabled_at = utcnow()
    session.commit()
    messages = set()
    for email, password in [
        ("ana@acme.example", "wrong password!"),
        ("nobody@acme.example", PASSWORD),
        ("bo@acme.example", PASSWORD),
    ]:
        with pytest.raises(AuthError) as refused:
            accounts.authenticate(session, email, password, "", limiter=limiter)
        messages.add(str(refused.value))
    assert messages == {SIGN_IN_REFUSED}


def test_unknown_emails_still_cost_a_password_verification(session, monkeypatch, limiter):
    verified = []
    real = credentials.passwords

    class Counting:
        def verify(self, password, hashed):
            verified.append(password)
            return real.verify(password, hashed)

        def hash(self, password):
            return real.hash(password)

    monkeypatch.setattr(credentials, "passwords", Counting())
    with pytest.raises(AuthError):
        accounts.authenticate(session, "nobody@acme.example", "guess-1234", "", limiter=limiter)
    assert verified == ["guess-1234"]


def test_the_account_is_locked_after_n_failures_with_the_same_message(
    session, workspace_id, limiter
):
    make_member(session, workspace_id, "ana@acme.example")
    for attempt in range(3):  # three wrong passwords from three different clients
        with pytest.raises(AuthError, match=SIGN_IN_REFUSED):
            accounts.authenticate(
                session, "ana@acme.example", "wrong password!", f"10.0.0.{attempt}", limiter=limiter
            )
    # The right password is now refused too, with the very same message.
    with pytest.raises(AuthError) as locked:
        accounts.authenticate(session, "ana@acme.example", PASSWORD, "10.0.0.9", limiter=limiter)
    assert str(locked.value) == SIGN_IN_REFUSED
    # Another account is not affected.
    make_member(session, workspace_id, "bo@acme.example")
    assert accounts.authenticate(session, "bo@acme.example", PASSWORD, "10.0.0.9", limiter=limiter)


def test_an_unknown_email_is_locked_out_like_a_real_one(session, limiter):
    """Otherwise the lock-out itself would tell which emails have accounts."""
    for _ in range(3):
        with pytest.raises(AuthError):
            accounts.authenticate(session, "nobody@acme.example", "guess-1234", "", limiter=limiter)
    assert not limiter.allowed("nobody@acme.example", "")


def test_a_client_is_locked_after_n_failures_across_accounts(session, workspace_id, limiter):
    make_member(session, workspace_id, "ana@acme.example")
    for n in range(5):  # one failure each on five accounts, from one client
        with pytest.raises(AuthError):
            accounts.authenticate(
                session, f"user{n}@acme.example", "guess-1234", "203.0.113.5", limiter=limiter
            )
    with pytest.raises(AuthError) as locked:
        accounts.authenticate(session, "ana@acme.example", PASSWORD, "203.0.113.5", limiter=limiter)
    assert str(locked.value) == SIGN_IN_REFUSED
    # The same account from another client still signs in.
    assert accounts.authenticate(
        session, "ana@acme.example", PASSWORD, "198.51.100.7", limiter=limiter
    )


def test_a_success_forgives_the_accounts_earlier_failures(session, workspace_id, limiter):
    make_member(session, workspace_id, "ana@acme.example")
    for _ in range(2):
        with pytest.raises(AuthError):
            accounts.authenticate(session, "ana@acme.example", "typo typo 1", "", limiter=limiter)
    accounts.authenticate(session, "ana@acme.example", PASSWORD, "", limiter=limiter)
    for _ in range(2):
        with pytest.raises(AuthError):
            accounts.authenticate(session, "ana@acme.example", "typo typo 2", "", limiter=limiter)
    assert accounts.authenticate(session, "ana@acme.example", PASSWORD, "", limiter=limiter)


@pytest.mark.redis
def test_workers_sharing_redis_share_the_counts(session, workspace_id):
    """Two limiters (two workers) on one Redis: failures on one lock the account on both."""
    import redis

    url = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis not reachable at {url} ({error}); CI is set", pytrace=False)
        pytest.skip(f"Redis not reachable at {url}")
    prefix = f"cloodot-test-{secrets.token_hex(4)}"
    worker_a = LoginLimiter(url, "2 per 15 minutes", "50 per 15 minutes", key_prefix=prefix)
    worker_b = LoginLimiter(url, "2 per 15 minutes", "50 per 15 minutes", key_prefix=prefix)
    make_member(session, workspace_id, "ana@acme.example")
    with pytest.raises(AuthError):
        accounts.authenticate(session, "ana@acme.example", "wrong one 1", "", limiter=worker_a)
    with pytest.raises(AuthError):
        accounts.authenticate(session, "ana@acme.example", "wrong one 2", "", limiter=worker_b)
    with pytest.raises(AuthError, match=SIGN_IN_REFUSED):
        accounts.authenticate(session, "ana@acme.example", PASSWORD, "", limiter=worker_a)


# The app's own (cached) limiter factory: the autouse fixture swaps in a fresh one per test.
APP_LOGIN_LIMITER = accounts.login_limiter


def test_the_apps_limiter_uses_redis_when_redis_url_is_set(monkeypatch):
    monkeypatch.setattr(authentication, "login_limiter", APP_LOGIN_LIMITER)
    accounts.login_limiter.cache_clear()
    use_settings(monkeypatch, redis_url="redis://127.0.0.1:6379")
    try:
        storage = accounts.login_limiter()._limiter.storage
        assert type(storage).__name__ == "RedisStorage"
    finally:
        accounts.login_limiter.cache_clear()
    use_settings(monkeypatch, redis_url=None)
    try:
        assert type(accounts.login_limiter()._limiter.storage).__name__ == "MemoryStorage"
    finally:
        accounts.login_limiter.cache_clear()


def test_a_weaker_hash_is_upgraded_on_sign_in(session, workspace_id, limiter, monkeypatch):
    user = make_member(session, workspace_id, "ana@acme.example")
    old_hash = user.password_hash
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    monkeypatch.setattr(
        credentials,
        "passwords",
        PasswordHash((Argon2Hasher(time_cost=2, memory_cost=2048, parallelism=1),)),
    )
    accounts.authenticate(session, "ana@acme.example", PASSWORD, "", limiter=limiter)
    session.commit()
    session.refresh(user)
    assert user.password_hash != old_hash
    assert "t=2" in user.password_hash


# --------------------------------------------------------------------------- sessions


def test_a_session_token_is_stored_only_as_its_hash(session, workspace_id):
    user = make_member(session, workspace_id, "ana@acme.example")
    token = accounts.start_session(session, user.id, workspace_id, "Firefox", "10.0.0.1")
    session.commit()
    assert len(token) >= 43  # 32 random bytes, URL-safe
    stored = all_text_in(session, "auth_session")
    assert token not in stored
    assert accounts.token_hash(token) in stored


def test_resolve_session_names_the_user_workspace_and_role(session, workspace_id):
    user = make_member(session, workspace_id, "ana@acme.example", Role.MANAGER, name="Ana Lima")
    token = accounts.start_session(session, user.id, workspace_id)
    identity = accounts.resolve_session(session, token)
    assert identity is not None
    assert (identity.user_id, identity.email, identity.name) == (
        user.id,
        "ana@acme.example",
        "Ana Lima",
    )
    assert (identity.workspace_id, identity.workspace_name) == (workspace_id, "Acme")
    assert identity.role is Role.MANAGER
    assert identity.session_id > 0


@pytest.mark.parametrize("token", ["", None, "made-up-token", "x" * 43])
def test_an_unknown_token_resolves_to_no_one(session, token):
    assert accounts.resolve_session(session, token) is None


def test_a_session_needs_a_membership_to_start(session, workspace_id, make_workspace):
    user = make_member(session, workspace_id, "ana@acme.example")
    other = make_workspace("globex")
    with pytest.raises(AccessDenied):
        accounts.start_session(session, user.id, other)


def test_an_idle_session_expires(session, workspace_id, monkeypatch):
    use_settings(monkeypatch, session_idle_hours=12)
    user = make_member(session, workspace_id, "ana@acme.example")
    start = utcnow()
    token = accounts.start_session(session, user.id, workspace_id, now=start)
    session.commit()
    # Used every 11 hours, it lives on ...
    assert accounts.resolve_session(session, token, now=start + timedelta(hours=11))
    assert accounts.resolve_session(session, token, now=start + timedelta(hours=22))
    session.commit()
    # ... 12 hours without an event end it.
    assert accounts.resolve_session(session, token, now=start + timedelta(hours=34)) is None


def test_a_session_ends_at_its_absolute_expiry_however_active(session, workspace_id, monkeypatch):
    use_settings(monkeypatch, session_max_days=30, session_idle_hours=12)
    user = make_member(session, workspace_id, "ana@acme.example")
    start = utcnow()
    token = accounts.start_session(session, user.id, workspace_id, now=start)
    at = start
    while at < start + timedelta(days=30) - timedelta(hours=10):
        at += timedelta(hours=10)
        assert accounts.resolve_session(session, token, now=at) is not None
    assert accounts.resolve_session(session, token, now=start + timedelta(days=30)) is None


def test_last_seen_is_written_at_most_once_a_minute(session, workspace_id):
    user = make_member(session, workspace_id, "ana@acme.example")
    start = utcnow()
    token = accounts.start_session(session, user.id, workspace_id, now=start)
    session.commit()

    def last_seen():
        return session.execute(sa.select(AuthSession.last_seen_at)).scalar_one()

    accounts.resolve_session(session, token, now=start + timedelta(seconds=30))
    session.commit()
    assert last_seen() == start
    accounts.resolve_session(session, token, now=start + timedelta(seconds=61))
    session.commit()
    assert last_seen() == start + timedelta(seconds=61)


def test_a_disabled_user_is_signed_out(session, workspace_id):
    user = make_member(session, workspace_id, "ana@acme.example")
    token = accounts.start_session(session, user.id, workspace_id)
    user.disabled_at = utcnow()
    session.commit()
    assert accounts.resolve_session(session, token) is None


def test_sign_out_ends_this_session_only(session, workspace_id):
    user = make_member(session, workspace_id, "ana@acme.example")
    laptop = accounts.start_session(session, user.id, workspace_id)
    phone = accounts.start_session(session, user.id, workspace_id)
    assert accounts.end_session(session, laptop) is True
    assert accounts.end_session(session, laptop) is False
    session.commit()
    assert accounts.resolve_session(session, laptop) is None
    assert accounts.resolve_session(session, phone) is not None


def test_sign_out_everywhere_ends_every_session_of_the_user(session, workspace_id):
    ana = make_member(session, workspace_id, "ana@acme.example")
    bo = make_member(session, workspace_id, "bo@acme.example")
    tokens = [accounts.start_session(session, ana.id, workspace_id) for _ in range(3)]
    bos = accounts.start_session(session, bo.id, workspace_id)
    assert accounts.end_all_sessions(session, ana.id) == 3
    session.commit()
    assert all(accounts.resolve_session(session, t) is None for t in tokens)
    assert accounts.resolve_session(session, bos) is not None


def test_switch_workspace_only_to_a_workspace_of_ones_own(session, workspace_id, make_workspace):
    globex = make_workspace("globex", "Globex")
    initech = make_workspace("initech", "Initech")
    user = make_member(session, workspace_id, "ana@acme.example", Role.AGENT)
    make_member(session, globex, "ana@acme.example", Role.ADMIN)
    token = accounts.start_session(session, user.id, workspace_id)

    switched = accounts.switch_workspace(session, token, globex)
    assert (switched.workspace_id, switched.workspace_name, switched.role) == (
        globex,
        "Globex",
        Role.ADMIN,
    )
    session.commit()
    assert accounts.resolve_session(session, token).workspace_id == globex

    with pytest.raises(AccessDenied, match="not a member"):
        accounts.switch_workspace(session, token, initech)
    assert accounts.resolve_session(session, token).workspace_id == globex
    with pytest.raises(AccessDenied, match="Sign in"):
        accounts.switch_workspace(session, "made-up", globex)


def test_user_workspaces_lists_each_with_its_role(session, workspace_id, make_workspace):
    globex = make_workspace("globex", "Globex")
    make_workspace("initech", "Initech")
    user = make_member(session, workspace_id, "ana@acme.example", Role.AGENT)
    make_member(session, globex, "ana@acme.example", Role.ADMIN)
    choices = accounts.user_workspaces(session, user.id)
    assert [(c.name, c.role) for c in choices] == [("Acme", Role.AGENT), ("Globex", Role.ADMIN)]


def test_sign_in_starts_a_session_in_the_last_used_workspace(
    session, workspace_id, make_workspace, limiter
):
    globex = make_workspace("globex", "Globex")
    user = make_member(session, workspace_id, "ana@acme.example")
    make_member(session, globex, "ana@acme.example")
    first = accounts.sign_in(session, "ana@acme.example", PASSWORD, "10.0.0.1", limiter=limiter)
    assert accounts.resolve_session(session, first).workspace_id == workspace_id
    accounts.switch_workspace(session, first, globex)
    session.commit()
    second = accounts.sign_in(
        session, "ana@acme.example", PASSWORD, now=utcnow() + timedelta(minutes=5), limiter=limiter
    )
    assert accounts.resolve_session(session, second).workspace_id == globex
    assert user.id == accounts.resolve_session(session, second).user_id


def test_sign_in_without_any_workspace_says_so(session, limiter):
    accounts.create_user(session, "ana@acme.example", "Ana", PASSWORD)
    with pytest.raises(AccountError, match="not a member of any workspace"):
        accounts.sign_in(session, "ana@acme.example", PASSWORD, limiter=limiter)
