"""kill -9 during an import: a REAL separate process runs the import service and is killed
with SIGKILL while a chunk is written but not committed. Afterwards the database holds
exactly the committed chunks (no partial one), and the import's job row counts exactly
them and is reported as "Stopped at row N of M". SQLite file and PostgreSQL.

Run as a script (`python -m tests.unit.test_importer_crash URL WORKSPACE FILE READY`), this
module is the worker: it imports FILE in chunks of CHUNK rows and, once chunk KILL_IN_CHUNK
is written and counted but not yet committed, creates the READY file and waits to be
killed. Waiting for READY (not for a time) makes the kill land inside that open
transaction every time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.models import Contact, ImportJob

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1000
CHUNK = 100
KILL_IN_CHUNK = 4  # chunks 1-3 commit; chunk 4 is in flight when the kill comes
START_TIMEOUT_SECONDS = 120


def _worker(url: str, workspace_id: int, path: str, ready: str) -> None:
    from cloodot_app import db
    from cloodot_app.services.importer import read_csv, run_import

    engine = db.make_engine(url)
    sessions = 0

    @contextmanager
    def session_factory():
        nonlocal sessions
        sessions += 1
        with db.session_scope(engine) as session:
            yield session
            if sessions == 1 + KILL_IN_CHUNK:  # session 1 reads definitions, starts the job
                session.flush()  # the chunk's rows and counts are in the transaction
                Path(ready).write_text("writing")
                time.sleep(600)  # killed here, before the commit

    parsed = read_csv(Path(path).read_bytes())
    mapping = {"Name": "name", "Email": "email"}
    run_import(
        session_factory, workspace_id, parsed, mapping, chunk_size=CHUNK, file_name="big.csv"
    )


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "big.csv"
    lines = ["Name,Email", *(f"Person {i},p{i}@example.com" for i in range(1, ROWS + 1))]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_kill_9_mid_import_leaves_whole_chunks_and_a_true_report(
    database_url, engine, workspace_id, tmp_path
):
    ready = tmp_path / "ready"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.unit.test_importer_crash",
            database_url,
            str(workspace_id),
            str(_file(tmp_path)),
            str(ready),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not ready.exists():
            if worker.poll() is not None:
                raise AssertionError(f"worker exited early: {worker.stderr.read().decode()}")
            assert time.monotonic() < deadline, "the worker never reached the kill point"
            time.sleep(0.05)
        # The chunk in flight is invisible from outside, even before the kill.
        with Session(engine) as fresh:
            assert fresh.execute(sa.select(ImportJob.rows_done)).scalar_one() == 300
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.wait(timeout=60) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        worker.stderr.close()

    committed = (KILL_IN_CHUNK - 1) * CHUNK
    with Session(engine) as fresh:
        emails = list(
            fresh.execute(
                sa.select(Contact.email)
                .where(Contact.workspace_id == workspace_id)
                .order_by(Contact.id)
            ).scalars()
        )
        (job,) = fresh.execute(
            sa.select(ImportJob).where(ImportJob.workspace_id == workspace_id)
        ).scalars()
    # Exactly the committed chunks: rows 1..300 of the file, nothing of chunk 4.
    assert emails == [f"p{i}@example.com" for i in range(1, committed + 1)]
    # The job row counts exactly them; nobody could mark it, so it is still "running".
    assert (job.status, job.total_rows, job.rows_done) == ("running", ROWS, committed)
    assert (job.created, job.updated, job.skipped, job.failed) == (committed, 0, 0, 0)
    assert job.finished_at is None

    from cloodot_app.services.importer import STALE_AFTER, recent_imports

    with Session(engine) as fresh:
        (report,) = recent_imports(fresh, workspace_id, now=job.heartbeat_at + 2 * STALE_AFTER)
    assert report.status == "interrupted"
    assert report.summary.startswith(
        "Stopped at row 300 of 1,000 — rows 1–300 were imported (300 created)."
    )


if __name__ == "__main__":
    _worker(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
