"""Who may do what: roles, their capabilities, and the one check every action goes through.

No Reflex and no database here: the Reflex guard and the HTTP routes both call `require`
with the `Identity` that `services.accounts.resolve_session` built from the server-side
session, so the rules live in this one table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cloodot_app.errors import AccessDenied


class Role(enum.StrEnum):
    AGENT = "agent"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.title()


class Capability(enum.StrEnum):
    VIEW = "view"
    EDIT_CONTACTS = "edit_contacts"
    MANAGE_SEGMENTS = "manage_segments"
    EXPORT = "export"
    DELETE_CONTACTS = "delete_contacts"
    IMPORT = "import"
    BULK_EDIT = "bulk_edit"
    MERGE_CONTACTS = "merge_contacts"
    MANAGE_FIELDS = "manage_fields"
    MANAGE_WORKSPACE = "manage_workspace"
    MANAGE_CHANNELS = "manage_channels"


# Per capability: (what the refusal says a role cannot do, the README table's row).
CAPABILITY_WORDS: dict[Capability, tuple[str, str]] = {
    Capability.VIEW: (
        "view contacts",
        "view, search, filter, apply segments, Live, columns, details drawer, view the Leads board",
    ),
    Capability.EDIT_CONTACTS: (
        "edit contacts",
        "inline edits, opt-in, labels on a contact",
    ),
    Capability.MANAGE_SEGMENTS: (
        "change segments or move cards on the Leads board",
        "create/edit/delete segments, drag on the Leads board",
    ),
    Capability.EXPORT: ("download contacts", "Download CSV"),
    Capability.DELETE_CONTACTS: ("delete contacts", "delete contacts (bulk delete)"),
    Capability.IMPORT: ("import contacts", "import contacts from CSV"),
    Capability.BULK_EDIT: (
        "edit contacts in bulk",
        "bulk edit (labels, a field, opt-in of many contacts at once)",
    ),
    Capability.MERGE_CONTACTS: (
        "merge contacts",
        "possible duplicates, merge contacts",
    ),
    Capability.MANAGE_FIELDS: (
        "change labels or custom fields",
        "labels and custom-field settings",
    ),
    Capability.MANAGE_WORKSPACE: (
        "manage the workspace",
        "members and roles, ingestion tokens (create, rotate), audit log",
    ),
    Capability.MANAGE_CHANNELS: (
        "manage channel connections",
        "channel connections (WhatsApp, Messenger, Instagram, WebChat)",
    ),
}

_EVERYONE = frozenset({Capability.VIEW, Capability.EDIT_CONTACTS})
_MANAGERS = _EVERYONE | {
    Capability.MANAGE_SEGMENTS,
    Capability.EXPORT,
    Capability.DELETE_CONTACTS,
    Capability.IMPORT,
    Capability.BULK_EDIT,
    Capability.MERGE_CONTACTS,
}

ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.AGENT: _EVERYONE,
    Role.MANAGER: frozenset(_MANAGERS),
    Role.ADMIN: frozenset(Capability),
}


@dataclass(frozen=True)
class Identity:
    """The signed-in user in one workspace: built from the server-side session only."""

    user_id: int
    email: str
    name: str
    workspace_id: int
    workspace_name: str
    role: Role
    session_id: int
    # Signed in with a "Try the demo" button: a shared account anyone can use.
    demo: bool = False

    def can(self, capability: Capability) -> bool:
        return capability in ROLE_CAPABILITIES[self.role]


def refusal(role: Role, capability: Capability) -> str:
    """Why `role` cannot do it, for a message or a disabled control's tooltip."""
    what = CAPABILITY_WORDS[capability][0]
    return f"Your role ({role.label}) cannot {what}. Ask an admin."


def require(identity: Identity | None, capability: Capability) -> Identity:
    """The identity, if it may do `capability`; otherwise `AccessDenied` for the user."""
    if identity is None:
        raise AccessDenied("Sign in to continue.")
    if not identity.can(capability):
        raise AccessDenied(refusal(identity.role, capability))
    return identity


def require_admin_of(actor: Identity | None, workspace_id: int) -> None:
    """Defence in depth behind the state guard, for the services that change the team or
    the workspace's secrets: a given actor must be an admin of this very workspace, and
    not a shared demo account (anyone could lock the demo's visitors out). None is the
    server itself (the admin CLI)."""
    if actor is None:
        return
    require(actor, Capability.MANAGE_WORKSPACE)
    if actor.workspace_id != workspace_id:
        raise AccessDenied("You cannot manage another workspace from this one.")
    if actor.demo:
        raise AccessDenied("In the demo, the team and the ingestion token stay as they are.")


def capability_table() -> str:
    """The README's roles table, rendered from ROLE_CAPABILITIES (a test compares them)."""
    roles = list(Role)
    lines = [
        "| capability | " + " | ".join(role.label for role in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for capability in Capability:
        marks = " | ".join("✔" if capability in ROLE_CAPABILITIES[r] else "—" for r in roles)
        lines.append(f"| {CAPABILITY_WORDS[capability][1]} | {marks} |")
    return "\n".join(lines) + "\n"
