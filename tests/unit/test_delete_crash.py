"""kill -9 during a bulk delete: a REAL separate process deletes every contact of a view and
is killed with SIGKILL after the first chunk's rows are deleted but before the commit.
Afterwards every contact, conversation, message and label link is still there: a bulk
delete is all or nothing (issue 8, item 5). SQLite file and PostgreSQL.

Run as a script (`python -m tests.unit.test_delete_crash URL WORKSPACE READY`), this module
is the worker: once the first `DELETE FROM contact` of the delete has run, it creates the
READY file and waits to be killed inside the open transaction.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.models import Contact, ContactLabel, Conversation, Label, Message

ROOT = Path(__file__).resolve().parents[2]
CONTACTS = 1200  # the delete works in chunks of 500: three of them
START_TIMEOUT_SECONDS = 120


def _worker(url: str, workspace_id: int, ready: str) -> None:
    from cloodot_app import db
    from cloodot_app.services.contact_deletes import Selection, delete_contacts
    from cloodot_app.services.contacts import ContactQuery

    engine = db.make_engine(url)

    @sa.event.listens_for(engine, "after_cursor_execute")
    def pause_after_the_first_chunk(conn, cursor, statement, parameters, context, many):
        if statement.lstrip().upper().startswith("DELETE FROM CONTACT "):
            Path(ready).write_text("deleting")
            time.sleep(600)  # killed here, before the commit

    with db.session_scope(engine) as session:
        delete_contacts(session, workspace_id, Selection(query=ContactQuery()))


def _world(session: Session, workspace_id: int) -> dict[str, int]:
    label = Label(workspace_id=workspace_id, name="VIP")
    session.add(label)
    session.flush()
    session.execute(
        sa.insert(Contact),
        [
            {"workspace_id": workspace_id, "name": f"Person {n}", "custom_fields": {}}
            for n in range(CONTACTS)
        ],
    )
    ids = list(session.execute(sa.select(Contact.id).order_by(Contact.id)).scalars())
    session.execute(
        sa.insert(Conversation),
        [
            {
                "workspace_id": workspace_id,
                "contact_id": i,
                "channel": "webchat",
                "custom_fields": {},
            }
            for i in ids[::3]
        ],
    )
    conversations = list(session.execute(sa.select(Conversation.id)).scalars())
    session.execute(
        sa.insert(Message),
        [{"conversation_id": c, "direction": "incoming", "text": "hi"} for c in conversations],
    )
    session.execute(
        sa.insert(ContactLabel), [{"contact_id": i, "label_id": label.id} for i in ids[::2]]
    )
    session.commit()
    return _counts(session)


def _counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {
        model.__tablename__: session.execute(
            sa.select(sa.func.count()).select_from(model)
        ).scalar_one()
        for model in (Contact, Conversation, Message, ContactLabel)
    }


def test_kill_9_mid_delete_leaves_everything(database_url, engine, session, workspace_id, tmp_path):
    before = _world(session, workspace_id)
    assert before["contact"] == CONTACTS and before["message"] == CONTACTS // 3
    ready = tmp_path / "ready"
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.unit.test_delete_crash", database_url, str(workspace_id),
         str(ready)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not ready.exists():
            if worker.poll() is not None:
                raise AssertionError(f"worker exited early: {worker.stderr.read().decode()}")
            assert time.monotonic() < deadline, "the worker never reached the kill point"
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.wait(timeout=60) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        worker.stderr.close()

    with Session(engine) as fresh:
        assert _counts(fresh) == before


if __name__ == "__main__":
    _worker(sys.argv[1], int(sys.argv[2]), sys.argv[3])
