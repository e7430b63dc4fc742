"""What the audit log says about contact data changed in bulk or leaving the building:
exports, bulk deletes, imports and campaign opt-in changes (with the view in words).

Each `record_*` writes in the caller's transaction, so the entry commits (or is rolled
back) with the action itself: a refused or failed action leaves no entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.access import Identity
from cloodot_app.filters import FilterError, FilterSpec, describe_spec
from cloodot_app.models import Segment
from cloodot_app.services import audit
from cloodot_app.services.audit import ActorKind, ConsentSource
from cloodot_app.services.workspaces import field_catalog

if TYPE_CHECKING:  # contacts.py imports this module
    from cloodot_app.services.contacts import ContactQuery

EXPORT = "contacts.export"
DELETE = "contacts.delete"
IMPORT = "contacts.import"
OPT_IN = "contacts.opt_in"

# How many of a bulk delete's ids an entry keeps (its details), and names in its summary.
KEPT_IDS = 20
SHOWN_IDS = 10

# Who acted when no member did, by the source of an opt-in change.
_SOURCE_ACTOR = {
    ConsentSource.IMPORT.value: ActorKind.IMPORT,
    ConsentSource.INGESTION.value: ActorKind.INGESTION,
}


@dataclass
class ViewWords:
    """A table view (search, segment, quick filters) in words, and its parts."""

    search: str = ""
    segment: str = ""
    filters: str = ""

    @property
    def text(self) -> str:
        parts = []
        if self.search:
            parts.append(f"search “{self.search}”")
        if self.segment:
            parts.append(f"segment “{self.segment}”")
        if self.filters:
            parts.append(f"filters: {self.filters}")
        return "; ".join(parts) or "all contacts"

    def details(self) -> dict[str, Any]:
        return {
            "view": self.text,
            "search": self.search,
            "segment": self.segment,
            "filters": self.filters,
        }


def describe_view(session: Session, workspace_id: int, query: ContactQuery) -> ViewWords:
    """The view as the table's banner and chips say it. Never raises: a filter that no
    longer applies (a deleted field) is said so."""
    words = ViewWords(search=query.search.strip())
    if query.segment_id is not None:
        name = session.execute(
            sa.select(Segment.name).where(
                Segment.id == query.segment_id, Segment.workspace_id == workspace_id
            )
        ).scalar_one_or_none()
        words.segment = name or "a deleted segment"
    try:
        spec = FilterSpec.parse(query.filter)
        if spec.conditions:
            words.filters = describe_spec(spec, field_catalog(session, workspace_id))
    except FilterError:
        words.filters = "a filter that no longer applies"
    return words


def _contacts(count: int) -> str:
    return f"{count:,} contact{'' if count == 1 else 's'}"


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


def record_export(
    session: Session,
    workspace_id: int,
    actor: Identity,
    query: ContactQuery,
    rows: int,
    *,
    sort: str = "",
    limit: int | None = None,
) -> None:
    """A CSV export of `rows` contacts of the view `query`."""
    view = describe_view(session, workspace_id, query)
    audit.record(
        session,
        workspace_id,
        actor,
        EXPORT,
        f"Exported {_contacts(rows)} — view: {view.text}",
        {"rows": rows, "sort": sort, "limit": limit, **view.details()},
    )


def record_delete(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    ids: Sequence[int],
    query: ContactQuery | None = None,
) -> None:
    """A bulk delete of `ids` (selected rows, or every contact a view matched). The entry
    keeps ids, never names: a deleted person's name does not live on in the log."""
    where = "selected rows" if query is None else describe_view(session, workspace_id, query).text
    ids = sorted(ids)
    shown = ", ".join(str(i) for i in ids[:SHOWN_IDS]) + (", …" if len(ids) > SHOWN_IDS else "")
    audit.record(
        session,
        workspace_id,
        actor,
        DELETE,
        f"Deleted {_contacts(len(ids))} — {where} ({'id' if len(ids) == 1 else 'ids'} {shown})",
        {
            "count": len(ids),
            "ids": list(ids[:KEPT_IDS]),
            "more_ids": max(0, len(ids) - KEPT_IDS),
            "view": where,
        },
    )


@dataclass
class ImportCounts:
    """What an import did by the time it finished or stopped."""

    status: str  # an ImportJobStatus value
    total_rows: int
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    # Opt-in changes it made: (turned on, turned off).
    opted_in: int = 0
    opted_out: int = 0
    job_id: int | None = None

    @property
    def rows_done(self) -> int:
        return self.created + self.updated + self.skipped + self.failed


def record_import(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    file_name: str,
    counts: ImportCounts,
) -> None:
    """An import that finished or stopped, and (a second entry) the opt-in changes it
    made, if any. Without a member it was the import itself that acted."""
    kind = None if actor is not None else ActorKind.IMPORT
    done = ", ".join(
        f"{count:,} {word}"
        for count, word in (
            (counts.created, "created"),
            (counts.updated, "updated"),
            (counts.skipped, "skipped"),
            (counts.failed, "failed"),
        )
        if count
    )
    if counts.status == "done":
        summary = f"Imported “{file_name}”: {_rows(counts.total_rows)}"
    else:
        summary = (
            f"Import of “{file_name}” stopped ({counts.status}) after "
            f"{counts.rows_done:,} of {_rows(counts.total_rows)}"
        )
    summary += f" ({done})" if done else ""
    changed = counts.opted_in + counts.opted_out
    details = {
        "file_name": file_name,
        "status": counts.status,
        "total_rows": counts.total_rows,
        "rows_done": counts.rows_done,
        "created": counts.created,
        "updated": counts.updated,
        "skipped": counts.skipped,
        "failed": counts.failed,
        "opt_in_changes": changed,
        "job_id": counts.job_id,
    }
    audit.record(session, workspace_id, actor, IMPORT, summary, details, kind)
    if changed:
        audit.record(
            session,
            workspace_id,
            actor,
            OPT_IN,
            f"Import of “{file_name}” changed campaign opt-in of {_contacts(changed)} "
            f"({counts.opted_in:,} on, {counts.opted_out:,} off)",
            {
                "source": ConsentSource.IMPORT.value,
                "file_name": file_name,
                "count": changed,
                "on": counts.opted_in,
                "off": counts.opted_out,
                "job_id": counts.job_id,
            },
            kind,
        )


def record_opt_in(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    contact_id: int,
    contact_name: str,
    old: bool | None,
    new: bool,
    source: ConsentSource | str = ConsentSource.AGENT,
) -> bool:
    """One contact's opt-in change: its consent history line and an audit entry. Nothing
    is written when the value did not change. Returns whether anything was."""
    source = ConsentSource(source)
    changed = audit.record_consent(
        session, workspace_id, contact_id, old, new, source, actor.user_id if actor else None
    )
    if changed is None:
        return False
    was = "" if old is None else f" (was {'on' if old else 'off'})"
    audit.record(
        session,
        workspace_id,
        actor,
        OPT_IN,
        f"Turned campaign opt-in {'on' if new else 'off'} for {contact_name}{was}",
        {"contact_id": contact_id, "old": old, "new": bool(new), "source": source.value},
        None if actor is not None else _SOURCE_ACTOR.get(source.value, ActorKind.SYSTEM),
    )
    return True


def import_consent(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    changes: Iterable[tuple[int, bool | None, bool]],
) -> tuple[int, int]:
    """An import chunk's opt-in changes (contact id, old, new) into the consent history;
    returns how many were turned (on, off)."""
    real = [(cid, old, bool(new)) for cid, old, new in changes if old is None or old != new]
    audit.record_consent_many(
        session,
        workspace_id,
        real,
        ConsentSource.IMPORT,
        actor.user_id if actor is not None else None,
    )
    on = sum(1 for _, _, new in real if new)
    return on, len(real) - on
