"""Import jobs: one row per import that says how far it got, even after a crash.

`run_import` (write.py) starts a job, adds each chunk's counts to it IN THE SAME
TRANSACTION as the chunk's contacts, and marks it done (or failed / interrupted) at the
end. So whatever kills the process, the job row counts exactly the rows that are in the
database: rows 1..rows_done of the file (chunks are written in file order).

A worker killed mid-import (kill -9, power loss) cannot mark its job: the row stays
"running". Every chunk moves `heartbeat_at`, so a running job whose heartbeat is older
than STALE_AFTER is reported as interrupted. This is decided when the jobs are read,
never written back: a worker that was only slow (a long lock wait) and carries on is
shown running again, and no start-up hook of one worker can mark another worker's live
import as dead (with several workers or hosts, "mark running jobs interrupted at
start-up" would do exactly that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.models import ImportJob, ImportJobStatus, utcnow

# A chunk of 1,000 rows takes well under a second; a lock wait can stretch one to the
# 10 s busy timeout. A minute without progress means the worker is gone.
STALE_AFTER = timedelta(seconds=60)
RECENT_IMPORTS = 10
FILE_NAME_MAX_LENGTH = 255
MESSAGE_MAX_LENGTH = 1000


@dataclass(frozen=True)
class ChunkCounts:
    """What one committed chunk did (added to its job in the chunk's transaction)."""

    rows: int
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    problems: int = 0


@dataclass(frozen=True)
class ImportOutcome:
    """A job as the Import page lists it. `status` is the effective one (a running job
    whose worker is gone is "interrupted"); `summary` says it in words."""

    id: int
    file_name: str
    status: str
    total_rows: int
    rows_done: int
    created: int
    updated: int
    skipped: int
    failed: int
    problems: int
    message: str
    started_at: datetime
    finished_at: datetime | None
    summary: str


def start_job(
    session: Session, workspace_id: int, file_name: str, total_rows: int, on_duplicate: str
) -> int:
    """A new running job (flushed, committed with the caller's transaction)."""
    now = utcnow()
    job = ImportJob(
        workspace_id=workspace_id,
        file_name=(file_name or "contacts.csv")[:FILE_NAME_MAX_LENGTH],
        status=ImportJobStatus.RUNNING.value,
        on_duplicate=on_duplicate,
        total_rows=total_rows,
        started_at=now,
        heartbeat_at=now,
    )
    session.add(job)
    session.flush()
    assert job.id is not None
    return job.id


def record_chunk(session: Session, workspace_id: int, job_id: int, counts: ChunkCounts) -> None:
    """Add a chunk's counts to its job. Call it in the transaction that writes the chunk:
    then the job and the contacts are committed (or lost) together."""
    session.execute(
        sa.update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.workspace_id == workspace_id)
        .values(
            rows_done=ImportJob.rows_done + counts.rows,
            created=ImportJob.created + counts.created,
            updated=ImportJob.updated + counts.updated,
            skipped=ImportJob.skipped + counts.skipped,
            failed=ImportJob.failed + counts.failed,
            problems=ImportJob.problems + counts.problems,
            heartbeat_at=utcnow(),
        )
    )


def finish_job(
    session: Session, workspace_id: int, job_id: int, status: ImportJobStatus, message: str = ""
) -> None:
    now = utcnow()
    session.execute(
        sa.update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.workspace_id == workspace_id)
        .values(
            status=status.value,
            message=message[:MESSAGE_MAX_LENGTH],
            heartbeat_at=now,
            finished_at=now,
        )
    )


def effective_status(job: ImportJob, now: datetime | None = None) -> str:
    """The stored status, except that a running job without progress for STALE_AFTER is
    "interrupted" (its worker is gone)."""
    now = now or utcnow()
    if job.status == ImportJobStatus.RUNNING.value and now - job.heartbeat_at > STALE_AFTER:
        return ImportJobStatus.INTERRUPTED.value
    return job.status


def recent_imports(
    session: Session, workspace_id: int, limit: int = RECENT_IMPORTS, now: datetime | None = None
) -> list[ImportOutcome]:
    """The workspace's latest imports, newest first."""
    jobs = session.execute(
        sa.select(ImportJob)
        .where(ImportJob.workspace_id == workspace_id)
        .order_by(ImportJob.started_at.desc(), ImportJob.id.desc())
        .limit(max(1, limit))
    ).scalars()
    return [outcome(job, now) for job in jobs]


def outcome(job: ImportJob, now: datetime | None = None) -> ImportOutcome:
    assert job.id is not None
    status = effective_status(job, now)
    return ImportOutcome(
        id=job.id,
        file_name=job.file_name,
        status=status,
        total_rows=job.total_rows,
        rows_done=job.rows_done,
        created=job.created,
        updated=job.updated,
        skipped=job.skipped,
        failed=job.failed,
        problems=job.problems,
        message=job.message,
        started_at=job.started_at,
        finished_at=job.finished_at,
        summary=summarize(job, status),
    )


def summarize(job: ImportJob, status: str) -> str:
    """What happened, in words: "Stopped at row 3,000 of 10,000 — rows 1–3,000 were
    imported (2,990 created, 10 failed)."""
    counts = _counts(job)
    if status == ImportJobStatus.RUNNING.value:
        return f"Importing: {job.rows_done:,} of {job.total_rows:,} rows so far."
    if status == ImportJobStatus.DONE.value:
        return f"Imported {job.total_rows:,} rows{f' ({counts})' if counts else ''}."
    if job.rows_done == 0:
        return f"Stopped before row 1 of {job.total_rows:,} — nothing was imported."
    return (
        f"Stopped at row {job.rows_done:,} of {job.total_rows:,} — rows 1–{job.rows_done:,} "
        f"were imported ({counts}). Import the file again with “Update them” to finish."
    )


def _counts(job: ImportJob) -> str:
    parts = [
        (job.created, "created"),
        (job.updated, "updated"),
        (job.skipped, "skipped"),
        (job.failed, "failed"),
    ]
    return ", ".join(f"{count:,} {word}" for count, word in parts if count)
