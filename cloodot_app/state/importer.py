"""Contacts → Import: upload a CSV, map its columns, preview, run with progress, report.

The file itself stays on the backend (a file under data/imports/); state holds only the
headers, a ten-row preview and counts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from functools import partial

import reflex as rx

from cloodot_app import routes
from cloodot_app.db import session_scope
from cloodot_app.services import importer
from cloodot_app.services.importer import IMPORT_DIR, import_file
from cloodot_app.state.export import backend_url
from cloodot_app.state.workspace import current_workspace_id

IGNORE = "__ignore__"  # a select item cannot have "" as its value


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


def _definitions():
    with session_scope() as session:
        return importer.contact_field_definitions(session, current_workspace_id())


def _mapping(columns: list[ColumnMapping]) -> dict[str, str]:
    return {c.header: ("" if c.target == IGNORE else c.target) for c in columns}


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
    _token: str = ""

    @rx.var
    def percent(self) -> int:
        return int(100 * self.done_rows / self.total_rows) if self.total_rows else 0

    @rx.event
    def start_over(self):
        if self._token:
            import_file(self._token).unlink(missing_ok=True)
        self.step, self.file_name, self.error, self.preview, self.columns = "upload", "", "", [], []
        self.errors_url, self._token = "", ""
        return rx.clear_selected_files("import_csv")

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):
        if not files:
            return
        upload = files[0]
        data = await upload.read()
        try:
            parsed = await rx.run_in_thread(lambda: importer.read_csv(data))
        except importer.CsvImportError as error:
            self.error = str(error)
            return
        definitions = await rx.run_in_thread(_definitions)
        token = secrets.token_urlsafe(16)
        IMPORT_DIR.mkdir(parents=True, exist_ok=True)
        import_file(token).write_bytes(data)
        guessed = importer.guess_mapping(parsed.headers, definitions)
        self._token = token
        self.file_name = upload.name or "contacts.csv"
        self.total_rows = parsed.total_rows
        self.file_facts = (
            f"{parsed.total_rows:,} rows · {parsed.encoding} · {parsed.delimiter_name}-separated"
        )
        self.targets = [
            [target or IGNORE, label] for target, label in importer.import_targets(definitions)
        ]
        self.columns = [
            ColumnMapping(
                header=header,
                target=guessed.get(header) or IGNORE,
                samples=", ".join(parsed.sample_values(header)),
            )
            for header in parsed.headers
        ]
        self.error, self.step = "", "map"
        await self._preview()

    def _parsed(self) -> importer.ParsedCsv:
        return importer.read_csv(import_file(self._token).read_bytes())

    async def _preview(self) -> None:
        mapping = _mapping(self.columns)

        def check():
            parsed = self._parsed()
            with session_scope() as session:
                workspace_id = current_workspace_id()
                definitions = importer.contact_field_definitions(session, workspace_id)
                importer.validate_mapping(parsed.headers, mapping, definitions)
                return importer.preview(parsed, mapping, session, workspace_id)

        try:
            checks = await rx.run_in_thread(check)
        except importer.CsvImportError as error:
            self.error, self.preview = str(error), []
            return
        self.error = ""
        self.preview = [
            PreviewRow(
                row_number=c.row_number,
                name=str(c.values.get("name", "")),
                email=str(c.values.get("email", "")),
                phone=str(c.values.get("phone", "")),
                problems="; ".join(f"{e.column}: {e.message}" for e in [*c.errors, *c.warnings]),
                duplicate=c.duplicate,
            )
            for c in checks
        ]

    @rx.event
    async def set_target(self, header: str, target: str):
        self.columns = [
            dataclasses.replace(c, target=target) if c.header == header else c for c in self.columns
        ]
        await self._preview()

    @rx.event
    def set_on_duplicate(self, value: str):
        self.on_duplicate = "update" if value == "update" else "skip"

    @rx.event
    async def start_import(self):
        await self._preview()
        if self.error:
            return
        self.step, self.done_rows = "running", 0
        return ImportState.run_import

    @rx.event(background=True)
    async def run_import(self):
        """The import runs in a worker thread; this loop only reports its progress."""
        async with self:
            token, mapping, mode = self._token, _mapping(self.columns), self.on_duplicate
        progress = [0, 0]

        def work():
            return importer.run_import(
                partial(session_scope),
                current_workspace_id(),
                importer.read_csv(import_file(token).read_bytes()),
                mapping,
                on_duplicate=mode,
                progress=lambda done, total: progress.__setitem__(slice(0, 2), [done, total]),
            )

        task = asyncio.ensure_future(asyncio.to_thread(work))
        while not task.done():
            await asyncio.sleep(0.5)
            async with self:
                self.done_rows = progress[0]
        try:
            report = task.result()
            failure = ""
        except importer.ImportInterrupted as error:
            report, failure = error.report, str(error)
        except importer.CsvImportError as error:
            async with self:
                self.step, self.error = "map", str(error)
            return
        problems = [*report.errors, *report.warnings]
        if problems:
            import_file(token, "-errors.csv").write_text(report.errors_csv(), encoding="utf-8")
        import_file(token).unlink(missing_ok=True)
        async with self:
            self.done_rows = report.created + report.updated + report.skipped + report.failed
            self.created, self.updated = report.created, report.updated
            self.skipped, self.failed = report.skipped, report.failed
            self.problems = len(problems)
            self.first_problems = [
                f"Row {p.row_number}, {p.column}: {p.message}"
                for p in sorted(problems, key=lambda p: p.row_number)[:5]
            ]
            self.errors_url = (
                backend_url(routes.API_IMPORT_ERRORS.replace("{token}", token)) if problems else ""
            )
            self.error, self.step = failure, "done"
        yield rx.toast.success(
            f"Import finished: {report.created:,} created, {report.updated:,} updated."
        )
