"""The workspace's append-only audit log and every contact's consent (campaign opt-in) history.

Append-only by construction: this module writes entries and reads them, and there is no
function anywhere that updates or deletes one (a workspace's deletion cascades, nothing else).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.access import Identity
from cloodot_app.errors import NotFound
from cloodot_app.models import AuditEntry, ConsentChange, Contact, User, utcnow

MAX_PAGE_SIZE = 200
SUMMARY_MAX = 1000


class ActorKind(enum.StrEnum):
    USER = "user"
    INGESTION = "ingestion"
    IMPORT = "import"
    SYSTEM = "system"  # the admin CLI, start-up, background jobs


class ConsentSource(enum.StrEnum):
    AGENT = "agent"  # a person, one contact (inline switch, details drawer)
    IMPORT = "import"
    INGESTION = "ingestion"
    BULK = "bulk"  # a person, many contacts at once
    MERGE = "merge"  # a person merged contacts and chose this value


NOTE_ADD = "contacts.note_add"
NOTE_EDIT = "contacts.note_edit"
NOTE_DELETE = "contacts.note_delete"

# What the Audit log page says for each action (an action not listed is shown as it is).
ACTION_WORDS = {
    "contacts.export": "Exported contacts",
    "contacts.delete": "Deleted contacts",
    "contacts.import": "Imported contacts",
    "contacts.opt_in": "Changed campaign opt-in",
    NOTE_ADD: "Added a note",
    NOTE_EDIT: "Edited a note",
    NOTE_DELETE: "Deleted a note",
    "contacts.bulk_edit": "Edited contacts in bulk",
    "contacts.bulk_edit_undo": "Undid a bulk edit",
    "contacts.merge": "Merged contacts",
    "members.add": "Added a member",
    "members.invite": "Invited a member",
    "members.invitation_revoke": "Revoked an invitation",
    "members.join": "Joined the workspace",
    "members.remove": "Removed a member",
    "members.role_change": "Changed a role",
    "workspace.ingest_token_rotate": "Rotated the ingestion token",
    "channels.connect": "Connected a channel",
    "channels.verify_token_rotate": "Rotated a verify token",
    "channels.app_secret_replace": "Replaced an app secret",
    "channels.webchat_change": "Changed a WebChat site",
    "channels.disconnect": "Disconnected a channel",
}

# Who acted, when no user did (and when the user has since been deleted).
ACTOR_KIND_WORDS = {
    ActorKind.INGESTION.value: "Ingestion",
    ActorKind.IMPORT.value: "Import",
    ActorKind.SYSTEM.value: "System",
    ActorKind.USER.value: "A deleted user",
}

CONSENT_SOURCE_WORDS = {
    ConsentSource.AGENT.value: "Agent",
    ConsentSource.IMPORT.value: "Import",
    ConsentSource.INGESTION.value: "Ingestion",
    ConsentSource.BULK.value: "Bulk edit",
    ConsentSource.MERGE.value: "Merge",
}


def action_words(action: str) -> str:
    return ACTION_WORDS.get(action, action)


@dataclass(frozen=True)
class AuditRow:
    id: int
    created_at: datetime
    action: str
    summary: str
    details: dict[str, Any]
    actor_kind: str
    actor_user_id: int | None
    # Empty when the entry has no user or the user has since been deleted.
    actor_name: str
    actor_email: str

    @property
    def who(self) -> str:
        """The member's name (or email), or what acted: "Import", "Ingestion", "System"."""
        if self.actor_user_id is not None and (self.actor_name or self.actor_email):
            return self.actor_name or self.actor_email
        return ACTOR_KIND_WORDS.get(self.actor_kind, self.actor_kind)


@dataclass(frozen=True)
class ConsentRow:
    created_at: datetime
    old_value: bool | None
    new_value: bool
    source: str
    actor_user_id: int | None
    actor_name: str
    actor_email: str

    @property
    def who(self) -> str:
        """The member's name (or email), else the source: "Import", "Ingestion"…"""
        if self.actor_name or self.actor_email:
            return self.actor_name or self.actor_email
        return CONSENT_SOURCE_WORDS.get(self.source, self.source)


@dataclass(frozen=True)
class Actor:
    """A user the log names as having acted (the Audit log page's member filter)."""

    user_id: int
    name: str


def record(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    action: str,
    summary: str,
    details: dict[str, Any] | None = None,
    actor_kind: ActorKind | str | None = None,
    *,
    actor_user_id: int | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Append one entry, in the caller's transaction (so it commits with the change itself).

    `actor` is the signed-in user; without one, `actor_kind` says what acted (ingestion,
    import, system) and `actor_user_id` may still name a user (someone joining through an
    invitation has no session yet).
    """
    if actor is not None and actor.workspace_id != workspace_id:
        raise ValueError("an audit entry's actor must belong to its workspace")
    kind = ActorKind(actor_kind or (ActorKind.USER if actor else ActorKind.SYSTEM))
    entry = AuditEntry(
        workspace_id=workspace_id,
        actor_user_id=actor.user_id if actor is not None else actor_user_id,
        actor_kind=kind.value,
        action=action,
        summary=summary[:SUMMARY_MAX],
        details=dict(details or {}),
        created_at=now or utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    session: Session,
    workspace_id: int,
    action: str | None = None,
    actor_user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[AuditRow], int]:
    """One page of the workspace's entries, newest first, and how many match in all.

    `action` is an exact action ("contacts.export") or a group ("contacts": every
    "contacts.*"); `since` is inclusive, `until` exclusive.
    """
    conditions = [AuditEntry.workspace_id == workspace_id]
    if action:
        if "." in action:
            conditions.append(AuditEntry.action == action)
        else:
            conditions.append(AuditEntry.action.startswith(f"{action}.", autoescape=True))
    if actor_user_id is not None:
        conditions.append(AuditEntry.actor_user_id == actor_user_id)
    if since is not None:
        conditions.append(AuditEntry.created_at >= since)
    if until is not None:
        conditions.append(AuditEntry.created_at < until)
    where = sa.and_(*conditions)

    total = session.execute(sa.select(sa.func.count()).select_from(AuditEntry).where(where))
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    rows = session.execute(
        sa.select(AuditEntry, User.name, User.email)
        .outerjoin(User, User.id == AuditEntry.actor_user_id)
        .where(where)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return [
        AuditRow(
            id=entry.id,
            created_at=entry.created_at,
            action=entry.action,
            summary=entry.summary,
            details=dict(entry.details),
            actor_kind=entry.actor_kind,
            actor_user_id=entry.actor_user_id,
            actor_name=name or "",
            actor_email=email or "",
        )
        for entry, name, email in rows
    ], total.scalar_one()


def audit_actions(session: Session, workspace_id: int) -> list[str]:
    """The actions this workspace's log holds (for the Admin page's filter)."""
    return list(
        session.execute(
            sa.select(AuditEntry.action)
            .where(AuditEntry.workspace_id == workspace_id)
            .distinct()
            .order_by(AuditEntry.action)
        ).scalars()
    )


def audit_actors(session: Session, workspace_id: int) -> list[Actor]:
    """The users this workspace's log names, by name (members who have since left
    included: their entries stay, and an admin may still look for them)."""
    rows = session.execute(
        sa.select(User.id, User.name, User.email)
        .where(
            User.id.in_(
                sa.select(AuditEntry.actor_user_id).where(
                    AuditEntry.workspace_id == workspace_id,
                    AuditEntry.actor_user_id.is_not(None),
                )
            )
        )
        .order_by(sa.func.lower(User.name), User.email)
    ).all()
    return [Actor(user_id, name or email) for user_id, name, email in rows]


@dataclass(frozen=True)
class AuditLogPage:
    """What the Audit log page shows: one page of entries, how many match in all, and
    the choices of its filters."""

    rows: list[AuditRow]
    total: int
    actions: list[str]
    actors: list[Actor]


def audit_log_page(
    session: Session,
    workspace_id: int,
    action: str | None = None,
    actor_user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = 50,
) -> AuditLogPage:
    """list_entries, audit_actions and audit_actors read together (one transaction)."""
    rows, total = list_entries(
        session, workspace_id, action, actor_user_id, since, until, page, page_size
    )
    return AuditLogPage(
        rows, total, audit_actions(session, workspace_id), audit_actors(session, workspace_id)
    )


# --------------------------------------------------------------------------- consent


def record_consent(
    session: Session,
    workspace_id: int,
    contact_id: int,
    old: bool | None,
    new: bool,
    source: ConsentSource | str,
    actor_user_id: int | None = None,
    *,
    now: datetime | None = None,
) -> ConsentChange | None:
    """Record one opt-in change (None, nothing recorded, when the value did not change)."""
    written = record_consent_many(
        session, workspace_id, [(contact_id, old, new)], source, actor_user_id, now=now
    )
    if not written:
        return None
    return session.execute(
        sa.select(ConsentChange)
        .where(ConsentChange.contact_id == contact_id)
        .order_by(ConsentChange.id.desc())
        .limit(1)
    ).scalar_one()


def record_consent_many(
    session: Session,
    workspace_id: int,
    changes: Iterable[tuple[int, bool | None, bool]],
    source: ConsentSource | str,
    actor_user_id: int | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Record (contact id, old value, new value) changes in one statement (imports, bulk
    edits); unchanged values are skipped. Returns how many were recorded."""
    source = ConsentSource(source)
    real = [(cid, old, bool(new)) for cid, old, new in changes if old is None or old != new]
    if not real:
        return 0
    ids = {cid for cid, _, _ in real}
    found = set(
        session.execute(
            sa.select(Contact.id).where(Contact.workspace_id == workspace_id, Contact.id.in_(ids))
        ).scalars()
    )
    if found != ids:
        raise NotFound("That contact is not in this workspace (it may have been deleted).")
    at = now or utcnow()
    session.execute(
        sa.insert(ConsentChange),
        [
            {
                "workspace_id": workspace_id,
                "contact_id": cid,
                "old_value": old,
                "new_value": new,
                "source": source.value,
                "actor_user_id": actor_user_id,
                "created_at": at,
            }
            for cid, old, new in real
        ],
    )
    return len(real)


def consent_history(session: Session, workspace_id: int, contact_id: int) -> list[ConsentRow]:
    """A contact's opt-in changes, newest first (empty for another workspace's contact)."""
    rows = session.execute(
        sa.select(ConsentChange, User.name, User.email)
        .outerjoin(User, User.id == ConsentChange.actor_user_id)
        .where(
            ConsentChange.workspace_id == workspace_id,
            ConsentChange.contact_id == contact_id,
        )
        .order_by(ConsentChange.created_at.desc(), ConsentChange.id.desc())
    ).all()
    return [
        ConsentRow(
            created_at=change.created_at,
            old_value=change.old_value,
            new_value=change.new_value,
            source=change.source,
            actor_user_id=change.actor_user_id,
            actor_name=name or "",
            actor_email=email or "",
        )
        for change, name, email in rows
    ]


@dataclass
class ConsentLine:
    """One opt-in change as the contact's drawer shows it (plain values for the browser)."""

    opted_in: bool = False
    was: str = ""  # "on", "off", or "" when there was no value before (a new contact)
    by: str = ""  # the member's name, or "Import", "Ingestion"…
    source: str = ""  # a ConsentSource value
    at: str = ""  # ISO 8601, shown relative


def consent_lines(session: Session, workspace_id: int, contact_id: int) -> list[ConsentLine]:
    """consent_history in words, newest first."""
    return [
        ConsentLine(
            opted_in=row.new_value,
            was="" if row.old_value is None else ("on" if row.old_value else "off"),
            by=row.who,
            source=row.source,
            at=row.created_at.isoformat(),
        )
        for row in consent_history(session, workspace_id, contact_id)
    ]
