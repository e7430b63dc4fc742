"""Settings → Members' handlers: the members table (roles, removal, "(you)"), invitations
(the one-time link, mail when a server is configured, revoking), a member's reset link
and the ingestion token's rotation."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

import cloodot_app.state.members as members_module
from cloodot_app.db import session_scope
from cloodot_app.errors import AccountError, MailError
from cloodot_app.models import AuditEntry, Invitation, Membership, Workspace
from cloodot_app.services import accounts
from cloodot_app.services.accounts.members import LAST_ADMIN_REFUSED
from cloodot_app.services.workspaces import workspace_by_token
from cloodot_app.state.members import ChannelsState, InviteState, MembersState, ResetLinkState
from tests.state.conftest import Tab, drain, run
from tests.unit.accounts_helpers import isolate_accounts

NEW_PASSWORD = "a brand new secret"


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    isolate_accounts(monkeypatch)


@pytest.fixture
def team(workspace) -> dict[str, tuple[Tab, int]]:
    """An admin, a manager and an agent of the workspace, each signed in on a tab."""
    people = {}
    for role in ("admin", "manager", "agent"):
        tab = Tab()
        people[role] = (tab, tab.sign_in(workspace, role))
    return people


@pytest.fixture
def admin_tab(team) -> Tab:
    tab = team["admin"][0]
    run(MembersState.load, tab.of(MembersState))
    return tab


def _role(workspace: int, user_id: int) -> str | None:
    with session_scope() as session:
        return session.execute(
            sa.select(Membership.role).where(
                Membership.workspace_id == workspace, Membership.user_id == user_id
            )
        ).scalar_one_or_none()


def _still_signed_in(tab: Tab) -> bool:
    from cloodot_app.state.access import resolve_identity

    return asyncio.run(resolve_identity(tab.root)) is not None


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _actions(workspace: int) -> list[str]:
    with session_scope() as session:
        return list(
            session.execute(
                sa.select(AuditEntry.action).where(AuditEntry.workspace_id == workspace)
            ).scalars()
        )


# --------------------------------------------------------------------------- members


def test_load_lists_the_members_and_marks_you(workspace, admin_tab, team):
    state = admin_tab.of(MembersState)
    assert state.loaded
    assert {(m.email, m.name, m.role) for m in state.members} == {
        (f"{role}-{workspace}@example.com", role.title(), role)
        for role in ("admin", "manager", "agent")
    }
    assert [m.user_id for m in state.members if m.is_you] == [team["admin"][1]]
    assert all(m.joined_at.endswith("+00:00") for m in state.members)
    assert {m.initials for m in state.members} == {"A", "M"}
    assert state.invitations == []


def test_changing_a_role_takes_effect_and_ends_their_sessions(workspace, admin_tab, team):
    agent_tab, agent_id = team["agent"]
    returned = run(MembersState.change_role, admin_tab.of(MembersState), agent_id, "manager")
    assert _role(workspace, agent_id) == "manager"
    assert "is now Manager" in str(returned)
    assert not _still_signed_in(agent_tab)
    row = next(m for m in admin_tab.of(MembersState).members if m.user_id == agent_id)
    assert row.role == "manager"
    assert "members.role_change" in _actions(workspace)


def test_a_refused_role_shows_the_reason_and_changes_nothing(workspace, admin_tab, team):
    agent_id = team["agent"][1]
    returned = run(MembersState.change_role, admin_tab.of(MembersState), agent_id, "owner")
    assert "Unknown role" in str(returned)
    assert _role(workspace, agent_id) == "agent"


def test_changing_your_own_role_asks_first(workspace, admin_tab, team):
    state = admin_tab.of(MembersState)
    admin_id = team["admin"][1]
    run(MembersState.change_role, state, admin_id, "agent")
    assert state.own_role == "agent" and state.own_role_label == "Agent"
    assert _role(workspace, admin_id) == "admin"
    run(MembersState.set_own_role_open, state, False)
    assert state.own_role == ""
    assert _role(workspace, admin_id) == "admin"


def test_the_last_admin_cannot_demote_themself(workspace, admin_tab, team):
    state = admin_tab.of(MembersState)
    admin_id = team["admin"][1]
    run(MembersState.change_role, state, admin_id, "manager")
    returned = run(MembersState.confirm_own_role, state)
    assert LAST_ADMIN_REFUSED in str(returned)
    assert _role(workspace, admin_id) == "admin"
    assert _still_signed_in(admin_tab)


def test_an_admin_who_is_not_the_last_may_step_down_and_signs_in_again(workspace, admin_tab, team):
    state = admin_tab.of(MembersState)
    run(MembersState.change_role, state, team["manager"][1], "admin")
    admin_id = team["admin"][1]
    run(MembersState.change_role, state, admin_id, "agent")
    returned = run(MembersState.confirm_own_role, state)
    assert _role(workspace, admin_id) == "agent"
    assert "/signin" in str(returned)
    assert not _still_signed_in(admin_tab)


def test_removing_a_member_asks_then_ends_their_sessions(workspace, admin_tab, team):
    state = admin_tab.of(MembersState)
    agent_tab, agent_id = team["agent"]
    run(MembersState.ask_remove, state, agent_id)
    assert state.remove_user_id == agent_id and not state.remove_is_you
    assert state.remove_email.startswith("agent-")
    assert _role(workspace, agent_id) == "agent"  # nothing yet
    returned = run(MembersState.confirm_remove, state)
    assert "Removed" in str(returned) and "sessions ended" in str(returned)
    assert _role(workspace, agent_id) is None
    assert not _still_signed_in(agent_tab)
    assert agent_id not in {m.user_id for m in state.members}
    assert state.remove_user_id == 0


def test_cancelling_a_removal_removes_no_one(workspace, admin_tab, team):
    state = admin_tab.of(MembersState)
    agent_id = team["agent"][1]
    run(MembersState.ask_remove, state, agent_id)
    run(MembersState.set_remove_open, state, False)
    assert run(MembersState.confirm_remove, state) is None
    assert _role(workspace, agent_id) == "agent"


def test_the_last_admin_cannot_remove_themself(workspace, admin_tab, team):
    state = admin_tab.of(MembersState)
    admin_id = team["admin"][1]
    run(MembersState.ask_remove, state, admin_id)
    assert state.remove_is_you
    returned = run(MembersState.confirm_remove, state)
    assert LAST_ADMIN_REFUSED in str(returned)
    assert _role(workspace, admin_id) == "admin"


# --------------------------------------------------------------------------- invitations


def _invite(tab: Tab, email: str, role: str = "agent") -> InviteState:
    state = tab.of(InviteState)
    run(InviteState.open_dialog, state)
    run(InviteState.set_email, state, email)
    run(InviteState.set_role, state, role)
    drain(InviteState.send.fn(state, {}))
    return state


def test_inviting_shows_the_link_once_and_lists_the_invitation(workspace, admin_tab):
    state = _invite(admin_tab, "New.Person@Example.org", "manager")
    assert state.error == "" and not state.busy
    assert state.invited_email == "new.person@example.org"
    assert not state.mailed  # no mail server in tests
    with session_scope() as session:
        details = accounts.invitation_details(session, _token(state.link))
    assert (details.email, details.role.value) == ("new.person@example.org", "manager")
    pending = admin_tab.of(MembersState).invitations
    assert [(i.email, i.role_label, i.invited_by) for i in pending] == [
        ("new.person@example.org", "Manager", "Admin")
    ]
    assert state.invitation_days == "7 days"
    # Closing the dialog forgets the link.
    run(InviteState.set_is_open, state, False)
    assert state.link == "" and state.email == ""


def test_a_bad_email_is_explained_in_the_dialog(workspace, admin_tab):
    state = _invite(admin_tab, "not an email")
    assert "valid email" in state.error
    assert state.link == "" and state.is_open
    state = _invite(admin_tab, "   ")
    assert "Enter the email" in state.error
    with session_scope() as session:
        assert session.execute(sa.select(sa.func.count(Invitation.id))).scalar() == 0


def test_inviting_a_member_says_they_already_are_one(workspace, admin_tab):
    member = admin_tab.of(MembersState).members[0]
    state = _invite(admin_tab, member.email)
    assert "already a member" in state.error and state.link == ""


def test_with_a_mail_server_the_invitation_is_mailed_too(workspace, admin_tab, monkeypatch):
    sent = []
    monkeypatch.setattr(members_module.mail, "mail_configured", lambda: True)
    monkeypatch.setattr(
        members_module.mail,
        "send_invitation",
        lambda to, workspace_name, inviter, link: sent.append((to, inviter, link)) or True,
    )
    state = admin_tab.of(InviteState)
    run(InviteState.open_dialog, state)
    assert state.mail_configured
    run(InviteState.set_email, state, "mailed@example.org")
    returned = drain(InviteState.send.fn(state, {}))
    assert sent == [("mailed@example.org", "Admin", state.link)]
    assert state.mailed and state.mail_error == ""
    assert any("Invitation mailed to mailed@example.org" in str(item) for item in returned)


def test_a_mail_server_failure_still_shows_the_link(workspace, admin_tab, monkeypatch):
    def refuse(*args):
        raise MailError("The mail server did not take the message (timed out).")

    monkeypatch.setattr(members_module.mail, "mail_configured", lambda: True)
    monkeypatch.setattr(members_module.mail, "send_invitation", refuse)
    state = _invite(admin_tab, "unlucky@example.org")
    assert not state.mailed and "did not take" in state.mail_error
    assert _token(state.link)


def test_revoking_an_invitation_kills_its_link(workspace, admin_tab):
    link = _invite(admin_tab, "revoked@example.org").link
    members = admin_tab.of(MembersState)
    invitation_id = members.invitations[0].id
    returned = run(MembersState.revoke_invitation, members, invitation_id)
    assert "revoked@example.org" in str(returned)
    assert members.invitations == []
    with session_scope() as session, pytest.raises(AccountError):
        accounts.invitation_details(session, _token(link))


def test_invite_another_clears_the_dialog(workspace, admin_tab):
    state = _invite(admin_tab, "first@example.org")
    run(InviteState.invite_another, state)
    assert (state.link, state.email, state.role, state.is_open) == ("", "", "agent", True)


# --------------------------------------------------------------------------- reset links


def test_a_reset_link_for_a_member_sets_their_password(workspace, admin_tab, team):
    state = admin_tab.of(ResetLinkState)
    agent_id = team["agent"][1]
    run(ResetLinkState.create, state, agent_id)
    assert state.name == "Agent"
    with session_scope() as session:
        user = accounts.reset_password(session, _token(state.link), NEW_PASSWORD)
        assert user.id == agent_id
        assert accounts.authenticate(session, user.email, NEW_PASSWORD).id == agent_id
    assert "members.reset_link" in _actions(workspace)
    run(ResetLinkState.set_is_open, state, False)
    assert state.link == ""


def test_no_reset_link_for_someone_else_s_member(workspace, admin_tab):
    with session_scope() as session:
        other = accounts.create_user(session, "zed@globex.example", "Zed", NEW_PASSWORD)
        other_id = other.id
    state = admin_tab.of(ResetLinkState)
    returned = run(ResetLinkState.create, state, other_id)
    assert "not a member" in str(returned)
    assert state.link == ""


# --------------------------------------------------------------------------- channels


def _token_of(workspace: int) -> str:
    with session_scope() as session:
        return session.get(Workspace, workspace).ingest_token


def test_channels_show_the_endpoint_and_only_the_tokens_end(workspace, admin_tab):
    state = admin_tab.of(ChannelsState)  # loaded with the members (the page's one on_load)
    token = _token_of(workspace)
    assert state.token_hint == token[-4:]
    assert state.masked_token.endswith(token[-4:]) and token not in state.masked_token
    assert state.endpoint.endswith("/api/channels/{channel}/messages")
    assert state.new_token == ""


def test_rotating_the_token_shows_the_new_one_once(workspace, admin_tab):
    state = admin_tab.of(ChannelsState)
    run(ChannelsState.load, state)
    old = _token_of(workspace)
    run(ChannelsState.ask_rotate, state)
    assert state.confirm_open
    returned = run(ChannelsState.rotate, state)
    assert "rotated" in str(returned)
    new = _token_of(workspace)
    assert new != old and state.new_token == new and state.token_hint == new[-4:]
    assert not state.confirm_open
    with session_scope() as session:
        assert workspace_by_token(session, old) is None
        assert workspace_by_token(session, new).id == workspace
    assert "workspace.ingest_token_rotate" in _actions(workspace)
    run(ChannelsState.set_token_open, state, False)
    assert state.new_token == ""


def test_cancelling_the_rotation_keeps_the_token(workspace, admin_tab):
    state = admin_tab.of(ChannelsState)
    old = _token_of(workspace)
    run(ChannelsState.ask_rotate, state)
    run(ChannelsState.set_confirm_open, state, False)
    assert not state.confirm_open and _token_of(workspace) == old


# --------------------------------------------------------------------------- roles


@pytest.mark.parametrize("role", ["manager", "agent"])
def test_only_admins_use_the_page(workspace, team, role):
    tab, _ = team[role]
    agent_id = team["agent"][1]
    old = _token_of(workspace)
    for returned in (
        run(MembersState.load, tab.of(MembersState)),
        run(MembersState.change_role, tab.of(MembersState), agent_id, "admin"),
        run(ChannelsState.rotate, tab.of(ChannelsState)),
        run(ResetLinkState.create, tab.of(ResetLinkState), agent_id),
        *drain(InviteState.send.fn(tab.of(InviteState), {})),
    ):
        assert f"Your role ({role.title()}) cannot manage the workspace" in str(returned)
    assert tab.of(MembersState).members == []
    assert _role(workspace, agent_id) == "agent" and _token_of(workspace) == old
