"""Small worlds for the accounts tests: cheap password hashing, users with roles, settings."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any

import pytest
import sqlalchemy as sa
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlmodel import Session

from cloodot_app.access import Identity, Role
from cloodot_app.models import User
from cloodot_app.services import accounts
from cloodot_app.services.accounts import authentication, credentials

PASSWORD = "correct horse battery"


def isolate_accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per test: a fresh in-memory sign-in limiter (counts never leak between tests), and
    argon2id with the smallest parameters (tests hash dozens of passwords)."""
    monkeypatch.setattr(
        credentials,
        "passwords",
        PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)),
    )
    limiter = accounts.LoginLimiter()
    monkeypatch.setattr(authentication, "login_limiter", lambda: limiter)


def use_settings(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    """Change settings for every accounts module (each reads `settings` from its own
    namespace, as the rest of the app does)."""
    for info in pkgutil.iter_modules(accounts.__path__):
        module = importlib.import_module(f"{accounts.__name__}.{info.name}")
        if hasattr(module, "settings"):
            monkeypatch.setattr(module, "settings", dataclasses.replace(module.settings, **changes))


def make_member(
    session: Session,
    workspace_id: int,
    email: str,
    role: Role = Role.AGENT,
    password: str = PASSWORD,
    name: str = "",
) -> User:
    """A user (created if new) who is a member of `workspace_id` with `role`, committed."""
    user = accounts.user_by_email(session, email) or accounts.create_user(
        session, email, name or email.split("@")[0].title(), password
    )
    accounts.add_member(session, workspace_id, user.id, role)
    session.commit()
    return user


def sign_in_as(session: Session, user: User, workspace_id: int) -> tuple[str, Identity]:
    token = accounts.start_session(session, user.id, workspace_id)
    session.commit()
    identity = accounts.resolve_session(session, token)
    assert identity is not None
    return token, identity


def all_text_in(session: Session, table: str) -> str:
    """Every value of every row of `table`, as one string (to look for a secret in)."""
    rows = session.execute(sa.text(f'SELECT * FROM "{table}"')).all()
    return "\n".join(" ".join(str(value) for value in row) for row in rows)
