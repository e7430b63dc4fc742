"""Members and roles, invitations, password resets, demo users and ingestion-token rotation."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from cloodot_app.access import Role
from cloodot_app.errors import AccessDenied, AccountError, AuthError, NotFound, PasswordError
from cloodot_app.models import AuditEntry, Invitation, PasswordReset, User, Workspace, utcnow
from cloodot_app.services import accounts, audit
from cloodot_app.services.accounts import LoginLimiter
from cloodot_app.services.workspaces import rotate_ingest_token, workspace_by_token
from tests.unit.accounts_helpers import (
    PASSWORD,
    all_text_in,
    isolate_accounts,
    make_member,
    sign_in_as,
    use_settings,
)

NEW_PASSWORD = "a brand new secret"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    isolate_accounts(monkeypatch)


@pytest.fixture
def team(session, workspace_id):
    """Acme: one admin (Ada), one manager (Max), one agent (Abe), each signed in."""
    people = {}
    for email, role in [
        ("ada@acme.example", Role.ADMIN),
        ("max@acme.example", Role.MANAGER),
        ("abe@acme.example", Role.AGENT),
    ]:
        user = make_member(session, workspace_id, email, role)
        token, identity = sign_in_as(session, user, workspace_id)
        people[role] = (user, token, identity)
    return people


def actions(session, workspace_id):
    rows, _ = audit.list_entries(session, workspace_id)
    return [row.action for row in rows]


# --------------------------------------------------------------------------- members


def test_list_members_shows_each_with_role(session, workspace_id, team, make_workspace):
    other = make_workspace("globex")
    make_member(session, other, "zed@globex.example", Role.ADMIN)
    members = accounts.list_members(session, workspace_id)
    assert {(m.email, m.role) for m in members} == {
        ("ada@acme.example", Role.ADMIN),
        ("max@acme.example", Role.MANAGER),
        ("abe@acme.example", Role.AGENT),
    }


def test_change_role_takes_effect_and_ends_that_members_sessions(session, workspace_id, team):
    admin = team[Role.ADMIN][2]
    abe, abe_token, _ = team[Role.AGENT]
    accounts.change_role(session, workspace_id, admin, abe.id, Role.MANAGER)
    session.commit()
    assert accounts.resolve_session(session, abe_token) is None
    _, fresh = sign_in_as(session, abe, workspace_id)
    assert fresh.role is Role.MANAGER
    assert "members.role_change" in actions(session, workspace_id)
    # Other members' sessions are untouched.
    assert accounts.resolve_session(session, team[Role.MANAGER][1]) is not None


def test_removing_a_member_signs_them_out_at_once(session, workspace_id, team):
    admin = team[Role.ADMIN][2]
    max_, max_token, _ = team[Role.MANAGER]
    assert accounts.resolve_session(session, max_token) is not None
    accounts.remove_member(session, workspace_id, admin, max_.id)
    session.commit()
    assert accounts.resolve_session(session, max_token) is None
    assert max_.id not in {m.user_id for m in accounts.list_members(session, workspace_id)}
    with pytest.raises(AccessDenied):
        accounts.start_session(session, max_.id, workspace_id)
    entry = audit.list_entries(session, workspace_id, action="members.remove")[0][0]
    assert entry.actor_user_id == admin.user_id
    assert entry.details["email"] == "max@acme.example"


def test_removing_a_member_keeps_their_sessions_in_other_workspaces(
    session, workspace_id, team, make_workspace
):
    globex = make_workspace("globex")
    max_ = team[Role.MANAGER][0]
    make_member(session, globex, "max@acme.example", Role.AGENT)
    globex_token, _ = sign_in_as(session, max_, globex)
    accounts.remove_member(session, workspace_id, team[Role.ADMIN][2], max_.id)
    session.commit()
    assert accounts.resolve_session(session, globex_token).workspace_id == globex


def test_a_session_whose_membership_vanished_resolves_to_no_one(session, workspace_id, team):
    """Even without the revocation (a membership deleted by any other path)."""
    abe, abe_token, _ = team[Role.AGENT]
    session.execute(sa.text("DELETE FROM membership WHERE user_id = :u"), {"u": abe.id})
    session.commit()
    assert accounts.resolve_session(session, abe_token) is None


def test_the_last_admin_cannot_be_demoted_or_removed(session, workspace_id, team):
    ada, ada_token, admin = team[Role.ADMIN]
    with pytest.raises(AccountError, match="at least one admin"):
        accounts.change_role(session, workspace_id, admin, ada.id, Role.MANAGER)
    with pytest.raises(AccountError, match="at least one admin"):
        accounts.remove_member(session, workspace_id, admin, ada.id)
    with pytest.raises(AccountError, match="at least one admin"):
        accounts.remove_member(session, workspace_id, None, ada.id)  # not even from the CLI
    session.rollback()
    assert accounts.resolve_session(session, ada_token).role is Role.ADMIN


def test_with_a_second_admin_an_admin_may_step_down(session, workspace_id, team):
    ada, _, admin = team[Role.ADMIN]
    max_ = team[Role.MANAGER][0]
    accounts.change_role(session, workspace_id, admin, max_.id, Role.ADMIN)
    accounts.remove_member(session, workspace_id, admin, ada.id)
    session.commit()
    assert [m.email for m in accounts.list_members(session, workspace_id) if m.role == "admin"] == [
        "max@acme.example"
    ]


def test_only_an_admin_of_this_workspace_manages_members(
    session, workspace_id, team, make_workspace
):
    abe = team[Role.AGENT][0]
    for role in (Role.AGENT, Role.MANAGER):
        with pytest.raises(AccessDenied, match="cannot manage the workspace"):
            accounts.remove_member(session, workspace_id, team[role][2], abe.id)
        with pytest.raises(AccessDenied):
            accounts.invite(session, workspace_id, team[role][2], "new@acme.example", Role.AGENT)
    globex = make_workspace("globex")
    zed = make_member(session, globex, "zed@globex.example", Role.ADMIN)
    _, globex_admin = sign_in_as(session, zed, globex)
    with pytest.raises(AccessDenied, match="another workspace"):
        accounts.remove_member(session, workspace_id, globex_admin, abe.id)
    with pytest.raises(AccessDenied):
        accounts.change_role(session, workspace_id, globex_admin, abe.id, Role.ADMIN)
    session.rollback()
    assert len(accounts.list_members(session, workspace_id)) == 3


def test_changing_someone_who_is_not_a_member_is_not_found(session, workspace_id, team):
    with pytest.raises(NotFound):
        accounts.change_role(session, workspace_id, team[Role.ADMIN][2], 999_999, Role.AGENT)


# --------------------------------------------------------------------------- invitations


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def test_an_invitation_creates_the_account_and_the_membership(session, workspace_id, team):
    invitation, token = accounts.invite(
        session, workspace_id, team[Role.ADMIN][2], "New.Person@Acme.example", Role.MANAGER
    )
    session.commit()
    assert invitation.email == "new.person@acme.example"
    assert token not in all_text_in(session, "invitation")
    link = accounts.invitation_link(token)
    assert link.startswith("http://localhost:3000/accept-invitation?token=")
    assert token_of(link) == token

    details = accounts.invitation_details(session, token)
    assert (details.email, details.workspace_name, details.role, details.has_account) == (
        "new.person@acme.example",
        "Acme",
        Role.MANAGER,
        False,
    )
    user = accounts.accept_invitation(session, token, "New Person", NEW_PASSWORD)
    session.commit()
    assert (user.email, user.name) == ("new.person@acme.example", "New Person")
    assert accounts.user_workspaces(session, user.id)[0].role is Role.MANAGER
    limiter = LoginLimiter()
    assert accounts.authenticate(session, user.email, NEW_PASSWORD, limiter=limiter).id == user.id
    assert {"members.invite", "members.join"} <= set(actions(session, workspace_id))


def test_an_invitation_works_once(session, workspace_id, team):
    _, token = accounts.invite(session, workspace_id, None, "new@acme.example", Role.AGENT)
    accounts.accept_invitation(session, token, "New", NEW_PASSWORD)
    session.commit()
    with pytest.raises(AccountError, match="expired or was already used"):
        accounts.accept_invitation(session, token, "New", NEW_PASSWORD)


def test_an_expired_invitation_is_refused(session, workspace_id, monkeypatch):
    use_settings(monkeypatch, invitation_days=7)
    start = utcnow()
    _, token = accounts.invite(session, workspace_id, None, "new@acme.example", "agent", now=start)
    with pytest.raises(AccountError, match="expired"):
        accounts.accept_invitation(
            session, token, "New", NEW_PASSWORD, now=start + timedelta(days=7, seconds=1)
        )
    assert accounts.list_invitations(session, workspace_id, now=start + timedelta(days=8)) == []


def test_inviting_again_replaces_the_open_invitation(session, workspace_id, team):
    admin = team[Role.ADMIN][2]
    _, first = accounts.invite(session, workspace_id, admin, "new@acme.example", Role.AGENT)
    _, second = accounts.invite(session, workspace_id, admin, "NEW@acme.example", Role.MANAGER)
    session.commit()
    pending = accounts.list_invitations(session, workspace_id)
    assert [(p.email, p.role, p.invited_by_name) for p in pending] == [
        ("new@acme.example", Role.MANAGER, "Ada")
    ]
    with pytest.raises(AccountError):
        accounts.accept_invitation(session, first, "New", NEW_PASSWORD)
    user = accounts.accept_invitation(session, second, "New", NEW_PASSWORD)
    assert accounts.user_workspaces(session, user.id)[0].role is Role.MANAGER


def test_inviting_a_member_says_they_already_are(session, workspace_id, team):
    with pytest.raises(AccountError, match="already a member"):
        accounts.invite(session, workspace_id, None, "abe@acme.example", Role.ADMIN)


def test_an_existing_account_joins_with_its_own_password(
    session, workspace_id, team, make_workspace
):
    globex = make_workspace("globex", "Globex")
    _, token = accounts.invite(session, globex, None, "abe@acme.example", Role.ADMIN)
    assert accounts.invitation_details(session, token).has_account is True
    with pytest.raises(AuthError, match="enter its password"):
        accounts.accept_invitation(session, token, "Abe", "not abe's password")
    abe = accounts.accept_invitation(session, token, "ignored", PASSWORD)
    session.commit()
    assert abe.id == team[Role.AGENT][0].id
    assert {(c.name, c.role) for c in accounts.user_workspaces(session, abe.id)} == {
        ("Acme", Role.AGENT),
        ("Globex", Role.ADMIN),
    }
    # The link never changed the existing password.
    assert accounts.authenticate(session, "abe@acme.example", PASSWORD, limiter=LoginLimiter())


def test_a_weak_password_on_an_invitation_keeps_the_link_open(session, workspace_id):
    _, token = accounts.invite(session, workspace_id, None, "new@acme.example", Role.AGENT)
    session.commit()
    with pytest.raises(PasswordError):
        accounts.accept_invitation(session, token, "New", "short")
    session.rollback()
    assert accounts.accept_invitation(session, token, "New", NEW_PASSWORD)


def test_an_invitation_can_be_withdrawn(session, workspace_id, team):
    invitation, token = accounts.invite(session, workspace_id, None, "new@acme.example", "agent")
    accounts.revoke_invitation(session, workspace_id, team[Role.ADMIN][2], invitation.id)
    session.commit()
    with pytest.raises(AccountError):
        accounts.invitation_details(session, token)
    assert "members.invitation_revoke" in actions(session, workspace_id)


def test_unknown_role_is_refused_in_words(session, workspace_id):
    with pytest.raises(AccountError, match="Unknown role 'owner'"):
        accounts.invite(session, workspace_id, None, "new@acme.example", "owner")


# --------------------------------------------------------------------------- password reset


def test_a_reset_sets_the_password_and_ends_every_session(session, workspace_id, team):
    abe_token = team[Role.AGENT][1]
    token = accounts.request_password_reset(session, "ABE@acme.example")
    session.commit()
    assert token and token not in all_text_in(session, "password_reset")
    assert accounts.password_reset_link(token).startswith("http://localhost:3000/reset-password?")
    accounts.reset_password(session, token, NEW_PASSWORD)
    session.commit()
    assert accounts.resolve_session(session, abe_token) is None
    limiter = LoginLimiter()
    assert accounts.authenticate(session, "abe@acme.example", NEW_PASSWORD, limiter=limiter)
    with pytest.raises(AuthError):
        accounts.authenticate(session, "abe@acme.example", PASSWORD, limiter=limiter)


def test_a_reset_for_an_unknown_email_answers_none(session):
    assert accounts.request_password_reset(session, "nobody@acme.example") is None
    assert session.execute(sa.select(sa.func.count()).select_from(PasswordReset)).scalar() == 0


def test_a_reset_link_works_once(session, workspace_id, team):
    token = accounts.request_password_reset(session, "abe@acme.example")
    accounts.reset_password(session, token, NEW_PASSWORD)
    session.commit()
    with pytest.raises(AccountError, match="expired or was already used"):
        accounts.reset_password(session, token, "another new secret")


def test_a_reset_link_expires_after_an_hour(session, workspace_id, team):
    start = utcnow()
    token = accounts.request_password_reset(session, "abe@acme.example", now=start)
    with pytest.raises(AccountError, match="expired"):
        accounts.reset_password(session, token, NEW_PASSWORD, now=start + timedelta(minutes=61))
    accounts.reset_password(session, token, NEW_PASSWORD, now=start + timedelta(minutes=59))


def test_only_the_newest_reset_link_works(session, workspace_id, team):
    old = accounts.request_password_reset(session, "abe@acme.example")
    new = accounts.request_password_reset(session, "abe@acme.example")
    with pytest.raises(AccountError):
        accounts.reset_password(session, old, NEW_PASSWORD)
    accounts.reset_password(session, new, NEW_PASSWORD)


def test_a_reset_keeps_the_password_rules(session, workspace_id, team):
    token = accounts.request_password_reset(session, "abe@acme.example")
    with pytest.raises(PasswordError, match="cannot be your email"):
        accounts.reset_password(session, token, "abe@acme.example")
    # The link is still good after a refused password.
    accounts.reset_password(session, token, NEW_PASSWORD)


# --------------------------------------------------------------------------- demo


def test_demo_users_one_per_role_no_password_opens(session, workspace_id):
    users = accounts.ensure_demo_users(session, workspace_id)
    again = accounts.ensure_demo_users(session, workspace_id)
    session.commit()
    assert {role: u.id for role, u in users.items()} == {role: u.id for role, u in again.items()}
    assert {u.email for u in users.values()} == {
        "demo-admin@example.com",
        "demo-manager@example.com",
        "demo-agent@example.com",
    }
    assert {
        (m.email.split("@")[0], m.role) for m in accounts.list_members(session, workspace_id)
    } == {
        ("demo-admin", Role.ADMIN),
        ("demo-manager", Role.MANAGER),
        ("demo-agent", Role.AGENT),
    }
    for user in users.values():
        assert user.password_hash.startswith("!")
        for guess in ["", user.password_hash, user.password_hash[1:]]:
            with pytest.raises(AuthError):
                accounts.authenticate(session, user.email, guess, limiter=LoginLimiter())


def test_demo_sign_in_only_in_demo_mode(session, workspace_id, monkeypatch):
    use_settings(monkeypatch, demo_mode=False)
    with pytest.raises(AccessDenied, match="turned off"):
        accounts.start_demo_session(session, workspace_id, Role.AGENT)
    use_settings(monkeypatch, demo_mode=True)
    for role in Role:
        token = accounts.start_demo_session(session, workspace_id, role)
        identity = accounts.resolve_session(session, token)
        assert (identity.role, identity.email) == (role, f"demo-{role.value}@example.com")


def test_demo_mode_is_off_unless_the_variable_says_on(monkeypatch):
    from cloodot_app.settings import Settings

    monkeypatch.delenv("CLOODOT_DEMO_MODE", raising=False)
    assert Settings().demo_mode is False
    for on in ["1", "true", "yes", "on"]:
        monkeypatch.setenv("CLOODOT_DEMO_MODE", on)
        assert Settings().demo_mode is True
    monkeypatch.setenv("CLOODOT_DEMO_MODE", "0")
    assert Settings().demo_mode is False


# --------------------------------------------------------------------------- ingestion token


def test_rotating_the_ingest_token_stops_the_old_one_at_once(session, workspace_id, team):
    old = session.get(Workspace, workspace_id).ingest_token
    new = rotate_ingest_token(session, workspace_id, team[Role.ADMIN][2])
    session.commit()
    assert new != old
    assert workspace_by_token(session, old) is None
    assert workspace_by_token(session, new).id == workspace_id
    entry = session.execute(sa.select(AuditEntry)).scalars().one()
    assert (entry.action, entry.actor_user_id) == (
        "workspace.ingest_token_rotate",
        team[Role.ADMIN][0].id,
    )
    assert new not in entry.summary and new not in str(entry.details)


def test_only_an_admin_rotates_the_ingest_token(session, workspace_id, team):
    old = session.get(Workspace, workspace_id).ingest_token
    for role in (Role.AGENT, Role.MANAGER):
        with pytest.raises(AccessDenied):
            rotate_ingest_token(session, workspace_id, team[role][2])
    session.rollback()
    assert session.get(Workspace, workspace_id).ingest_token == old


def test_deleting_a_user_keeps_the_audit_entries_they_made(session, workspace_id, team):
    admin = team[Role.ADMIN][2]
    accounts.remove_member(session, workspace_id, admin, team[Role.AGENT][0].id)
    session.commit()
    session.execute(sa.delete(User).where(User.id == admin.user_id))
    session.commit()
    rows, total = audit.list_entries(session, workspace_id)
    assert total == 1 and rows[0].actor_user_id is None and rows[0].action == "members.remove"
    assert session.execute(sa.select(sa.func.count()).select_from(Invitation)).scalar() == 0


def test_two_admins_demoting_each_other_at_once_leave_one_admin(engine, workspace_id):
    """Both requests read "two admins" before either writes: the workspace lock makes
    the second wait and count again."""
    import threading

    from cloodot_app.db import session_scope

    with session_scope(engine) as session:
        ada = make_member(session, workspace_id, "ada@acme.example", Role.ADMIN)
        bea = make_member(session, workspace_id, "bea@acme.example", Role.ADMIN)
        identities = {
            ada.id: sign_in_as(session, ada, workspace_id)[1],
            bea.id: sign_in_as(session, bea, workspace_id)[1],
        }
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def demote(actor_id: int, target_id: int) -> None:
        barrier.wait()
        try:
            with session_scope(engine) as session:
                accounts.change_role(
                    session, workspace_id, identities[actor_id], target_id, Role.AGENT
                )
            outcomes[actor_id] = "done"
        except AccountError:
            outcomes[actor_id] = "refused"

    threads = [
        threading.Thread(target=demote, args=(ada.id, bea.id)),
        threading.Thread(target=demote, args=(bea.id, ada.id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["done", "refused"]
    with session_scope(engine) as session:
        roles = [m.role for m in accounts.list_members(session, workspace_id)]
    assert sorted(roles) == [Role.ADMIN, Role.AGENT]


def test_authorize_resolves_and_checks_in_one_call(session, workspace_id, team):
    from cloodot_app.access import Capability

    _, manager_token, manager = team[Role.MANAGER]
    assert accounts.authorize(session, manager_token, Capability.EXPORT) == manager
    with pytest.raises(AccessDenied, match=r"Your role \(Manager\) cannot manage"):
        accounts.authorize(session, manager_token, Capability.MANAGE_WORKSPACE)
    with pytest.raises(AccessDenied, match="Sign in"):
        accounts.authorize(session, "made-up", Capability.VIEW)


def test_reset_requests_are_limited_per_email(session, workspace_id, team):
    limiter = LoginLimiter(resets_per_account="2 per hour")
    tokens = [
        accounts.request_password_reset(session, "abe@acme.example", limiter=limiter)
        for _ in range(3)
    ]
    assert [bool(t) for t in tokens] == [True, True, False]
    # Another email is not affected; the operator's command is never limited.
    assert accounts.request_password_reset(session, "max@acme.example", limiter=limiter)
    assert accounts.request_password_reset(
        session, "abe@acme.example", limiter=limiter, rate_limited=False
    )
