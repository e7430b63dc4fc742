"""The services behind Settings → Members that the page added: an admin's password reset
link for a member, and the ingestion token's hint (its last characters only)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from cloodot_app import routes
from cloodot_app.access import Role
from cloodot_app.errors import AccessDenied, AccountError, AuthError, NotFound
from cloodot_app.models import PasswordReset, User, Workspace, utcnow
from cloodot_app.services import accounts, audit
from cloodot_app.services.workspaces import (
    ingest_token_hint,
    rotate_ingest_token,
    workspace_by_token,
)
from cloodot_app.settings import settings
from tests.unit.accounts_helpers import PASSWORD, isolate_accounts, make_member, sign_in_as

NEW_PASSWORD = "a brand new secret"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    isolate_accounts(monkeypatch)


@pytest.fixture
def team(session, workspace_id):
    """Acme: an admin (Ada) and an agent (Abe), each signed in."""
    people = {}
    for email, role in [("ada@acme.example", Role.ADMIN), ("abe@acme.example", Role.AGENT)]:
        user = make_member(session, workspace_id, email, role)
        token, identity = sign_in_as(session, user, workspace_id)
        people[role] = (user, token, identity)
    return people


def _token(link: str) -> str:
    parts = urlsplit(link)
    assert parts.path == routes.RESET_PASSWORD
    return parse_qs(parts.query)["token"][0]


# --------------------------------------------------------------------------- reset links


def test_an_admins_reset_link_lets_the_member_set_a_new_password(session, workspace_id, team):
    admin = team[Role.ADMIN][2]
    abe, abe_token, _ = team[Role.AGENT]
    link = accounts.member_reset_link(session, workspace_id, admin, abe.id)
    session.commit()
    assert link.startswith(f"{settings.app_url}{routes.RESET_PASSWORD}?token=")
    accounts.reset_password(session, _token(link), NEW_PASSWORD)
    session.commit()
    assert accounts.authenticate(session, abe.email, NEW_PASSWORD).id == abe.id
    # Setting the new password ended Abe's sessions; making the link did not end them before.
    assert accounts.resolve_session(session, abe_token) is None


def test_making_a_reset_link_is_audited_and_leaves_sessions_alone(session, workspace_id, team):
    admin = team[Role.ADMIN][2]
    abe, abe_token, _ = team[Role.AGENT]
    accounts.member_reset_link(session, workspace_id, admin, abe.id)
    session.commit()
    assert accounts.resolve_session(session, abe_token) is not None
    rows, _ = audit.list_entries(session, workspace_id, action="members.reset_link")
    assert [(r.actor_user_id, r.details["email"]) for r in rows] == [(admin.user_id, abe.email)]
    assert "abe@acme.example" in rows[0].summary


def test_only_the_newest_reset_link_works(session, workspace_id, team):
    admin = team[Role.ADMIN][2]
    abe = team[Role.AGENT][0]
    first = accounts.member_reset_link(session, workspace_id, admin, abe.id)
    second = accounts.member_reset_link(session, workspace_id, admin, abe.id)
    session.commit()
    with pytest.raises(AccountError):
        accounts.reset_password(session, _token(first), NEW_PASSWORD)
    accounts.reset_password(session, _token(second), NEW_PASSWORD)


def test_reset_links_are_not_rate_limited_for_admins(session, workspace_id, team):
    """The public "Forgot password" form allows 3 an hour; an admin is not held to it."""
    admin = team[Role.ADMIN][2]
    abe = team[Role.AGENT][0]
    links = {accounts.member_reset_link(session, workspace_id, admin, abe.id) for _ in range(5)}
    assert len(links) == 5


def test_the_database_keeps_only_the_reset_links_hash(session, workspace_id, team):
    admin = team[Role.ADMIN][2]
    abe = team[Role.AGENT][0]
    token = _token(accounts.member_reset_link(session, workspace_id, admin, abe.id))
    stored = session.execute(
        sa.select(PasswordReset.token_hash).where(PasswordReset.user_id == abe.id)
    ).scalar_one()
    assert stored == accounts.token_hash(token) and token not in stored


def test_an_agent_cannot_make_reset_links(session, workspace_id, team):
    agent = team[Role.AGENT][2]
    admin_user = team[Role.ADMIN][0]
    with pytest.raises(AccessDenied):
        accounts.member_reset_link(session, workspace_id, agent, admin_user.id)
    assert session.execute(sa.select(sa.func.count()).select_from(PasswordReset)).scalar() == 0


def test_no_reset_link_for_someone_outside_the_workspace(
    session, workspace_id, team, make_workspace
):
    other = make_workspace("globex")
    zed = make_member(session, other, "zed@globex.example", Role.AGENT)
    admin = team[Role.ADMIN][2]
    with pytest.raises(NotFound):
        accounts.member_reset_link(session, workspace_id, admin, zed.id)
    with pytest.raises(NotFound):
        accounts.member_reset_link(session, workspace_id, admin, 987654)
    assert session.execute(sa.select(sa.func.count()).select_from(PasswordReset)).scalar() == 0


def test_an_admin_of_another_workspace_cannot_make_links_here(
    session, workspace_id, team, make_workspace
):
    other = make_workspace("globex")
    zed = make_member(session, other, "zed@globex.example", Role.ADMIN)
    _, intruder = sign_in_as(session, zed, other)
    with pytest.raises(AccessDenied):
        accounts.member_reset_link(session, workspace_id, intruder, team[Role.AGENT][0].id)


def test_no_reset_link_for_a_disabled_account(session, workspace_id, team):
    abe = team[Role.AGENT][0]
    session.execute(sa.update(User).where(User.id == abe.id).values(disabled_at=utcnow()))
    with pytest.raises(AccountError, match="disabled"):
        accounts.member_reset_link(session, workspace_id, team[Role.ADMIN][2], abe.id)


def test_the_server_itself_may_make_a_reset_link(session, workspace_id, team):
    """No actor: the admin CLI (an operator on the server)."""
    abe = team[Role.AGENT][0]
    link = accounts.member_reset_link(session, workspace_id, None, abe.id)
    accounts.reset_password(session, _token(link), NEW_PASSWORD)
    assert accounts.authenticate(session, abe.email, NEW_PASSWORD).id == abe.id
    with pytest.raises(AuthError):
        accounts.authenticate(session, abe.email, PASSWORD)


# --------------------------------------------------------------------------- token hint


def test_the_token_hint_is_the_last_four_characters_only(session, workspace_id):
    token = session.get(Workspace, workspace_id).ingest_token
    hint = ingest_token_hint(session, workspace_id)
    assert hint == token[-4:] and len(hint) == 4


def test_the_token_hint_follows_a_rotation(session, workspace_id, team):
    new = rotate_ingest_token(session, workspace_id, team[Role.ADMIN][2])
    assert ingest_token_hint(session, workspace_id) == new[-4:]
    assert workspace_by_token(session, new).id == workspace_id


def test_each_workspace_has_its_own_hint(session, workspace_id, make_workspace):
    other = make_workspace("globex")
    tokens = {ws: session.get(Workspace, ws).ingest_token[-4:] for ws in (workspace_id, other)}
    assert {ws: ingest_token_hint(session, ws) for ws in (workspace_id, other)} == tokens


def test_no_hint_for_a_workspace_that_does_not_exist(session):
    with pytest.raises(NotFound):
        ingest_token_hint(session, 987654)


def test_the_demo_admin_cannot_change_the_team_or_the_token(session, workspace_id, monkeypatch):
    """Anyone can sign in as the demo admin: they may look at the Members page, not lock
    the demo's other visitors out."""
    from cloodot_app.errors import AccessDenied
    from cloodot_app.services import accounts
    from cloodot_app.services.workspaces import rotate_ingest_token

    users = accounts.ensure_demo_users(session, workspace_id)
    token = accounts.start_session(session, users["admin"].id, workspace_id)
    demo_admin = accounts.resolve_session(session, token)
    assert demo_admin is not None and demo_admin.demo
    member = users["agent"].id
    for attempt in (
        lambda: accounts.remove_member(session, workspace_id, demo_admin, member),
        lambda: accounts.change_role(session, workspace_id, demo_admin, member, "admin"),
        lambda: accounts.invite(session, workspace_id, demo_admin, "x@example.org", "agent"),
        lambda: rotate_ingest_token(session, workspace_id, demo_admin),
    ):
        with pytest.raises(AccessDenied, match="In the demo, the team and the ingestion token"):
            attempt()
