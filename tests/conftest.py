"""Shared fixtures: one migrated database per test, on SQLite and on PostgreSQL.

Every test that asks for `database_url` (or `engine` / `session`, which build on it) runs
twice: once on a fresh SQLite file and once on PostgreSQL. Alembic runs once per session
and dialect, never per test:

- SQLite: one template file is migrated, then copied for each test.
- PostgreSQL (`TEST_POSTGRES_URL`, default postgres@127.0.0.1:5432/test): the `public`
  schema is dropped, re-created and migrated once; each test starts from TRUNCATEd tables.
  An unreachable server skips those tests locally but FAILS them when `CI` is set.

Generic on purpose: no Reflex and no browser here (tests/state and tests/e2e add their own
conftest.py files).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel

import cloodot_app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from cloodot_app.db import make_engine, migrate
from cloodot_app.services.workspaces import ensure_workspace

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Advisory lock a test session holds on the PostgreSQL test database: two pytest runs
# against the same database (two terminals, two people) take turns instead of dropping the
# schema under each other.
POSTGRES_LOCK_KEY = 0x0C100D07
POSTGRES_LOCK_WAIT_SECONDS = 600

DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def postgres_test_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def app_tables() -> list[str]:
    """Every table the models define (not alembic_version, not the search index)."""
    return [table.name for table in SQLModel.metadata.sorted_tables]


def _postgres_unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(
            f"{message}. CI is set, so the PostgreSQL tests must run: start PostgreSQL or "
            "point TEST_POSTGRES_URL at one.",
            pytrace=False,
        )
    pytest.skip(message)


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The PostgreSQL test URL once the server answers (skip, or fail under CI, if not)."""
    url = postgres_test_url()
    probe = sa.create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    problem = None
    try:
        with probe.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as error:
        lines = str(getattr(error, "orig", error)).strip().splitlines()
        problem = lines[0] if lines else type(error).__name__
    finally:
        probe.dispose()
    if problem is not None:
        _postgres_unavailable(f"PostgreSQL not reachable at {shown_url(url)} ({problem})")
    return url


def _take_turn(lock: sa.Connection, url: str) -> None:
    """Hold the session-level advisory lock, waiting for another run to finish if need be."""
    deadline = time.monotonic() + POSTGRES_LOCK_WAIT_SECONDS
    statement = sa.text("SELECT pg_try_advisory_lock(:key)")
    while not lock.execute(statement, {"key": POSTGRES_LOCK_KEY}).scalar_one():
        lock.commit()
        if time.monotonic() > deadline:
            pytest.fail(
                f"Another test run has held {shown_url(url)} for over "
                f"{POSTGRES_LOCK_WAIT_SECONDS} s; set TEST_POSTGRES_URL to another database.",
                pytrace=False,
            )
        time.sleep(0.5)
    lock.commit()  # the lock belongs to the connection; no transaction stays open


@pytest.fixture(scope="session")
def postgres_admin_engine(postgres_server_url: str) -> Iterator[sa.Engine]:
    """The PostgreSQL test database, wiped and migrated to head once per session."""
    engine = sa.create_engine(postgres_server_url, pool_size=1, max_overflow=2)
    lock = sa.create_engine(postgres_server_url, poolclass=NullPool).connect()
    try:
        _take_turn(lock, postgres_server_url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        migrate(postgres_server_url)
        yield engine
    finally:
        engine.dispose()
        lock.close()  # releases the advisory lock


def truncate_postgres(engine: sa.Engine) -> None:
    tables = ", ".join(f'"{name}"' for name in app_tables())
    with engine.begin() as connection:
        # A test that leaked an open transaction must not hang the next one forever.
        connection.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
        connection.execute(sa.text(f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE"))


# --------------------------------------------------------------------------- SQLite


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One SQLite file migrated to head; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate(f"sqlite:///{path}")
    # Fold the WAL into the main file, so that copying that one file copies everything.
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()
    return path


# --------------------------------------------------------------------------- per test


@pytest.fixture(params=DIALECTS)
def database_url(request, tmp_path: Path) -> str:
    """A migrated, empty database: a fresh SQLite file, or truncated PostgreSQL tables."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    admin: sa.Engine = request.getfixturevalue("postgres_admin_engine")
    truncate_postgres(admin)
    return admin.url.render_as_string(hide_password=False)


@pytest.fixture
def dialect(database_url: str) -> str:
    """ "sqlite" or "postgresql": which database this run of the test is on."""
    return sa.engine.make_url(database_url).get_backend_name()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    """A session like the app's (`db.session_scope`); tests commit or flush themselves."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
        session.rollback()


@pytest.fixture
def make_workspace(session: Session) -> Callable[..., int]:
    """Create (or find) a workspace by slug, committed; returns its id."""

    def make(slug: str = "acme", name: str | None = None) -> int:
        workspace = ensure_workspace(session, slug, name)
        session.commit()
        assert workspace.id is not None
        return workspace.id

    return make


@pytest.fixture
def workspace_id(make_workspace: Callable[..., int]) -> int:
    return make_workspace("acme", "Acme")


def member_session(
    session: Session, workspace_id: int, role: str = "admin", email: str | None = None
) -> str:
    """A member of `workspace_id` with `role` and a session of theirs, committed: the
    session token (what the browser's HttpOnly cookie holds)."""
    from cloodot_app.services import accounts

    email = email or f"{role}-{workspace_id}@example.com"
    user = accounts.user_by_email(session, email) or accounts.create_user(
        session, email, role.title(), "correct horse battery"
    )
    accounts.add_member(session, workspace_id, user.id, role)
    token = accounts.start_session(session, user.id, workspace_id)
    session.commit()
    return token


def session_cookie(token: str) -> dict[str, str]:
    """The Cookie header a signed-in browser sends."""
    from cloodot_app.state.access import SESSION_COOKIE

    return {"cookie": f"{SESSION_COOKIE}={token}"}
