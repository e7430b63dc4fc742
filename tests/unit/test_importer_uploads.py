"""Sizes and the upload's life: the size cap while the upload arrives, the column and row
caps, and a file parsed once per upload however often the mapping changes."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from cloodot_app import db
from cloodot_app.services import importer
from cloodot_app.services.importer import CsvImportError, UploadWriter, read_csv, uploads
from tests.unit.test_importer import contacts, csv_bytes


@pytest.fixture(autouse=True)
def import_dir(tmp_path: Path, monkeypatch) -> Path:
    """Uploads go to a folder of the test's own, and no parsed file is left cached."""
    folder = tmp_path / "imports"
    monkeypatch.setattr(uploads, "IMPORT_DIR", folder)
    uploads._cache.clear()
    yield folder
    uploads._cache.clear()


@pytest.fixture
def counted_reads(monkeypatch) -> list[int]:
    """How many times a file is parsed (one entry per read_csv call)."""
    calls: list[int] = []

    def counting(data: bytes):
        calls.append(len(data))
        return read_csv(data)

    monkeypatch.setattr(uploads, "read_csv", counting)
    return calls


def upload(data: bytes, max_bytes: int | None = None, chunk: int = 7) -> str:
    writer = UploadWriter(max_bytes)
    for start in range(0, len(data), chunk):
        writer.write(data[start : start + chunk])
    return writer.close()


# --------------------------------------------------------------------------- caps


def test_too_many_columns_are_refused_before_parsing():
    read_csv(csv_bytes(",".join(f"C{i}" for i in range(200)), ",".join("x" * 200)))
    wide = csv_bytes(",".join(f"C{i}" for i in range(20_000)), ",".join(["x"] * 20_000))
    with pytest.raises(CsvImportError) as error:
        read_csv(wide)
    assert str(error.value) == (
        "The file has 20,000 columns; at most 200 can be imported. "
        "Delete the columns you do not need and try again."
    )


def test_too_many_rows_are_refused_while_reading(monkeypatch):
    monkeypatch.setattr(importer.parse, "MAX_ROWS", 5)
    monkeypatch.setattr(importer.parse, "ROWS_PER_READ", 2)
    # Blank rows do not count; the rows are read two lines at a time.
    parsed = read_csv(csv_bytes("Name", "a", "", "b", "c", "", "d", "e"))
    assert [n for chunk in parsed.chunks() for n, _ in chunk] == [2, 4, 5, 7, 8]
    with pytest.raises(CsvImportError) as error:
        read_csv(csv_bytes("Name", *"abcdefghij"))
    assert "more than 5 contacts; you can import at most 5 at a time" in str(error.value)


def test_rows_read_in_slices_keep_their_numbers_and_errors(monkeypatch):
    monkeypatch.setattr(importer.parse, "ROWS_PER_READ", 2)
    parsed = read_csv(csv_bytes("", "Name,Notes", "Ana,one", "", 'Bob,"two', 'lines"', "Cy,3"))
    assert [n for chunk in parsed.chunks() for n, _ in chunk] == [3, 5, 6]
    with pytest.raises(CsvImportError, match="Row 5 has 3 values but the header has 2"):
        read_csv(csv_bytes("Name,Email", "a,a@x.com", "b,b@x.com", "c,c@x.com", "d,d@x.com,x"))


# --------------------------------------------------------------------------- the upload


def test_an_upload_is_written_as_it_arrives(import_dir):
    data = csv_bytes("Name,Email", "Ana,ana@example.com")
    token = upload(data)
    assert uploads.TOKEN.fullmatch(token)
    assert (import_dir / f"{token}.csv").read_bytes() == data


def test_an_upload_stops_at_the_cap_and_leaves_nothing(import_dir):
    writer = UploadWriter(max_bytes=10)
    writer.write(b"Name\r\nAn\r\n")  # exactly 10 bytes: still fine
    with pytest.raises(CsvImportError) as error:
        writer.write(b"B")
    assert str(error.value) == (
        "The file is larger than 10 bytes. Split it into smaller files and import them one "
        "after the other."
    )
    assert list(import_dir.iterdir()) == []


def test_the_cap_is_the_setting_in_megabytes(monkeypatch):
    monkeypatch.setattr(importer.parse, "MAX_BYTES", 20 * 1024 * 1024)
    writer = UploadWriter()
    assert writer.max_bytes == 20 * 1024 * 1024
    assert importer.parse.too_big_message(writer.max_bytes).startswith(
        "The file is larger than 20 MB."
    )


def test_the_file_is_parsed_once_however_often_the_mapping_changes(
    engine, session, workspace_id, import_dir, counted_reads
):
    data = csv_bytes("Name,E-mail,Notes", "Ana,ana@example.com,x", "Bob,bad,y")
    token = upload(data)
    summary = importer.open_upload(session, workspace_id, token)
    assert (summary.total_rows, summary.headers) == (2, ["Name", "E-mail", "Notes"])
    assert summary.guessed == {"Name": "name", "E-mail": "email", "Notes": ""}
    assert summary.samples["Name"] == ["Ana", "Bob"]
    for mapping in ({"Name": "name"}, {"Name": "name", "E-mail": "email"}, summary.guessed):
        checks = importer.preview_upload(session, workspace_id, token, mapping)
        assert [c.row_number for c in checks] == [2, 3]
    with pytest.raises(CsvImportError, match="Choose the column that holds"):
        importer.preview_upload(session, workspace_id, token, {"Notes": "labels"})
    session.rollback()
    report = importer.import_upload(
        partial(db.session_scope, engine), workspace_id, token, summary.guessed
    )
    assert (report.created, report.failed) == (1, 1)
    assert len(counted_reads) == 1
    assert [c.name for c in contacts(engine, workspace_id)] == ["Ana"]
    # The upload is gone; its problems file stays for the download link.
    assert sorted(p.name for p in import_dir.iterdir()) == [f"{token}-errors-w{workspace_id}.csv"]
    with pytest.raises(CsvImportError, match="no longer on the server"):
        importer.parsed_upload(token)


def test_a_worker_without_the_parsed_file_reads_it_again(import_dir, counted_reads):
    token = upload(csv_bytes("Name", "Ana"))
    first = importer.parsed_upload(token)
    uploads._cache.clear()  # another worker, or a restart
    again = importer.parsed_upload(token)
    assert again is not first and again.headers == first.headers
    assert len(counted_reads) == 2


def test_the_cache_keeps_the_latest_files_only(import_dir, counted_reads):
    tokens = [upload(csv_bytes("Name", f"N{i}")) for i in range(uploads.CACHED_FILES + 1)]
    for token in tokens:
        importer.parsed_upload(token)
    importer.parsed_upload(tokens[-1])
    assert len(counted_reads) == len(tokens)
    importer.parsed_upload(tokens[0])  # the oldest was evicted: read again
    assert len(counted_reads) == len(tokens) + 1


def test_a_file_that_cannot_be_imported_is_removed(session, workspace_id, import_dir):
    token = upload(b"")
    with pytest.raises(CsvImportError, match="The file is empty."):
        importer.open_upload(session, workspace_id, token)
    assert list(import_dir.iterdir()) == []


@pytest.mark.parametrize("token", ["../../etc/passwd", "short", "a" * 65, "x/" + "a" * 20])
def test_a_token_that_is_not_one_of_ours_reads_nothing(token):
    with pytest.raises(CsvImportError, match="no longer on the server"):
        importer.parsed_upload(token)
    importer.forget_upload("a" * 20)  # an unknown token: nothing to remove, no error


def test_old_uploads_are_removed_when_a_new_one_starts(import_dir):
    import os
    import time

    stale = upload(csv_bytes("Name", "Old"))
    fresh = upload(csv_bytes("Name", "New"))
    day_ago = time.time() - uploads.KEEP_SECONDS - 60
    os.utime(import_dir / f"{stale}.csv", (day_ago, day_ago))
    upload(csv_bytes("Name", "Newest"))
    names = {p.name for p in import_dir.iterdir()}
    assert f"{stale}.csv" not in names and f"{fresh}.csv" in names


def test_a_mapping_error_at_import_keeps_the_upload(engine, workspace_id, import_dir):
    token = upload(csv_bytes("Name", "Ana"))
    with pytest.raises(CsvImportError):
        importer.import_upload(
            partial(db.session_scope, engine), workspace_id, token, {"Name": "bogus"}
        )
    assert (import_dir / f"{token}.csv").exists()
    with db.session_scope(engine) as scoped:
        assert scoped.execute(sa.text("SELECT count(*) FROM import_job")).scalar_one() == 0
