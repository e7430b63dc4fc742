"""Settings → Members: the workspace's members and their roles, invitations, a member's
password reset link, and the channels' ingestion token. Admins only (every handler needs
MANAGE_WORKSPACE; the services check the actor again).

Secrets (an invitation link, a reset link, a new ingestion token) are held in state only
while their dialog shows them, and cleared when it closes.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import reflex as rx

from cloodot_app import routes
from cloodot_app.access import Capability, Role
from cloodot_app.errors import MailError, UserError
from cloodot_app.services import accounts, mail, workspaces
from cloodot_app.services.accounts import Member, PendingInvitation
from cloodot_app.settings import settings
from cloodot_app.state.access import current_identity, in_workspace, requires
from cloodot_app.state.urls import go_to

MANAGE = Capability.MANAGE_WORKSPACE
# (value, label) of each role, for the selects.
ROLE_CHOICES = [(role.value, role.label) for role in Role]


def _iso(value: datetime | None) -> str:
    """ISO time with its zone, for rx.moment (SQLite hands back naive UTC)."""
    if value is None:
        return ""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _days(days: float) -> str:
    whole = int(days) if float(days).is_integer() else days
    return f"{whole} day" if whole == 1 else f"{whole} days"


@dataclasses.dataclass
class MemberRow:
    user_id: int = 0
    name: str = ""
    email: str = ""
    role: str = Role.AGENT.value
    initials: str = ""
    joined_at: str = ""  # ISO, shown relative
    is_you: bool = False
    disabled: bool = False


@dataclasses.dataclass
class InvitationRow:
    id: int = 0
    email: str = ""
    role: str = ""
    role_label: str = ""
    invited_by: str = ""
    created_at: str = ""
    expires_at: str = ""


def _initials(name: str) -> str:
    parts = name.split() or ["?"]
    return (parts[0][:1] + (parts[-1][:1] if len(parts) > 1 else "")).upper()


def _member_row(member: Member, my_user_id: int) -> MemberRow:
    return MemberRow(
        user_id=member.user_id,
        name=member.name,
        email=member.email,
        role=member.role.value,
        initials=_initials(member.name or member.email),
        joined_at=_iso(member.joined_at),
        is_you=member.user_id == my_user_id,
        disabled=member.disabled,
    )


def _invitation_row(invitation: PendingInvitation) -> InvitationRow:
    return InvitationRow(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role.value,
        role_label=invitation.role.label,
        invited_by=invitation.invited_by_name,
        created_at=_iso(invitation.created_at),
        expires_at=_iso(invitation.expires_at),
    )


def _role_label(role: str) -> str:
    try:
        return Role(role).label
    except ValueError:
        return role


class MembersState(rx.State):
    """The members table and the pending invitations, with their row actions."""

    members: list[MemberRow] = []
    invitations: list[InvitationRow] = []
    loaded: bool = False
    # The remove confirmation (remove_user_id 0: closed).
    remove_user_id: int = 0
    remove_name: str = ""
    remove_email: str = ""
    remove_is_you: bool = False
    # Changing one's own role asks first (own_role "": closed).
    own_role: str = ""

    @rx.var
    def own_role_label(self) -> str:
        return _role_label(self.own_role)

    @requires(MANAGE)
    async def load(self):
        """The page's on_load: members, invitations and the channels' token (one handler,
        so a role that may not see the page gets one refusal, not one per section)."""
        await self._reload()
        channels = await self.get_state(ChannelsState)
        await channels._load()
        self.loaded = True

    async def _reload(self) -> None:
        me = current_identity().user_id
        members = await in_workspace(accounts.list_members)
        invitations = await in_workspace(accounts.list_invitations)
        self.members = [_member_row(member, me) for member in members]
        self.invitations = [_invitation_row(invitation) for invitation in invitations]

    def _member(self, user_id: int) -> MemberRow | None:
        return next((m for m in self.members if m.user_id == user_id), None)

    # ------------------------------------------------------------------ roles

    @requires(MANAGE)
    async def change_role(self, user_id: int, role: str):
        member = self._member(user_id)
        if member is None or member.role == role:
            return None
        if member.is_you:
            self.own_role = role  # asks first: the change signs them out of this workspace
            return None
        return await self._change_role(member, role)

    @requires(MANAGE)
    def set_own_role_open(self, value: bool):
        if not value:
            self.own_role = ""

    @requires(MANAGE)
    async def confirm_own_role(self):
        role, self.own_role = self.own_role, ""
        me = next((m for m in self.members if m.is_you), None)
        if me is None or not role:
            return None
        return await self._change_role(me, role)

    async def _change_role(self, member: MemberRow, role: str):
        try:
            await in_workspace(accounts.change_role, current_identity(), member.user_id, role)
        except UserError as error:
            # The select shows the stored role again (it follows the state's value).
            await self._reload()
            return rx.toast.error(str(error))
        if member.is_you:
            # Their sessions in this workspace ended with the change: sign in again.
            return go_to(routes.SIGN_IN)
        await self._reload()
        return rx.toast.success(
            f"{member.name or member.email} is now {_role_label(role)}. "
            "Their open sessions in this workspace ended: they sign in again."
        )

    # ------------------------------------------------------------------ removing

    @requires(MANAGE)
    def ask_remove(self, user_id: int):
        member = self._member(user_id)
        if member is None:
            return
        self.remove_name, self.remove_email = member.name, member.email
        self.remove_is_you = member.is_you
        self.remove_user_id = member.user_id

    @requires(MANAGE)
    def set_remove_open(self, value: bool):
        if not value:
            self.remove_user_id = 0

    @requires(MANAGE)
    async def confirm_remove(self):
        user_id, name = self.remove_user_id, self.remove_name or self.remove_email
        was_me = self.remove_is_you
        self.remove_user_id = 0
        if not user_id:
            return None
        try:
            await in_workspace(accounts.remove_member, current_identity(), user_id)
        except UserError as error:
            await self._reload()
            return rx.toast.error(str(error))
        if was_me:
            return go_to(routes.SIGN_IN)
        await self._reload()
        return rx.toast.success(f"Removed {name} from the workspace. Their sessions ended.")

    # ------------------------------------------------------------------ invitations

    @requires(MANAGE)
    async def revoke_invitation(self, invitation_id: int):
        invitation = next((i for i in self.invitations if i.id == invitation_id), None)
        try:
            await in_workspace(accounts.revoke_invitation, current_identity(), invitation_id)
        except UserError as error:
            await self._reload()
            return rx.toast.error(str(error))
        await self._reload()
        email = invitation.email if invitation else "the invitation"
        return rx.toast.success(f"Withdrew the invitation of {email}: its link no longer works.")


class InviteState(rx.State):
    """The Invite dialog: an email and a role, then the one-time link (and the mail)."""

    is_open: bool = False
    email: str = ""
    role: str = Role.AGENT.value
    error: str = ""
    busy: bool = False
    # After inviting: the link (shown once), whom it was for, and how the mail went.
    link: str = ""
    invited_email: str = ""
    mailed: bool = False
    mail_error: str = ""
    mail_configured: bool = mail.mail_configured()
    invitation_days: str = _days(settings.invitation_days)

    @requires(MANAGE)
    def open_dialog(self):
        self._clear()
        self.mail_configured = mail.mail_configured()
        self.is_open = True

    @requires(MANAGE)
    def set_is_open(self, value: bool):
        self.is_open = value
        if not value:
            self._clear()

    @requires(MANAGE)
    def set_email(self, value: str):
        self.email = value[:320]

    @requires(MANAGE)
    def set_role(self, value: str):
        self.role = value

    @requires(MANAGE)
    def invite_another(self):
        self._clear()

    def _clear(self) -> None:
        self.email, self.role, self.error, self.busy = "", Role.AGENT.value, "", False
        self.link, self.invited_email, self.mailed, self.mail_error = "", "", False, ""

    @requires(MANAGE)
    async def send(self, form: dict | None = None):
        """The dialog's form was submitted (its fields are the state's own vars)."""
        if self.busy:
            return
        email, role = self.email.strip(), self.role
        if not email:
            self.error = "Enter the email address of the person to invite."
            return
        self.busy, self.error = True, ""
        yield
        identity = current_identity()
        try:
            _, token = await in_workspace(accounts.invite, identity, email, role)
        except UserError as error:
            self.busy, self.error = False, str(error)
            return
        link = accounts.invitation_link(token)
        invited = accounts.canonical_email(email)
        self.link, self.invited_email = link, invited
        members = await self.get_state(MembersState)
        await members._reload()
        if mail.mail_configured():
            yield
            try:
                self.mailed = await rx.run_in_thread(
                    lambda: mail.send_invitation(
                        invited, identity.workspace_name, identity.name, link
                    )
                )
            except MailError as error:
                self.mail_error = str(error)
        self.busy = False
        if self.mailed:
            yield rx.toast.success(f"Invitation mailed to {invited}.")


class ResetLinkState(rx.State):
    """A member's password reset link, made by an admin and shown once."""

    link: str = ""
    name: str = ""

    @requires(MANAGE)
    async def create(self, user_id: int):
        link = await in_workspace(accounts.member_reset_link, current_identity(), user_id)
        members = await self.get_state(MembersState)
        member = members._member(user_id)
        self.name = (member.name or member.email) if member else "this member"
        self.link = link

    @requires(MANAGE)
    def set_is_open(self, value: bool):
        if not value:
            self.link, self.name = "", ""


class ChannelsState(rx.State):
    """The ingestion endpoint and its token: shown masked, rotated after a confirmation,
    the new one shown once."""

    token_hint: str = ""
    endpoint: str = settings.app_url + routes.API_CHANNEL_MESSAGES
    confirm_open: bool = False
    new_token: str = ""

    @rx.var
    def masked_token(self) -> str:
        return "•" * 12 + self.token_hint if self.token_hint else ""

    @requires(MANAGE)
    async def load(self):
        await self._load()

    async def _load(self) -> None:
        self.token_hint = await in_workspace(workspaces.ingest_token_hint)
        self.endpoint = settings.app_url + routes.API_CHANNEL_MESSAGES

    @requires(MANAGE)
    def ask_rotate(self):
        self.confirm_open = True

    @requires(MANAGE)
    def set_confirm_open(self, value: bool):
        self.confirm_open = value

    @requires(MANAGE)
    async def rotate(self):
        self.confirm_open = False
        token = await in_workspace(workspaces.rotate_ingest_token, current_identity())
        self.token_hint = token[-workspaces.INGEST_TOKEN_HINT_LENGTH :]
        self.new_token = token
        return rx.toast.success("The ingestion token was rotated: the old one no longer works.")

    @requires(MANAGE)
    def set_token_open(self, value: bool):
        if not value:
            self.new_token = ""
