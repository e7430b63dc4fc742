"""Who is signed in to this tab, for the pages to show (names, role, what to offer), and
what a member does with their own session: sign out, switch workspace.

Decisions are never taken from these vars: every handler is admitted by state/access.py
against the server-side session.
"""

from __future__ import annotations

import reflex as rx

from cloodot_app import routes
from cloodot_app.access import ROLE_CAPABILITIES, Capability
from cloodot_app.errors import UserError
from cloodot_app.services import accounts
from cloodot_app.services.accounts import WorkspaceChoice
from cloodot_app.settings import settings
from cloodot_app.state.access import (
    current_identity,
    in_transaction,
    public_event,
    requires,
    session_token,
)
from cloodot_app.state.urls import backend_url, go_to


class SessionState(rx.State):
    user_name: str = ""
    user_email: str = ""
    workspace_name: str = ""
    role: str = ""
    # Capability values the member's role has (what the UI offers; see access.py).
    capabilities: list[str] = []
    workspaces: list[WorkspaceChoice] = []
    workspace_id: int = 0
    signed_in: bool = False
    demo_mode: bool = settings.demo_mode

    @rx.var
    def role_label(self) -> str:
        return self.role.title()

    @rx.var
    def initials(self) -> str:
        parts = self.user_name.split() or [self.user_email or "?"]
        return (parts[0][:1] + (parts[-1][:1] if len(parts) > 1 else "")).upper()

    @requires(Capability.VIEW)
    async def load(self):
        """The first on_load of every page behind sign-in (the guard sends a tab with no
        valid session to the sign-in page)."""
        identity = current_identity()
        self.user_name, self.user_email = identity.name, identity.email
        self.workspace_name, self.workspace_id = identity.workspace_name, identity.workspace_id
        self.role = identity.role.value
        self.capabilities = [c.value for c in Capability if c in ROLE_CAPABILITIES[identity.role]]
        self.workspaces = await in_transaction(accounts.user_workspaces, identity.user_id)
        self.signed_in = True

    @requires(Capability.VIEW)
    async def switch_workspace(self, workspace_id: str):
        token = session_token(self.router.headers.cookie)
        try:
            await in_transaction(accounts.switch_workspace, token, int(workspace_id))
        except (UserError, ValueError) as error:
            return rx.toast.error(str(error))
        # A full reload: every page state is read again in the new workspace.
        return go_to(routes.CONTACTS_ALL)

    @requires(Capability.VIEW)
    async def sign_out_everywhere(self):
        """Ends every session of this member, on every device (a lost laptop, a shared
        computer), then this browser's cookie."""
        await in_transaction(accounts.end_all_sessions, current_identity().user_id)
        self.signed_in = False
        return go_to(backend_url(routes.API_SESSION_END))

    @public_event
    def sign_out(self):
        """Ends this browser's session on the server and removes its cookie."""
        self.signed_in = False
        return go_to(backend_url(routes.API_SESSION_END))
