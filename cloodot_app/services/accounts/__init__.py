"""Accounts: users and passwords, sign-in and sessions, members and invitations, password
resets, demo users and single-use export tickets. No Reflex here.

Callers import from here (`accounts.resolve_session(...)`); each part lives in its module:

- `tokens`: session tokens and link secrets, stored only as their SHA-256; mail links.
- `credentials`: the password rules, argon2id hashing (`passwords`), verification.
- `users`: `create_user`, `user_by_email`, `add_member`, `user_workspaces`.
- `sessions`: `start_session`, `resolve_session`, `authorize`, `end_session`,
  `end_all_sessions`, `switch_workspace`.
- `authentication`: `LoginLimiter` and `login_limiter`, `authenticate`, `sign_in`,
  `check_sign_in` and `open_session` (the two halves of a browser's sign-in).
- `members`: `list_members`, `change_role`, `remove_member` (never the last admin).
- `invitations`: `invite`, `list_invitations`, `revoke_invitation`, `invitation_details`,
  `accept_invitation`, `invitation_link`.
- `resets`: `request_password_reset`, `reset_password`, `password_reset_link`,
  `member_reset_link` (an admin's link for a member, Settings → Members).
- `demo`: `ensure_demo_users`, `start_demo_session`.
- `tickets`: `use_ticket_once`, `forget_used_tickets` (single-use export tickets).

Secrets handed out (session tokens, invitation and reset links) are 256-bit random strings;
the database keeps only their SHA-256, so a copy of it signs no one in. Functions flush and
leave the commit to the caller (`db.session_scope`), except where noted. A test that swaps
`passwords`, `login_limiter` or `settings` swaps it in the module that reads it.
"""

from cloodot_app.services.accounts.authentication import (
    SIGN_IN_REFUSED,
    LoginLimiter,
    authenticate,
    check_sign_in,
    login_limiter,
    open_session,
    sign_in,
)
from cloodot_app.services.accounts.credentials import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    UNUSABLE_PASSWORD_PREFIX,
    check_password,
    hash_password,
    passwords,
)
from cloodot_app.services.accounts.demo import (
    DEMO_DOMAIN,
    DEMO_USERS,
    ensure_demo_users,
    start_demo_session,
)
from cloodot_app.services.accounts.invitations import (
    INVITATION_PATH,
    InvitationDetails,
    PendingInvitation,
    accept_invitation,
    invitation_details,
    invitation_link,
    invite,
    list_invitations,
    revoke_invitation,
)
from cloodot_app.services.accounts.members import (
    Member,
    change_role,
    list_members,
    remove_member,
)
from cloodot_app.services.accounts.resets import (
    PASSWORD_RESET_PATH,
    PASSWORD_RESET_TTL,
    member_reset_link,
    password_reset_link,
    request_password_reset,
    reset_password,
)
from cloodot_app.services.accounts.sessions import (
    SESSION_TOUCH_INTERVAL,
    authorize,
    end_all_sessions,
    end_session,
    resolve_session,
    start_session,
    switch_workspace,
)
from cloodot_app.services.accounts.tickets import forget_used_tickets, use_ticket_once
from cloodot_app.services.accounts.tokens import token_hash
from cloodot_app.services.accounts.users import (
    WorkspaceChoice,
    add_member,
    canonical_email,
    create_user,
    user_by_email,
    user_workspaces,
)

__all__ = [
    "DEMO_DOMAIN",
    "DEMO_USERS",
    "INVITATION_PATH",
    "PASSWORD_MAX_LENGTH",
    "PASSWORD_MIN_LENGTH",
    "PASSWORD_RESET_PATH",
    "PASSWORD_RESET_TTL",
    "SESSION_TOUCH_INTERVAL",
    "SIGN_IN_REFUSED",
    "UNUSABLE_PASSWORD_PREFIX",
    "InvitationDetails",
    "LoginLimiter",
    "Member",
    "PendingInvitation",
    "WorkspaceChoice",
    "accept_invitation",
    "add_member",
    "authenticate",
    "authorize",
    "canonical_email",
    "change_role",
    "check_password",
    "check_sign_in",
    "create_user",
    "end_all_sessions",
    "end_session",
    "ensure_demo_users",
    "forget_used_tickets",
    "hash_password",
    "invitation_details",
    "invitation_link",
    "invite",
    "list_invitations",
    "list_members",
    "login_limiter",
    "member_reset_link",
    "open_session",
    "password_reset_link",
    "passwords",
    "remove_member",
    "request_password_reset",
    "reset_password",
    "resolve_session",
    "revoke_invitation",
    "sign_in",
    "start_demo_session",
    "start_session",
    "switch_workspace",
    "token_hash",
    "use_ticket_once",
    "user_by_email",
    "user_workspaces",
]
