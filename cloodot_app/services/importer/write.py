"""Writing rows: the import itself, chunk by chunk, and the report of what it did.

Imported contacts get channel "imported". A row with any error is not written at all
(failed); the other rows still are. A row is the same contact as an existing one in the
workspace (or as an earlier row of the file) when its email matches, else when its phone
(E.164) matches: `on_duplicate="skip"` leaves that contact alone; `"update"` writes the
row's mapped, non-empty fields over it, merges custom fields and adds labels (never
removes any). Formula-looking cells ("=cmd|...") are stored as the plain text they are;
only the problems file neutralises them (services.export.neutralize), as the export does.

A mapped "Campaign opt-in" column changes consent: each change goes to the contact's
consent history (source "import") in its chunk's transaction, and the import's audit
entries ("contacts.import", and "contacts.opt_in" when opt-ins changed) are written in the
transaction that marks its job done or stopped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.access import Identity
from cloodot_app.errors import CsvImportError, ImportInterrupted
from cloodot_app.fieldtypes import digits_only
from cloodot_app.filters import CONTACT_FIELD_PREFIX
from cloodot_app.models import Channel, Contact, ContactLabel, ImportJobStatus, utcnow
from cloodot_app.services import contact_audit
from cloodot_app.services.export import neutralize
from cloodot_app.services.importer import jobs
from cloodot_app.services.importer.check import (
    RowCheck,
    RowChecker,
    RowError,
    existing_contacts,
    workspace_labels,
)
from cloodot_app.services.importer.mapping import contact_field_definitions
from cloodot_app.services.importer.parse import DEFAULT_CHUNK_SIZE, ParsedCsv
from cloodot_app.services.ingestion import AVATAR_COLORS
from cloodot_app.services.workspaces import bump_data_version

LINE_TERMINATOR = "\r\n"

OnDuplicate = Literal["skip", "update"]
SessionFactory = Callable[[], AbstractContextManager[Session]]
Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did. created + updated + skipped + failed == rows read so far.

    skipped: duplicates left alone (on_duplicate="skip"); failed: rows with errors (not
    written). `errors` hold every error of the failed rows, `warnings` the unknown labels
    of imported rows.
    """

    total_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    # The ImportJob row that tracks this import (None for a report built by hand).
    job_id: int | None = None
    # Contacts whose campaign opt-in the import turned on / off.
    opted_in: int = 0
    opted_out: int = 0

    @property
    def done(self) -> int:
        return self.created + self.updated + self.skipped + self.failed

    def add(self, other: ImportReport) -> None:
        """Count another chunk's rows and problems into this report."""
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped
        self.failed += other.failed
        self.opted_in += other.opted_in
        self.opted_out += other.opted_out
        self.errors.extend(other.errors)
        self.warnings.extend(other.warnings)

    def errors_csv(self) -> str:
        """The problems (errors and warnings, by row) as a CSV file: Row, Column, Value,
        Message. RFC 4180 with CRLF, like the export; text cells that a spreadsheet would
        read as a formula get a leading "'"."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=LINE_TERMINATOR)
        writer.writerow(["Row", "Column", "Value", "Message"])
        problems = sorted([*self.errors, *self.warnings], key=lambda problem: problem.row_number)
        for problem in problems:
            writer.writerow(
                [
                    problem.row_number,
                    neutralize(problem.column),
                    neutralize(problem.value),
                    neutralize(problem.message),
                ]
            )
        return buffer.getvalue()


@dataclass
class _Pending:
    """A contact this chunk creates (id None until inserted) or updates, with what the
    rows gave it. For an update, `custom_fields` starts from the stored ones (merged)."""

    id: int | None
    values: dict[str, Any] = field(default_factory=dict)
    # An existing contact's opt-in before this chunk (None: a new contact).
    old_opt_in: bool | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    label_ids: list[int] = field(default_factory=list)
    touched: bool = False
    custom_changed: bool = False

    def merge(self, check: RowCheck) -> None:
        self.touched = True
        for key, value in check.values.items():
            if key.startswith(CONTACT_FIELD_PREFIX):
                self.custom_fields[key.removeprefix(CONTACT_FIELD_PREFIX)] = value
                self.custom_changed = True
            elif key != "labels":
                self.values[key] = value
        for label_id in check.label_ids:
            if label_id not in self.label_ids:
                self.label_ids.append(label_id)


def run_import(
    session_factory: SessionFactory,
    workspace_id: int,
    parsed: ParsedCsv,
    mapping: Mapping[str, str],
    on_duplicate: OnDuplicate = "skip",
    progress: Progress | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    file_name: str = "contacts.csv",
    *,
    actor: Identity | None = None,
) -> ImportReport:
    """Import every row of `parsed` into the workspace; return what was done.

    Each chunk of `chunk_size` rows is validated, then written in its own transaction
    (`with session_factory() as session`, e.g. cloodot_app.db.session_scope) that bumps
    the workspace's data_version once. `progress(done, total)` is called with 0 first and
    after each committed chunk; an exception raised by it stops the import there (the
    chunks already committed stay). Raises CsvImportError for an invalid mapping or
    on_duplicate, ImportInterrupted when the database fails part-way.

    The import is an ImportJob row (`report.job_id`, see jobs.py): each chunk's
    transaction also adds its counts to the job, and the last one marks it done, so the
    job says which rows are in whatever stops the import. `actor` is the member importing
    (the consent history and the audit log name them; without one, "Import" acted).
    """
    if on_duplicate not in ("skip", "update"):
        raise CsvImportError("Choose whether to skip or update contacts that already exist.")
    total = parsed.total_rows
    with session_factory() as session:
        definitions = contact_field_definitions(session, workspace_id)
        labels = workspace_labels(session, workspace_id)
        # Raises CsvImportError for an invalid mapping: then there is no job either.
        checker = RowChecker(parsed.headers, mapping, definitions, labels)
        job_id = jobs.start_job(session, workspace_id, file_name, total, on_duplicate)
        if total == 0:
            jobs.finish_job(session, workspace_id, job_id, ImportJobStatus.DONE)
            _record(session, workspace_id, actor, file_name, ImportReport(job_id=job_id), "done")
    report = ImportReport(total_rows=total, job_id=job_id)
    try:
        if progress is not None:
            progress(0, total)
        for chunk in parsed.chunks(chunk_size):
            checks = [checker.check(row_number, cells) for row_number, cells in chunk]
            chunk_report = ImportReport()
            try:
                with session_factory() as session:
                    _write_chunk(session, workspace_id, checks, on_duplicate, chunk_report, actor)
                    counts = jobs.ChunkCounts(
                        rows=len(chunk),
                        created=chunk_report.created,
                        updated=chunk_report.updated,
                        skipped=chunk_report.skipped,
                        failed=chunk_report.failed,
                        problems=len(chunk_report.errors) + len(chunk_report.warnings),
                    )
                    jobs.record_chunk(session, workspace_id, job_id, counts)
                    if report.done + len(chunk) >= total:
                        jobs.finish_job(session, workspace_id, job_id, ImportJobStatus.DONE)
                        so_far = ImportReport(total_rows=total, job_id=job_id)
                        so_far.add(report)
                        so_far.add(chunk_report)
                        _record(session, workspace_id, actor, file_name, so_far, "done")
            except sa.exc.SQLAlchemyError:
                first = chunk[0][0]
                raise ImportInterrupted(
                    f"The import stopped at row {first} because the database failed. "
                    f"{report.created + report.updated:,} contacts were imported before "
                    "that; import the file again (with “update”) to finish.",
                    report,
                ) from None
            report.add(chunk_report)
            if progress is not None:
                progress(report.done, total)
    except ImportInterrupted as error:
        stopped = (ImportJobStatus.FAILED, str(error))
        _stop_job(session_factory, workspace_id, report, *stopped, actor, file_name)
        raise
    except BaseException:
        stopped = (ImportJobStatus.INTERRUPTED, "")
        _stop_job(session_factory, workspace_id, report, *stopped, actor, file_name)
        raise
    return report


def _stop_job(
    session_factory: SessionFactory,
    workspace_id: int,
    report: ImportReport,
    status: ImportJobStatus,
    message: str,
    actor: Identity | None = None,
    file_name: str = "contacts.csv",
) -> None:
    """Mark a job that stopped part-way (unless its last chunk already marked it done),
    with its audit entry. Best effort: when the database is what failed, this fails too,
    and the job is still reported as interrupted once its heartbeat is stale
    (jobs.effective_status); a worker killed outright leaves no entry either (the consent
    history of its committed chunks is there all the same)."""
    if report.job_id is None or (report.total_rows and report.done >= report.total_rows):
        return
    try:
        with session_factory() as session:
            jobs.finish_job(session, workspace_id, report.job_id, status, message)
            _record(session, workspace_id, actor, file_name, report, status.value)
    except sa.exc.SQLAlchemyError:
        pass


def _record(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    file_name: str,
    report: ImportReport,
    status: str,
) -> None:
    contact_audit.record_import(
        session,
        workspace_id,
        actor,
        file_name,
        contact_audit.ImportCounts(
            status=status,
            total_rows=report.total_rows,
            created=report.created,
            updated=report.updated,
            skipped=report.skipped,
            failed=report.failed,
            opted_in=report.opted_in,
            opted_out=report.opted_out,
            job_id=report.job_id,
        ),
    )


def _write_chunk(
    session: Session,
    workspace_id: int,
    checks: list[RowCheck],
    on_duplicate: OnDuplicate,
    report: ImportReport,
    actor: Identity | None = None,
) -> None:
    # A write first: on SQLite it takes the write lock before anything is read, so a
    # concurrent writer cannot invalidate what this transaction reads (no SQLITE_BUSY on
    # upgrade); on PostgreSQL it queues concurrent importers of the same workspace.
    bump_data_version(session, workspace_id)
    live_labels = {label_id for label_id, _ in workspace_labels(session, workspace_id)}
    by_email_db, by_phone_db = existing_contacts(session, workspace_id, checks)
    # email / phone -> the contact (existing or new in this chunk) it now belongs to.
    by_email: dict[str, _Pending] = {}
    by_phone: dict[str, _Pending] = {}
    updates: dict[int, _Pending] = {}
    creates: list[_Pending] = []

    def find(kind: str, key: str | None) -> _Pending | None:
        if not key:
            return None
        index, database = (by_email, by_email_db) if kind == "email" else (by_phone, by_phone_db)
        if key in index:
            return index[key]
        existing = database.get(key)
        if existing is None:
            return None
        if existing.id not in updates:
            updates[existing.id] = _Pending(
                existing.id,
                custom_fields=existing.custom_fields,
                old_opt_in=existing.campaign_opt_in,
            )
        return updates[existing.id]

    for check in checks:
        if check.errors:
            report.failed += 1
            report.errors.extend(check.errors)
            continue
        email, phone = check.values.get("email"), check.values.get("phone")
        target = find("email", email) or find("phone", phone)
        if target is not None and on_duplicate == "skip":
            report.skipped += 1
            continue
        if target is None:
            target = _Pending(None)
            creates.append(target)
            report.created += 1
        else:
            report.updated += 1
        target.merge(check)
        target.label_ids = [i for i in target.label_ids if i in live_labels]
        report.warnings.extend(check.warnings)
        if email:
            by_email[email] = target
        if phone:
            by_phone[phone] = target

    now = utcnow()
    if creates:
        rows = [_new_row(workspace_id, pending, now) for pending in creates]
        ids = session.execute(
            sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True), rows
        ).scalars()
        for pending, contact_id in zip(creates, ids, strict=True):
            pending.id = contact_id
    touched = [pending for pending in updates.values() if pending.touched]
    _update_contacts(session, touched, now)
    _add_labels(session, creates, touched)
    report.opted_in, report.opted_out = contact_audit.import_consent(
        session,
        workspace_id,
        actor,
        [
            (pending.id, pending.old_opt_in, pending.values["campaign_opt_in"])
            for pending in [*creates, *touched]
            if pending.id is not None and "campaign_opt_in" in pending.values
        ],
    )


def _new_row(workspace_id: int, pending: _Pending, now) -> dict[str, Any]:
    values = pending.values
    name = values.get("name") or values.get("email") or values.get("phone") or ""
    return {
        "workspace_id": workspace_id,
        "name": name,
        "email": values.get("email"),
        "phone": values.get("phone"),
        "phone_digits": digits_only(values.get("phone")) or None,
        "image_url": None,
        "avatar_color": avatar_color(name),
        "channel": Channel.IMPORTED.value,
        "external_id": None,
        "created_at": now,
        "updated_at": now,
        "last_interaction_at": None,
        "last_message_text": None,
        "last_message_direction": None,
        "campaign_opt_in": bool(values.get("campaign_opt_in", False)),
        "custom_fields": pending.custom_fields,
    }


def avatar_color(name: str) -> str:
    """The same name always gets the same colour."""
    return AVATAR_COLORS[sum(map(ord, name)) % len(AVATAR_COLORS)]


def _update_contacts(session: Session, touched: list[_Pending], now) -> None:
    """Write only what the rows gave (an edit made meanwhile to another field stays)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for pending in touched:
        row: dict[str, Any] = {"id": pending.id, "updated_at": now}
        for key in ("name", "email", "phone", "campaign_opt_in"):
            if key in pending.values:
                row[key] = pending.values[key]
        if "phone" in row:
            row["phone_digits"] = digits_only(row["phone"]) or None
        if pending.custom_changed:
            row["custom_fields"] = pending.custom_fields
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for rows in groups.values():
        session.execute(sa.update(Contact), rows)


def _add_labels(session: Session, creates: list[_Pending], touched: list[_Pending]) -> None:
    pairs = {(p.id, label_id) for p in creates for label_id in p.label_ids}
    updated = {p.id: p.label_ids for p in touched if p.label_ids}
    if updated:
        existing = {
            (contact_id, label_id)
            for contact_id, label_id in session.execute(
                sa.select(ContactLabel.contact_id, ContactLabel.label_id).where(
                    ContactLabel.contact_id.in_(list(updated))
                )
            )
        }
        pairs.update(
            (contact_id, label_id)
            for contact_id, label_ids in updated.items()
            for label_id in label_ids
            if (contact_id, label_id) not in existing
        )
    if pairs:
        session.execute(
            sa.insert(ContactLabel),
            [{"contact_id": c, "label_id": label} for c, label in sorted(pairs)],
        )
