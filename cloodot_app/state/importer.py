"""Contacts → Import: upload a CSV, map its columns, preview, run with progress, report,
and the workspace's recent imports.

The file itself stays on the backend (services.importer.uploads: a file under
data/imports/, parsed once); state holds only the headers, a ten-row preview and counts.
Every database call goes to an importer service through state/access.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
from functools import partial

import reflex as rx

from cloodot_app import routes
from cloodot_app.access import Capability
from cloodot_app.services import importer
from cloodot_app.settings import settings
from cloodot_app.state.access import (
    current_identity,
    in_workspace,
    in_workspace_transactions,
    requires,
)
from cloodot_app.state.urls import backend_url

IGNORE = "__ignore__"  # a select item cannot have "" as its value
MAX_BYTES = settings.import_max_bytes
UPLOAD_HINT = (
    "UTF-8 or Windows encodings; comma, semicolon or tab separated; up to "
    f"{importer.parse.MAX_ROWS:,} contacts, {importer.parse.MAX_COLUMNS} columns and "
    f"{importer.parse.size_text(MAX_BYTES)}."
)


@dataclasses.dataclass
class ColumnMapping:
    header: str = ""
    target: str = IGNORE
    samples: str = ""


@dataclasses.dataclass
class PreviewRow:
    row_number: int = 0
    name: str = ""
    email: str = ""
    phone: str = ""
    problems: str = ""
    duplicate: bool = False


@dataclasses.dataclass
class RecentImport:
    file_name: str = ""
    status: str = ""  # running | done | interrupted | failed
    summary: str = ""
    message: str = ""
    started_at: str = ""  # ISO, shown relative


def _mapping(columns: list[ColumnMapping]) -> dict[str, str]:
    return {c.header: ("" if c.target == IGNORE else c.target) for c in columns}


def _preview_row(check: importer.RowCheck) -> PreviewRow:
    return PreviewRow(
        row_number=check.row_number,
        name=str(check.values.get("name", "")),
        email=str(check.values.get("email", "")),
        phone=str(check.values.get("phone", "")),
        problems="; ".join(f"{e.column}: {e.message}" for e in [*check.errors, *check.warnings]),
        duplicate=check.duplicate,
    )


async def _check(token: str, columns: list[ColumnMapping]) -> tuple[str, list[PreviewRow]]:
    """(error, preview rows) of the upload under the columns' mapping."""
    try:
        checks = await in_workspace(importer.preview_upload, token, _mapping(columns))
    except importer.CsvImportError as error:
        return str(error), []
    return "", [_preview_row(check) for check in checks]


def _recent(outcomes: list[importer.ImportOutcome]) -> list[RecentImport]:
    return [
        RecentImport(
            file_name=o.file_name,
            status=o.status,
            summary=o.summary,
            message=o.message if o.status == "failed" else "",
            started_at=o.started_at.isoformat(),
        )
        for o in outcomes
    ]


class ImportState(rx.State):
    step: str = "upload"  # upload -> map -> running -> done
    file_name: str = ""
    total_rows: int = 0
    file_facts: str = ""
    error: str = ""
    columns: list[ColumnMapping] = []
    targets: list[list[str]] = []
    preview: list[PreviewRow] = []
    on_duplicate: str = "skip"
    done_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    problems: int = 0
    first_problems: list[str] = []
    errors_url: str = ""
    recent: list[RecentImport] = []
    _token: str = ""

    @rx.var
    def percent(self) -> int:
        return int(100 * self.done_rows / self.total_rows) if self.total_rows else 0

    @requires(Capability.IMPORT)
    async def load_recent(self):
        self.recent = _recent(await in_workspace(importer.recent_imports))

    @requires(Capability.IMPORT)
    def start_over(self):
        if self._token:
            importer.forget_upload(self._token)
        self.step, self.file_name, self.error, self.preview, self.columns = "upload", "", "", [], []
        self.errors_url, self._token = "", ""
        return rx.clear_selected_files("import_csv")

    @requires(Capability.IMPORT)
    def reject_file(self, code: str):
        """The browser refused the file before sending it: react-dropzone's error code."""
        if code == "file-too-large":
            self.error = importer.parse.too_big_message(MAX_BYTES)
        else:
            self.error = "Choose one CSV file (.csv, .tsv or .txt)."

    @requires(Capability.IMPORT, background=True)
    async def receive_upload(self, chunks: rx.UploadChunkIterator):
        """The upload streams in: written to its file as it comes, stopped at the size cap
        (a bigger file is never read whole), then parsed once."""
        upload = importer.UploadWriter(MAX_BYTES)
        name = None
        try:
            async for chunk in chunks:
                name = name or chunk.filename
                await rx.run_in_thread(partial(upload.write, chunk.data))
            if name is None:  # no file: the browser refused it (reject_file says why)
                return
            token = upload.close()
            summary = await in_workspace(importer.open_upload, token)
        except importer.CsvImportError as error:
            async with self:
                self.error, self.step = str(error), "upload"
            return
        except BaseException:
            upload.discard()
            raise
        columns = [
            ColumnMapping(
                header=header,
                target=summary.guessed.get(header) or IGNORE,
                samples=", ".join(summary.samples[header]),
            )
            for header in summary.headers
        ]
        error, preview = await _check(token, columns)
        async with self:
            if self._token:
                importer.forget_upload(self._token)
            self._token = token
            self.file_name = name.rsplit("/", 1)[-1] or "contacts.csv"
            self.total_rows = summary.total_rows
            self.file_facts = (
                f"{summary.total_rows:,} rows · {summary.encoding} · "
                f"{summary.delimiter_name}-separated"
            )
            self.targets = [[target or IGNORE, label] for target, label in summary.targets]
            self.columns, self.error, self.preview, self.step = columns, error, preview, "map"

    async def _preview(self) -> None:
        self.error, self.preview = await _check(self._token, self.columns)

    @requires(Capability.IMPORT)
    async def set_target(self, header: str, target: str):
        self.columns = [
            dataclasses.replace(c, target=target) if c.header == header else c for c in self.columns
        ]
        await self._preview()

    @requires(Capability.IMPORT)
    def set_on_duplicate(self, value: str):
        self.on_duplicate = "update" if value == "update" else "skip"

    @requires(Capability.IMPORT)
    async def start_import(self):
        await self._preview()
        if self.error:
            return
        self.step, self.done_rows = "running", 0
        return ImportState.run_import

    @requires(Capability.IMPORT, background=True)
    async def run_import(self):
        """The import runs in a worker thread; this loop only reports its progress."""
        async with self:
            token, mapping, mode = self._token, _mapping(self.columns), self.on_duplicate
            file_name = self.file_name
        progress = [0, 0]

        task = asyncio.ensure_future(
            in_workspace_transactions(
                importer.import_upload,
                token,
                mapping,
                on_duplicate=mode,
                progress=lambda done, total: progress.__setitem__(slice(0, 2), [done, total]),
                file_name=file_name,
                actor=current_identity(),
            )
        )
        while not task.done():
            await asyncio.sleep(0.5)
            async with self:
                self.done_rows = progress[0]
        try:
            report, failure = task.result(), ""
        except importer.ImportInterrupted as error:
            report, failure = error.report, str(error)
        except importer.CsvImportError as error:
            async with self:
                self.step, self.error = "map", str(error)
            return
        recent = _recent(await in_workspace(importer.recent_imports))
        async with self:
            self._show_report(report, token)
            self.error, self.step, self.recent, self._token = failure, "done", recent, ""
        yield rx.toast.success(
            f"Import finished: {report.created:,} created, {report.updated:,} updated."
        )

    def _show_report(self, report: importer.ImportReport, token: str) -> None:
        problems = sorted([*report.errors, *report.warnings], key=lambda p: p.row_number)
        self.done_rows = report.done
        self.created, self.updated = report.created, report.updated
        self.skipped, self.failed = report.skipped, report.failed
        self.problems = len(problems)
        self.first_problems = [f"Row {p.row_number}, {p.column}: {p.message}" for p in problems[:5]]
        self.errors_url = (
            backend_url(routes.API_IMPORT_ERRORS.replace("{token}", token)) if problems else ""
        )
