"""An upload's life between the steps of the import: written to a file as it arrives
(refused past MAX_BYTES), parsed once, previewed at each mapping change, imported, removed.

The file waits under data/imports/, named by a random token that only the uploading tab
knows. Its parsed form is kept in a small per-process cache keyed by that token, so a
mapping change re-checks ten rows instead of re-reading the file (a 20 MB file takes
seconds to parse). A worker that does not have it (another worker behind Redis, or after
a restart, or evicted) parses the file again from disk: slower, never wrong.

Functions the UI calls take `(session, workspace_id, ...)` like every service.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session

from cloodot_app.access import Identity
from cloodot_app.errors import CsvImportError, ImportInterrupted
from cloodot_app.services.importer import parse
from cloodot_app.services.importer.check import PREVIEW_ROWS, RowCheck, preview
from cloodot_app.services.importer.mapping import (
    contact_field_definitions,
    guess_mapping,
    import_targets,
)
from cloodot_app.services.importer.parse import ParsedCsv, read_csv, too_big_message
from cloodot_app.services.importer.write import (
    ImportReport,
    OnDuplicate,
    Progress,
    SessionFactory,
    run_import,
)
from cloodot_app.settings import PROJECT_ROOT

IMPORT_DIR = PROJECT_ROOT / "data" / "imports"
# Uploads nobody imported and problem files are removed after a day.
KEEP_SECONDS = 24 * 3600
# Parsed files kept per process: a parsed file takes several times its size in memory.
CACHED_FILES = 4
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
GONE_MESSAGE = "The uploaded file is no longer on the server. Choose the file again."


def import_file(token: str, suffix: str = ".csv") -> Path:
    """Where an upload (or its error report) waits between steps, named by a random token
    (secrets.token_urlsafe) that only the uploading tab knows."""
    return IMPORT_DIR / f"{token}{suffix}"


class UploadWriter:
    """Writes an upload to its file chunk by chunk and stops at `max_bytes`: a 200 MB
    upload costs neither 200 MB of memory nor of disk, only the bytes up to the cap."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes = parse.MAX_BYTES if max_bytes is None else max_bytes
        self.token = secrets.token_urlsafe(16)
        self.size = 0
        self._file: BinaryIO | None = None

    @property
    def path(self) -> Path:
        return import_file(self.token)

    def write(self, data: bytes) -> None:
        """Append a chunk. Raises CsvImportError (and removes what was written) once the
        upload is larger than max_bytes."""
        if self._file is None:
            IMPORT_DIR.mkdir(parents=True, exist_ok=True)
            _remove_old_files()
            self._file = self.path.open("wb")
        self.size += len(data)
        if self.size > self.max_bytes:
            self.discard()
            raise CsvImportError(too_big_message(self.max_bytes))
        self._file.write(data)

    def close(self) -> str:
        """The finished upload's token."""
        if self._file is None:
            self.write(b"")
        assert self._file is not None
        self._file.close()
        return self.token

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
        self.path.unlink(missing_ok=True)


def _remove_old_files() -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in IMPORT_DIR.glob("*.csv"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            pass


# --------------------------------------------------------------------------- parsed once

_cache: OrderedDict[str, ParsedCsv] = OrderedDict()
_cache_lock = threading.Lock()


def parsed_upload(token: str) -> ParsedCsv:
    """The upload, parsed: from this process's cache, else read from its file (and kept).
    Raises CsvImportError when the file is not valid, or gone."""
    with _cache_lock:
        if token in _cache:
            _cache.move_to_end(token)
            return _cache[token]
    path = _upload_path(token)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CsvImportError(GONE_MESSAGE) from None
    parsed = read_csv(data)
    with _cache_lock:
        _cache[token] = parsed
        while len(_cache) > CACHED_FILES:
            _cache.popitem(last=False)
    return parsed


def forget_upload(token: str) -> None:
    """Drop the upload's file and its parsed form (the problems file stays)."""
    with _cache_lock:
        _cache.pop(token, None)
    _upload_path(token).unlink(missing_ok=True)


def _upload_path(token: str) -> Path:
    if not TOKEN.fullmatch(token):
        raise CsvImportError(GONE_MESSAGE)
    return import_file(token)


# --------------------------------------------------------------------------- the UI's steps


@dataclass(frozen=True)
class UploadSummary:
    """What the mapping screen shows of an upload (small: no rows beyond the samples)."""

    total_rows: int
    encoding: str
    delimiter_name: str
    headers: list[str]
    samples: dict[str, list[str]]  # header -> its first non-blank values
    guessed: dict[str, str]  # header -> target ("" = ignore)
    targets: list[tuple[str, str]]  # (target, label) for the dropdowns


def open_upload(session: Session, workspace_id: int, token: str) -> UploadSummary:
    """Parse a finished upload (once) and guess its mapping. Raises CsvImportError for a
    file that cannot be imported; its file is removed then."""
    try:
        parsed = parsed_upload(token)
    except CsvImportError:
        forget_upload(token)
        raise
    definitions = contact_field_definitions(session, workspace_id)
    return UploadSummary(
        total_rows=parsed.total_rows,
        encoding=parsed.encoding,
        delimiter_name=parsed.delimiter_name,
        headers=list(parsed.headers),
        samples={header: parsed.sample_values(header) for header in parsed.headers},
        guessed=guess_mapping(parsed.headers, definitions),
        targets=import_targets(definitions),
    )


def preview_upload(
    session: Session,
    workspace_id: int,
    token: str,
    mapping: Mapping[str, str],
    rows: int = PREVIEW_ROWS,
) -> list[RowCheck]:
    """The first rows of the upload under this mapping (check.preview). Raises
    CsvImportError for an invalid mapping or a file that is gone."""
    return preview(parsed_upload(token), mapping, session, workspace_id, rows)


def problems_suffix(workspace_id: int) -> str:
    """The problems file is named for its workspace too: the download route serves a
    member only their own workspace's files, whoever else learns the link."""
    return f"-errors-w{workspace_id}.csv"


def save_problems(workspace_id: int, token: str, report: ImportReport) -> bool:
    """Write the report's problems file next to the upload; False when there are none."""
    if not report.errors and not report.warnings:
        return False
    IMPORT_DIR.mkdir(parents=True, exist_ok=True)
    path = import_file(token, problems_suffix(workspace_id))
    path.write_text(report.errors_csv(), encoding="utf-8")
    return True


def import_upload(
    session_factory: SessionFactory,
    workspace_id: int,
    token: str,
    mapping: Mapping[str, str],
    on_duplicate: OnDuplicate = "skip",
    progress: Progress | None = None,
    file_name: str = "contacts.csv",
    *,
    actor: Identity | None = None,
) -> ImportReport:
    """Import the upload (write.run_import, by `actor`), write its problems file, remove
    the upload.
    When the database fails part-way, the ImportInterrupted raised carries the report of
    the chunks done, whose problems file is written too. A CsvImportError for the mapping
    leaves the upload in place (the user fixes the mapping and starts again)."""
    parsed = parsed_upload(token)
    try:
        report = run_import(
            session_factory,
            workspace_id,
            parsed,
            mapping,
            on_duplicate,
            progress,
            file_name=file_name,
            actor=actor,
        )
    except ImportInterrupted as error:
        save_problems(workspace_id, token, error.report)
        forget_upload(token)
        raise
    save_problems(workspace_id, token, report)
    forget_upload(token)
    return report
