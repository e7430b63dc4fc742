"""Backups of the embedded database: taken while another thread keeps writing, restored,
and found whole (integrity check, schema at head, every committed write or none of it)."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import backup
from cloodot_app.backup import BackupError, backup_sqlite, restore_sqlite, sqlite_path
from cloodot_app.db import make_engine, migrate
from cloodot_app.models import Contact, Conversation, Message
from cloodot_app.services.workspaces import ensure_workspace

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def live_database(sqlite_template: Path, tmp_path: Path) -> Path:
    """A migrated SQLite file in WAL mode (as the app runs it) with some contacts."""
    path = tmp_path / "live.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        workspace = ensure_workspace(session, "acme")
        for number in range(2000):
            session.add(Contact(workspace_id=workspace.id, name=f"Seed {number}"))
        session.commit()
    engine.dispose()
    return path


class Writer(threading.Thread):
    """Writes one contact + conversation + message per transaction until stopped, so a
    consistent copy holds the same number of each, numbered without gaps."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(f"sqlite:///{path}")
        self.committed = 0
        self.error: BaseException | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with Session(self.engine) as session:
                    contact = Contact(workspace_id=1, name=f"Live {self.committed}")
                    session.add(contact)
                    session.flush()
                    conversation = Conversation(
                        workspace_id=1, contact_id=contact.id, channel="webchat"
                    )
                    session.add(conversation)
                    session.flush()
                    session.add(
                        Message(
                            conversation_id=conversation.id,
                            direction="incoming",
                            text="x" * 500,
                            sent_at=T0,
                        )
                    )
                    session.commit()
                self.committed += 1
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            self.engine.dispose()


def live_rows(path: Path) -> tuple[int, int, int, list[str]]:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            count = lambda table: connection.execute(  # noqa: E731
                sa.text(f"SELECT count(*) FROM {table}")
            ).scalar_one()
            names = connection.execute(
                sa.text("SELECT name FROM contact WHERE name LIKE 'Live %' ORDER BY id")
            ).scalars()
            return count("contact"), count("conversation"), count("message"), list(names)
    finally:
        engine.dispose()


def test_a_backup_taken_during_writes_restores_whole(live_database, tmp_path):
    writer = Writer(live_database)
    writer.start()
    try:
        while writer.committed < 20 and writer.is_alive():
            writer.stop.wait(0.01)
        committed_before = writer.committed
        copies = [backup_sqlite(live_database, tmp_path / f"copy-{n}.db") for n in range(3)]
        committed_after = writer.committed
        assert writer.is_alive(), writer.error  # the backups never stopped the writer
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error

    for number, copy in enumerate(copies):
        # The copy is one self-contained file.
        assert not Path(f"{copy}-wal").exists()
        restored = tmp_path / f"restored-{number}.db"
        restore_sqlite(copy, restored)
        with sqlite3.connect(restored) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        migrate(f"sqlite:///{restored}")  # at head already: a no-op, not an error
        contacts, conversations, messages, names = live_rows(restored)
        # Every write is there completely or not at all, in order, without gaps.
        assert conversations == messages == len(names)
        assert contacts == 2000 + len(names)
        assert names == [f"Live {n}" for n in range(len(names))]
        assert committed_before <= len(names) <= committed_after + 1
        # The restored database serves the app's search index too.
        engine = make_engine(f"sqlite:///{restored}")
        with engine.connect() as connection:
            found = connection.execute(
                sa.text(
                    "SELECT count(*) FROM contact_search WHERE contact_search MATCH 'Seed 1999'"
                )
            ).scalar_one()
        engine.dispose()
        assert found == 1


def test_restore_replaces_a_live_database_content(live_database, tmp_path):
    copy = backup_sqlite(live_database, tmp_path / "before.db")
    engine = make_engine(f"sqlite:///{live_database}")
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM contact"))
    engine.dispose()
    assert live_rows(live_database)[0] == 0
    restore_sqlite(copy, live_database)
    assert live_rows(live_database)[0] == 2000


def test_a_backup_never_overwrites(live_database, tmp_path):
    target = tmp_path / "taken.db"
    target.write_bytes(b"precious")
    with pytest.raises(BackupError, match="already exists"):
        backup_sqlite(live_database, target)
    assert target.read_bytes() == b"precious"
    with pytest.raises(BackupError, match="no database"):
        backup_sqlite(tmp_path / "missing.db", tmp_path / "x.db")


def test_restoring_a_damaged_backup_is_refused(live_database, tmp_path):
    damaged = tmp_path / "damaged.db"
    data = bytearray(backup_sqlite(live_database, tmp_path / "good.db").read_bytes())
    data[8192:16384] = b"\xff" * 8192  # overwrite two pages in the middle
    damaged.write_bytes(bytes(data))
    target = tmp_path / "target.db"
    with pytest.raises((BackupError, sqlite3.DatabaseError)):
        restore_sqlite(damaged, target)


def test_the_command_backs_up_to_a_dated_file_or_points_postgres_to_pg_dump(
    live_database, tmp_path, monkeypatch, capsys
):
    url = f"sqlite:///{live_database}"
    monkeypatch.setattr(backup, "BACKUP_DIR", tmp_path / "backups")
    assert backup.main([], database_url=url) == 0
    (made,) = (tmp_path / "backups").iterdir()
    assert made.name.startswith("cloodot-") and made.suffix == ".db"
    assert backup.main([str(made)], database_url=url) == 1
    assert "already exists" in capsys.readouterr().err

    assert backup.main([], database_url="postgresql+psycopg://app:s3cret@db/cloodot") == 2
    err = capsys.readouterr().err
    assert "pg_dump" in err and "s3cret" not in err


def test_sqlite_path():
    assert sqlite_path("sqlite:////data/cloodot.db") == Path("/data/cloodot.db")
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("postgresql+psycopg://u@h/db") is None
