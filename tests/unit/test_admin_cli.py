"""`python -m cloodot_app.admin`: first user, invitations, reset links, users, token rotation."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest

from cloodot_app.access import Role
from cloodot_app.admin import main
from cloodot_app.db import make_engine, session_scope
from cloodot_app.models import Workspace
from cloodot_app.services import accounts, audit
from cloodot_app.services.accounts import LoginLimiter
from cloodot_app.services.workspaces import ensure_workspace, workspace_by_slug, workspace_by_token
from tests.unit.accounts_helpers import isolate_accounts

PASSWORD = "first admin password"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    isolate_accounts(monkeypatch)


@pytest.fixture
def db(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def run(database_url: str, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        list(argv), database_url=database_url, stdin=io.StringIO(stdin), stdout=out, stderr=err
    )
    return code, out.getvalue(), err.getvalue()


def create_admin(database_url: str, email: str = "root@acme.example") -> None:
    code, _, err = run(
        database_url,
        *("create-user", "--email", email, "--name", "Root", "--role", "admin"),
        *("--workspace", "acme", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err


def test_create_user_makes_the_first_admin_and_its_workspace(database_url, db):
    code, out, _ = run(
        database_url,
        *("create-user", "--email", "Root@Acme.example", "--name", "Root"),
        *("--role", "admin", "--workspace", "acme", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    assert code == 0
    assert "Created workspace acme." in out and "root@acme.example is Admin of acme." in out
    with session_scope(db) as session:
        user = accounts.authenticate(session, "root@acme.example", PASSWORD, limiter=LoginLimiter())
        [choice] = accounts.user_workspaces(session, user.id)
        assert (choice.slug, choice.role) == ("acme", Role.ADMIN)
        entries, _ = audit.list_entries(session, choice.workspace_id)
        assert [(e.action, e.actor_kind) for e in entries] == [("members.add", "system")]


def test_create_user_asks_twice_on_a_terminal(database_url, db, monkeypatch):
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt, stream=None: next(answers))

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out, err = io.StringIO(), io.StringIO()
    argv = ["create-user", "--email", "ana@acme.example", "--workspace", "acme"]
    assert main(argv, database_url=database_url, stdin=Terminal(), stdout=out, stderr=err) == 0
    with session_scope(db) as session:
        assert accounts.authenticate(session, "ana@acme.example", PASSWORD, limiter=LoginLimiter())


def test_create_user_without_a_terminal_or_stdin_flag_explains(database_url):
    code, _, err = run(database_url, "create-user", "--email", "ana@acme.example")
    assert code == 1 and "--password-stdin" in err


def test_create_user_refuses_a_weak_password_and_changes_nothing(database_url, db):
    code, _, err = run(
        database_url,
        *("create-user", "--email", "ana@acme.example", "--password-stdin"),
        stdin="short\n",
    )
    assert code == 1 and "at least 10 characters" in err
    with session_scope(db) as session:
        assert accounts.user_by_email(session, "ana@acme.example") is None
        assert workspace_by_slug(session, "demo") is None


def test_create_user_for_an_existing_account_adds_the_membership(database_url, db):
    create_admin(database_url)
    code, out, _ = run(
        database_url,
        *(
            "create-user",
            "--email",
            "root@acme.example",
            "--role",
            "agent",
            "--workspace",
            "globex",
        ),
    )
    assert code == 0 and "password is unchanged" in out
    with session_scope(db) as session:
        user = accounts.user_by_email(session, "root@acme.example")
        assert {(c.slug, c.role) for c in accounts.user_workspaces(session, user.id)} == {
            ("acme", Role.ADMIN),
            ("globex", Role.AGENT),
        }


def test_create_user_cannot_demote_the_last_admin(database_url, db):
    create_admin(database_url)
    code, _, err = run(
        database_url,
        *("create-user", "--email", "root@acme.example", "--role", "agent", "--workspace", "acme"),
    )
    assert code == 1 and "at least one admin" in err


def test_invite_prints_a_link_that_works(database_url, db):
    create_admin(database_url)
    code, out, _ = run(
        database_url,
        "invite",
        "--email",
        "new@acme.example",
        "--role",
        "manager",
        "--workspace",
        "acme",
    )
    assert code == 0
    link = out.strip().splitlines()[0]
    token = parse_qs(urlsplit(link).query)["token"][0]
    with session_scope(db) as session:
        user = accounts.accept_invitation(session, token, "New", "a good new password")
        assert accounts.user_workspaces(session, user.id)[0].role is Role.MANAGER


def test_invite_to_an_unknown_workspace_is_an_error(database_url):
    code, _, err = run(database_url, "invite", "--email", "x@acme.example", "--workspace", "nope")
    assert code == 1 and "No workspace 'nope'" in err


def test_reset_link_prints_a_working_link(database_url, db):
    create_admin(database_url)
    code, out, _ = run(database_url, "reset-link", "--email", "ROOT@acme.example")
    assert code == 0
    token = parse_qs(urlsplit(out.strip()).query)["token"][0]
    with session_scope(db) as session:
        accounts.reset_password(session, token, "another good password")
    code, _, err = run(database_url, "reset-link", "--email", "nobody@acme.example")
    assert code == 1 and "No active account" in err


def test_list_users_shows_workspaces_and_roles(database_url):
    code, out, _ = run(database_url, "list-users")
    assert code == 0 and "No users yet" in out
    create_admin(database_url)
    run(
        database_url,
        "create-user",
        "--email",
        "root@acme.example",
        "--role",
        "agent",
        "--workspace",
        "globex",
    )
    code, out, _ = run(database_url, "list-users")
    assert out.strip() == "root@acme.example\tRoot\tacme:admin, globex:agent"


def test_rotate_token_prints_the_new_token_and_the_old_one_stops(database_url, db):
    with session_scope(db) as session:
        old = ensure_workspace(session, "acme").ingest_token
    code, out, _ = run(database_url, "rotate-token", "--workspace", "acme")
    new = out.strip()
    assert code == 0 and new and new != old
    with session_scope(db) as session:
        assert workspace_by_token(session, old) is None
        assert workspace_by_token(session, new).slug == "acme"
        assert session.get(Workspace, workspace_by_token(session, new).id).ingest_token == new
