"""The pages a person sees before they are signed in: sign in (and the demo buttons),
forgot password, set a new password from a reset link, accept an invitation.

A successful sign-in never hands the session token to page scripts: the handler makes a
one-use sign-in ticket, and the browser takes it to /api/session/start, which sets the
session as an HttpOnly cookie and comes back to the page asked for.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import quote

import reflex as rx

from cloodot_app import routes
from cloodot_app.access import Role
from cloodot_app.errors import UserError
from cloodot_app.services import accounts, mail, tickets
from cloodot_app.services.accounts import InvitationDetails
from cloodot_app.settings import settings
from cloodot_app.state.access import in_transaction, public_event
from cloodot_app.state.urls import backend_url, go_to

SIGN_IN_TICKET = "sign-in"
SIGN_IN_TICKET_SECONDS = 60


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this app only (never another site)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return routes.CONTACTS_ALL


def session_start_url(payload: dict[str, Any], next_path: str) -> str:
    ticket = tickets.sign(SIGN_IN_TICKET, payload, tickets.ticket_secret(), SIGN_IN_TICKET_SECONDS)
    return backend_url(
        f"{routes.API_SESSION_START}?ticket={quote(ticket)}&next={quote(safe_next(next_path))}"
    )


def _form_text(form: dict[str, Any], name: str, limit: int = 1024) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


NOTICES = {
    "expired": "That sign-in link has expired or was already used. Sign in again.",
    "signed-out": "You are signed out.",
}


class SignInState(rx.State):
    error: str = ""
    busy: bool = False

    @rx.var
    def notice(self) -> str:
        """Why the browser was sent here, when a route sent it (?problem=…)."""
        return NOTICES.get(self.router.url.query_parameters.get("problem", ""), "")

    @public_event
    async def sign_in(self, form: dict[str, Any]):
        """The form's fields arrive with the submit and are never kept in state."""
        email, password = _form_text(form, "email", 320), _form_text(form, "password")
        self.busy, self.error = True, ""
        yield
        try:
            user_id = await in_transaction(
                accounts.check_sign_in, email, password, self.router.session.client_ip
            )
        except UserError as error:
            self.busy, self.error = False, str(error)
            return
        self.busy = False
        yield go_to(session_start_url({"u": user_id}, self.router.url.query_parameters.get("next")))

    @public_event
    def try_demo(self, role: str):
        """Demo mode only ("Try the demo as Admin"): the route refuses it otherwise."""
        if not settings.demo_mode or role not in {r.value for r in Role}:
            self.error = "The demo sign-in is turned off on this server."
            return
        return go_to(session_start_url({"demo": role}, routes.CONTACTS_ALL))


class ForgotPasswordState(rx.State):
    sent_message: str = ""
    error: str = ""

    @public_event
    async def request(self, form: dict[str, Any]):
        email = _form_text(form, "email", 320).strip()
        if "@" not in email:
            self.error = "Enter the email address you sign in with."
            return
        self.error = ""
        if mail.mail_configured():
            token = await in_transaction(accounts.request_password_reset, email)
            # A failed delivery is logged by the mail service; the answer must not differ
            # (it would tell whether the email has an account).
            with contextlib.suppress(UserError):
                if token:
                    link = accounts.password_reset_link(token)
                    await rx.run_in_thread(lambda: mail.send_password_reset(email, link))
            # The same answer whether or not the email has an account.
            self.sent_message = (
                "If that email has an account, a link to set a new password is on its way. "
                "It works once, for an hour."
            )
        else:
            self.sent_message = (
                "This server sends no email. Ask an admin of your workspace for a reset "
                "link: they can create one in Settings → Members."
            )


class ResetPasswordState(rx.State):
    error: str = ""
    done: bool = False

    @public_event
    async def set_new_password(self, form: dict[str, Any]):
        password, again = _form_text(form, "password"), _form_text(form, "password_again")
        if password != again:
            self.error = "The two passwords are not the same."
            return
        token = self.router.url.query_parameters.get("token", "")
        try:
            await in_transaction(accounts.reset_password, token, password)
        except UserError as error:
            self.error = str(error)
            return
        self.error, self.done = "", True


class InvitationState(rx.State):
    details: InvitationDetails | None = None
    problem: str = ""
    error: str = ""

    @rx.var
    def role_label(self) -> str:
        return self.details.role.title() if self.details else ""

    @public_event
    async def load(self):
        token = self.router.url.query_parameters.get("token", "")
        try:
            self.details = await in_transaction(accounts.invitation_details, token)
            self.problem = ""
        except UserError as error:
            self.details, self.problem = None, str(error)

    @public_event
    async def accept(self, form: dict[str, Any]):
        token = self.router.url.query_parameters.get("token", "")
        name, password = _form_text(form, "name", 200), _form_text(form, "password")
        try:
            details = await in_transaction(accounts.invitation_details, token)
            user = await in_transaction(accounts.accept_invitation, token, name, password)
        except UserError as error:
            self.error = str(error)
            return
        # Signed in to the workspace that invited them, whatever else they belong to.
        return go_to(
            session_start_url({"u": user.id, "w": details.workspace_id}, routes.CONTACTS_ALL)
        )
