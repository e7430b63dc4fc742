"""Contacts → Import: upload, map columns, preview, run, report."""

from __future__ import annotations

import reflex as rx

from cloodot_app import routes
from cloodot_app.components.contact_bits import relative_time
from cloodot_app.components.dialogs import error_alert
from cloodot_app.state.importer import (
    MAX_BYTES,
    UPLOAD_HINT,
    ColumnMapping,
    ImportState,
    PreviewRow,
    RecentImport,
)


def _labelled_upload(upload: rx.Component, label: str) -> rx.Component:
    """rx.upload's hidden file input has no props of its own: give it its accessible name
    (screen readers and axe look for one on every form control)."""
    file_input = upload.children[0].children[0]
    file_input.custom_attrs["aria-label"] = label
    return upload


def upload_step() -> rx.Component:
    return rx.vstack(
        _labelled_upload(
            rx.upload(
                rx.vstack(
                    rx.icon("upload", size=28, color=rx.color("gray", 9)),
                    rx.text("Drop a CSV file here, or click to choose one", weight="medium"),
                    rx.text(UPLOAD_HINT, size="1", color_scheme="gray"),
                    align="center",
                    spacing="2",
                    padding=rx.breakpoints(initial="8px", sm="40px"),
                ),
                id="import_csv",
                multiple=False,
                max_files=1,
                accept={"text/csv": [".csv"], "text/plain": [".txt", ".tsv"]},
                # Streamed: the handler writes chunks as they come and stops at the size cap
                # (max_size makes the browser refuse a bigger file before sending it).
                on_drop=ImportState.receive_upload(rx.upload_files_chunk(upload_id="import_csv")),
                # Only the error code goes to the server: the rejected File itself would be
                # sent whole over the websocket (and a 20 MB one drops the connection).
                on_drop_rejected=lambda rejected: ImportState.reject_file(
                    rejected[0].to(dict)["errors"].to(list)[0].to(dict)["code"].to(str)
                ),
                max_size=MAX_BYTES,
                border=f"2px dashed {rx.color('gray', 7)}",
                border_radius="12px",
                width="100%",
                padding=rx.breakpoints(initial="24px 12px", sm="5em"),
                cursor="pointer",
                aria_label="Upload a CSV file",
            ),
            "Choose a CSV file to import",
        ),
        error_alert(ImportState.error),
        width="100%",
    )


def _mapping_row(column: ColumnMapping) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(column.header, weight="medium")),
        rx.table.cell(rx.text(column.samples, size="1", color_scheme="gray"), max_width="320px"),
        rx.table.cell(
            rx.select.root(
                rx.select.trigger(aria_label="Import " + column.header + " as", width="220px"),
                rx.select.content(
                    rx.foreach(ImportState.targets, lambda t: rx.select.item(t[1], value=t[0]))
                ),
                value=column.target,
                on_change=lambda value: ImportState.set_target(column.header, value),
            )
        ),
        align="center",
    )


def _preview_row(row: PreviewRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.row_number.to_string()),
        rx.table.cell(row.name),
        rx.table.cell(row.email),
        rx.table.cell(row.phone),
        rx.table.cell(
            rx.cond(
                row.problems != "",
                rx.text(row.problems, color_scheme="red", size="1"),
                rx.cond(
                    row.duplicate,
                    rx.badge("duplicate", color_scheme="amber", variant="soft"),
                    rx.badge("ok", color_scheme="green", variant="soft"),
                ),
            )
        ),
    )


def map_step() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon("file_text", size=18),
            rx.text(ImportState.file_name, weight="bold"),
            rx.text(ImportState.file_facts, size="2", color_scheme="gray"),
            rx.spacer(),
            rx.button(
                "Choose another file",
                variant="soft",
                color_scheme="gray",
                on_click=ImportState.start_over,
            ),
            align="center",
            width="100%",
        ),
        rx.heading("Map columns", size="3"),
        rx.table.root(
            rx.el.caption("Column mapping", class_name="sr-only"),
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Column in the file"),
                    rx.table.column_header_cell("Examples"),
                    rx.table.column_header_cell("Import as"),
                )
            ),
            rx.table.body(rx.foreach(ImportState.columns, _mapping_row)),
            variant="surface",
            width="100%",
        ),
        error_alert(ImportState.error),
        rx.heading("Preview (first rows)", size="3"),
        rx.table.root(
            rx.el.caption("Preview", class_name="sr-only"),
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("Row", "Name", "Email", "Phone", "Check")
                    ]
                )
            ),
            rx.table.body(rx.foreach(ImportState.preview, _preview_row)),
            variant="surface",
            width="100%",
        ),
        rx.hstack(
            rx.text("Contacts that already exist (same email or phone):", size="2"),
            rx.radio_group.root(
                rx.hstack(
                    rx.el.label(
                        rx.hstack(
                            rx.radio_group.item(value="skip"),
                            rx.text("Skip them", size="2"),
                            spacing="1",
                            align="center",
                        )
                    ),
                    rx.el.label(
                        rx.hstack(
                            rx.radio_group.item(value="update"),
                            rx.text("Update them", size="2"),
                            spacing="1",
                            align="center",
                        )
                    ),
                    spacing="4",
                ),
                value=ImportState.on_duplicate,
                on_change=ImportState.set_on_duplicate,
                aria_label="Duplicates",
            ),
            align="center",
            spacing="3",
        ),
        rx.hstack(
            rx.button(
                rx.icon("upload", size=14),
                "Import ",
                ImportState.total_rows.to_string(),
                rx.cond(ImportState.total_rows == 1, " row", " rows"),
                on_click=ImportState.start_import,
                disabled=ImportState.error != "",
            ),
            justify="end",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def running_step() -> rx.Component:
    return rx.vstack(
        rx.text("Importing ", ImportState.file_name, "…", weight="bold"),
        rx.progress(value=ImportState.percent, width="100%", aria_label="Import progress"),
        rx.text(
            ImportState.done_rows.to_string(),
            " of ",
            ImportState.total_rows.to_string(),
            " rows",
            size="2",
            color_scheme="gray",
            role="status",
        ),
        width="100%",
        spacing="3",
    )


def _count(label: str, value, color: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.heading(value.to_string(), size="6", color_scheme=color),
            spacing="1",
        ),
        min_width="140px",
    )


def done_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Import finished", size="4"),
        error_alert(ImportState.error),
        rx.hstack(
            _count("Created", ImportState.created, "green"),
            _count("Updated", ImportState.updated, "blue"),
            _count("Skipped (duplicates)", ImportState.skipped, "gray"),
            _count("Failed", ImportState.failed, "red"),
            spacing="3",
            wrap="wrap",
            role="region",
            aria_label="Import report",
        ),
        rx.cond(
            ImportState.problems > 0,
            rx.vstack(
                rx.foreach(
                    ImportState.first_problems, lambda p: rx.text(p, size="2", color_scheme="red")
                ),
                rx.link(
                    rx.button(
                        rx.icon("download", size=14),
                        "Download all ",
                        ImportState.problems.to_string(),
                        " problems as CSV",
                        variant="soft",
                    ),
                    href=ImportState.errors_url,
                    is_external=False,
                ),
                spacing="2",
            ),
        ),
        rx.hstack(
            rx.link(rx.button("View contacts"), href=routes.CONTACTS_ALL),
            rx.button("Import another file", variant="soft", on_click=ImportState.start_over),
            spacing="3",
        ),
        spacing="4",
        width="100%",
    )


def import_wizard() -> rx.Component:
    return rx.match(
        ImportState.step,
        ("map", map_step()),
        ("running", running_step()),
        ("done", done_step()),
        upload_step(),
    )


_STATUS_COLORS = (
    ("done", "green"),
    ("running", "blue"),
    ("interrupted", "amber"),
    ("failed", "red"),
)


def _recent_row(job: RecentImport) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(job.file_name, weight="medium")),
        rx.table.cell(relative_time(job.started_at), white_space="nowrap"),
        rx.table.cell(
            rx.match(
                job.status,
                *[
                    (status, rx.badge(status, color_scheme=color, variant="soft"))
                    for status, color in _STATUS_COLORS
                ],
                rx.badge(job.status, variant="soft"),
            )
        ),
        rx.table.cell(
            rx.text(job.summary, size="2"),
            rx.cond(job.message != "", rx.text(job.message, size="1", color_scheme="red")),
        ),
    )


def recent_imports() -> rx.Component:
    """The workspace's latest imports with their outcome (an interrupted one says where
    it stopped)."""
    return rx.vstack(
        rx.heading("Recent imports", size="3"),
        rx.cond(
            ImportState.recent,
            rx.table.root(
                rx.el.caption("Recent imports", class_name="sr-only"),
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("File", "Started", "Status", "Outcome")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(ImportState.recent, _recent_row)),
                variant="surface",
                width="100%",
            ),
            rx.text("No imports yet.", size="2", color_scheme="gray"),
        ),
        on_mount=ImportState.load_recent,
        spacing="2",
        width="100%",
    )
