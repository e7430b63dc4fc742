"""Back up (and restore) the embedded SQLite database, safely while the app runs.

    python -m cloodot_app.backup                         # data/backups/cloodot-YYYYMMDD-HHMMSS.db
    python -m cloodot_app.backup data/backups/mine.db    # or `make backup [BACKUP=path]`
    python -m cloodot_app.backup --restore data/backups/mine.db    # stop the app first

Copying the file with `cp` while the app writes can give a torn copy, and misses what
still sits in the -wal file. SQLite's online backup API copies every page within one read
transaction: the copy is the database as of one instant, and the app's writers go on
meanwhile (WAL mode). The copy is checked (PRAGMA integrity_check) before it is kept.

On PostgreSQL (DATABASE_URL=postgresql+psycopg://...) use pg_dump instead; the command
says so and exits.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from cloodot_app.settings import PROJECT_ROOT, settings

BACKUP_DIR = PROJECT_ROOT / "data" / "backups"
# How long to wait for a writer's lock before giving up (the app's own busy timeout is 10 s).
_BUSY_TIMEOUT_SECONDS = 30


class BackupError(RuntimeError):
    """A backup or restore that could not be made (the message says why)."""


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL, or None for any other database."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def default_destination(now: datetime | None = None) -> Path:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return BACKUP_DIR / f"cloodot-{stamp}.db"


def _check(connection: sqlite3.Connection, what: str) -> None:
    result = connection.execute("PRAGMA integrity_check").fetchall()
    if result != [("ok",)]:
        problems = "; ".join(str(row[0]) for row in result[:5])
        raise BackupError(f"{what} failed its integrity check: {problems}")


def backup_sqlite(source: Path, destination: Path) -> Path:
    """Copy the database at `source` to `destination` (a new file) and check the copy."""
    if not source.is_file():
        raise BackupError(f"There is no database at {source}.")
    if destination.exists():
        raise BackupError(f"{destination} already exists; choose another name.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            _connect(source) as reader,
            _connect(partial) as copy,
        ):
            # pages=-1: every page in one step, under one read transaction (a snapshot).
            reader.backup(copy, pages=-1)
            # One self-contained file, whatever the journal mode of the original.
            copy.execute("PRAGMA journal_mode=DELETE")
            _check(copy, "The copy")
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def restore_sqlite(backup: Path, target: Path) -> None:
    """Replace the database at `target` with the backup's content (stop the app first:
    open connections would keep reading what they had cached)."""
    if not backup.is_file():
        raise BackupError(f"There is no backup at {backup}.")
    with _connect(backup) as source:
        _check(source, "The backup")
        target.parent.mkdir(parents=True, exist_ok=True)
        with _connect(target) as database:
            # Through the backup API too, so that the target's -wal file cannot resurrect
            # pages of the old database.
            source.backup(database, pages=-1)
            _check(database, "The restored database")


class _connect:
    """sqlite3.connect that also closes (sqlite3's own context manager only commits)."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_SECONDS)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc) -> None:
        self.connection.close()


def main(argv: list[str] | None = None, database_url: str | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cloodot_app.backup",
        description="Back up the SQLite database while the app runs (PostgreSQL: pg_dump).",
    )
    parser.add_argument(
        "destination", nargs="?", type=Path, help="the new file (default: data/backups/…)"
    )
    parser.add_argument("--restore", type=Path, metavar="BACKUP", help="restore this backup")
    args = parser.parse_args(argv)
    url = database_url or settings.database_url
    path = sqlite_path(url)
    if path is None:
        shown = sa.engine.make_url(url).set(drivername="postgresql")
        print(
            "DATABASE_URL is not a SQLite file. For PostgreSQL use pg_dump, e.g.\n"
            f"  pg_dump --format=custom --file=cloodot-{datetime.now():%Y%m%d}.dump "
            f"'{shown.render_as_string(hide_password=True)}'\n"
            "and pg_restore to restore it.",
            file=sys.stderr,
        )
        return 2
    try:
        if args.restore is not None:
            restore_sqlite(args.restore, path)
            print(f"Restored {path} from {args.restore}.")
        else:
            destination = backup_sqlite(path, args.destination or default_destination())
            print(f"Backed up {path} to {destination}.")
    except (BackupError, sqlite3.Error) as error:
        print(f"Backup failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
