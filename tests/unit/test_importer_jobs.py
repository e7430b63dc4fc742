"""Import jobs: every import is a row whose counts are committed with the chunks they count,
so the Import page can say where an import stopped. SQLite and PostgreSQL.

The kill -9 proof with a real process is in test_importer_crash.py.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from functools import partial

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import db
from cloodot_app.models import ImportJob, utcnow
from cloodot_app.services import importer
from cloodot_app.services.importer import (
    STALE_AFTER,
    CsvImportError,
    ImportInterrupted,
    read_csv,
    recent_imports,
    run_import,
)
from cloodot_app.services.importer.jobs import effective_status
from tests.unit.test_importer import contacts, csv_bytes, do_import, identity

ROWS = [f"P{i},p{i}@example.com" for i in range(6)]


@pytest.fixture
def factory(engine: sa.Engine):
    return partial(db.session_scope, engine)


def jobs_of(engine: sa.Engine, workspace_id: int) -> list[ImportJob]:
    with Session(engine) as fresh:
        return list(
            fresh.execute(
                sa.select(ImportJob)
                .where(ImportJob.workspace_id == workspace_id)
                .order_by(ImportJob.id)
            ).scalars()
        )


def shown(engine: sa.Engine, workspace_id: int) -> list[importer.ImportOutcome]:
    with Session(engine) as fresh:
        return recent_imports(fresh, workspace_id)


def test_a_finished_import_is_a_done_job_with_the_reports_counts(engine, factory, workspace_id):
    data = csv_bytes("Name,Email", "Ana,ana@example.com", "Bob,not-an-email", "Cy,cy@example.com")
    do_import(factory, workspace_id, data, chunk_size=2)
    report = do_import(factory, workspace_id, data, chunk_size=2, file_name="people.csv")
    first, job = jobs_of(engine, workspace_id)
    assert report.job_id == job.id and first.id != job.id
    assert (job.file_name, job.status, job.on_duplicate) == ("people.csv", "done", "skip")
    assert (job.total_rows, job.rows_done) == (3, 3)
    assert (job.created, job.updated, job.skipped, job.failed, job.problems) == (0, 0, 2, 1, 1)
    assert job.finished_at is not None and job.message == ""
    (latest, older) = shown(engine, workspace_id)[:2]
    assert (latest.id, older.id) == (job.id, first.id)
    assert latest.summary == "Imported 3 rows (2 skipped, 1 failed)."
    assert older.summary == "Imported 3 rows (2 created, 1 failed)."


def test_a_stopped_import_says_where_it_stopped(engine, factory, workspace_id):
    def stop(done: int, total: int) -> None:
        if done >= 4:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        do_import(
            factory, workspace_id, csv_bytes("Name,Email", *ROWS), chunk_size=2, progress=stop
        )
    (job,) = jobs_of(engine, workspace_id)
    assert (job.status, job.rows_done, job.created, job.total_rows) == ("interrupted", 4, 4, 6)
    assert len(contacts(engine, workspace_id)) == 4
    (latest,) = shown(engine, workspace_id)
    assert latest.status == "interrupted"
    assert latest.summary.startswith("Stopped at row 4 of 6 — rows 1–4 were imported (4 created).")


def test_a_database_failure_marks_the_job_failed_with_the_reason(engine, workspace_id):
    calls = 0

    @contextmanager
    def failing_factory():
        nonlocal calls
        calls += 1
        if calls == 3:  # 1: definitions and the job, 2: first chunk, 3: second chunk
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))
        with db.session_scope(engine) as scoped:
            yield scoped

    parsed = read_csv(csv_bytes("Name,Email", *ROWS))
    with pytest.raises(ImportInterrupted) as error:
        run_import(failing_factory, workspace_id, parsed, identity(parsed.headers), chunk_size=2)
    (job,) = jobs_of(engine, workspace_id)
    assert (job.status, job.rows_done, job.created) == ("failed", 2, 2)
    assert job.message == str(error.value)
    assert shown(engine, workspace_id)[0].summary.startswith(
        "Stopped at row 2 of 6 — rows 1–2 were imported"
    )


def test_the_job_counts_are_rolled_back_with_their_chunk(engine, workspace_id):
    """A chunk whose commit fails leaves neither its contacts nor its counts."""
    calls = 0

    @contextmanager
    def commit_fails_on_chunk_two():
        nonlocal calls
        calls += 1
        with db.session_scope(engine) as scoped:
            yield scoped
            if calls == 3:  # the second chunk: written and counted, then the commit fails
                scoped.flush()
                raise sa.exc.OperationalError("COMMIT", {}, Exception("disk full"))

    parsed = read_csv(csv_bytes("Name,Email", *ROWS))
    with pytest.raises(ImportInterrupted):
        run_import(
            commit_fails_on_chunk_two, workspace_id, parsed, identity(parsed.headers), chunk_size=2
        )
    (job,) = jobs_of(engine, workspace_id)
    assert (job.rows_done, job.created) == (2, 2)
    assert [c.name for c in contacts(engine, workspace_id)] == ["P0", "P1"]


def test_an_invalid_mapping_starts_no_job(engine, factory, workspace_id):
    parsed = read_csv(csv_bytes("Name,Email", "Ana,a@example.com"))
    with pytest.raises(CsvImportError):
        run_import(factory, workspace_id, parsed, {"Name": "bogus"})
    with pytest.raises(CsvImportError):
        run_import(factory, workspace_id, parsed, {"Name": "name"}, on_duplicate="merge")
    assert jobs_of(engine, workspace_id) == []


def test_a_running_job_without_a_heartbeat_is_interrupted(session, workspace_id):
    now = utcnow()
    job_id = importer.jobs.start_job(session, workspace_id, "big.csv", 10_000, "skip")
    importer.jobs.record_chunk(
        session, workspace_id, job_id, importer.jobs.ChunkCounts(rows=3000, created=3000)
    )
    session.commit()
    job = session.get(ImportJob, job_id)
    assert effective_status(job, now) == "running"
    assert effective_status(job, job.heartbeat_at + STALE_AFTER) == "running"
    later = job.heartbeat_at + STALE_AFTER + timedelta(seconds=1)
    assert effective_status(job, later) == "interrupted"
    (running,) = recent_imports(session, workspace_id, now=now)
    assert running.summary == "Importing: 3,000 of 10,000 rows so far."
    (gone,) = recent_imports(session, workspace_id, now=later)
    assert gone.status == "interrupted"
    assert gone.summary.startswith(
        "Stopped at row 3,000 of 10,000 — rows 1–3,000 were imported (3,000 created)."
    )
    # Stored status untouched: deciding "interrupted" is a reading, not a write.
    session.expire_all()
    assert session.get(ImportJob, job_id).status == "running"


def test_a_finished_job_is_never_stale(session, workspace_id):
    job_id = importer.jobs.start_job(session, workspace_id, "a.csv", 0, "skip")
    importer.jobs.finish_job(session, workspace_id, job_id, importer.jobs.ImportJobStatus.DONE)
    session.commit()
    job = session.get(ImportJob, job_id)
    assert effective_status(job, job.heartbeat_at + timedelta(days=30)) == "done"


def test_recent_imports_are_the_workspaces_own_newest_first(
    engine, factory, session, make_workspace, workspace_id
):
    other = make_workspace("other", "Other")
    do_import(factory, other, csv_bytes("Name", "Theirs"), file_name="theirs.csv")
    for index in range(3):
        do_import(factory, workspace_id, csv_bytes("Name", f"N{index}"), file_name=f"{index}.csv")
    assert [o.file_name for o in recent_imports(session, workspace_id)] == [
        "2.csv",
        "1.csv",
        "0.csv",
    ]
    assert [o.file_name for o in recent_imports(session, workspace_id, limit=2)] == [
        "2.csv",
        "1.csv",
    ]
    assert [o.file_name for o in recent_imports(session, other)] == ["theirs.csv"]
    # Another workspace's job id is not updated through this workspace.
    theirs = jobs_of(engine, other)[0]
    importer.jobs.record_chunk(
        session, workspace_id, theirs.id, importer.jobs.ChunkCounts(rows=99, created=99)
    )
    session.commit()
    assert jobs_of(engine, other)[0].rows_done == 1
