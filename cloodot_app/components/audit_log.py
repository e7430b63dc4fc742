"""Settings → Audit log: the filters, the table of entries and its pagination."""

from __future__ import annotations

import reflex as rx

from cloodot_app.components.contact_bits import relative_time
from cloodot_app.state.audit_log import ANY, AuditLine, AuditLogState


def _labelled(caption: str, control: rx.Component) -> rx.Component:
    return rx.el.label(
        rx.text(caption, size="1", weight="bold", color_scheme="gray", as_="div"),
        control,
        display="flex",
        flex_direction="column",
        gap="4px",
    )


def _select(caption: str, everything: str, choices, value, on_change) -> rx.Component:
    return _labelled(
        caption,
        rx.select.root(
            rx.select.trigger(aria_label=caption, min_width="200px"),
            rx.select.content(
                rx.select.item(everything, value=ANY),
                rx.foreach(choices, lambda c: rx.select.item(c.label, value=c.value)),
            ),
            value=value,
            on_change=on_change,
        ),
    )


def _date(caption: str, value, on_change) -> rx.Component:
    return _labelled(
        caption,
        rx.input(type="date", value=value, on_change=on_change, aria_label=caption),
    )


def audit_filters() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            _select(
                "Action",
                "All actions",
                AuditLogState.actions,
                AuditLogState.action,
                AuditLogState.set_action,
            ),
            _select(
                "Member",
                "Everyone",
                AuditLogState.actors,
                AuditLogState.actor,
                AuditLogState.set_actor,
            ),
            _date("From", AuditLogState.date_from, AuditLogState.set_date_from),
            _date("To", AuditLogState.date_to, AuditLogState.set_date_to),
            rx.cond(
                AuditLogState.filtered,
                rx.button(
                    rx.icon("x", size=14),
                    "Clear filters",
                    variant="soft",
                    color_scheme="gray",
                    on_click=AuditLogState.clear_filters,
                ),
            ),
            align="end",
            spacing="3",
            wrap="wrap",
            role="search",
            aria_label="Filter the audit log",
        ),
        rx.cond(
            AuditLogState.error != "",
            rx.callout(
                AuditLogState.error, icon="triangle_alert", color_scheme="red", role="alert"
            ),
        ),
        width="100%",
        spacing="2",
    )


def audit_row(line: AuditLine) -> rx.Component:
    return rx.table.row(
        rx.table.cell(relative_time(line.at), white_space="nowrap"),
        rx.table.cell(
            rx.vstack(
                rx.text(line.who, size="2", weight="medium"),
                rx.cond(
                    line.who_email != "", rx.text(line.who_email, size="1", color_scheme="gray")
                ),
                spacing="0",
            )
        ),
        rx.table.row_header_cell(
            rx.tooltip(rx.text(line.action_words, size="2", weight="medium"), content=line.action),
            white_space="nowrap",
        ),
        rx.table.cell(rx.text(line.summary, size="2")),
        align="center",
    )


def _empty() -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.icon("scroll_text", size=28, color=rx.color("gray", 9)),
                rx.cond(
                    AuditLogState.filtered,
                    rx.text("No entries match these filters", weight="bold"),
                    rx.text("Nothing has been recorded yet", weight="bold"),
                ),
                rx.text(
                    "Exports, deletes, imports, opt-in changes, member and role changes and "
                    "token rotations appear here.",
                    size="2",
                    color_scheme="gray",
                ),
                align="center",
                padding_y="40px",
                spacing="2",
            ),
            col_span=4,
        )
    )


def audit_table() -> rx.Component:
    return rx.table.root(
        rx.el.caption("Audit log", class_name="sr-only"),
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("When", width="140px"),
                rx.table.column_header_cell("Who", width="220px"),
                rx.table.column_header_cell("Action", width="200px"),
                rx.table.column_header_cell("Summary"),
            )
        ),
        rx.table.body(
            rx.cond(
                AuditLogState.entries.length() > 0,
                rx.foreach(AuditLogState.entries, audit_row),
                rx.cond(~AuditLogState.loading, _empty()),
            )
        ),
        variant="surface",
        width="100%",
        aria_label="Audit log",
        data_audit_state=rx.cond(AuditLogState.loading, "loading", "ready"),
    )


def audit_pagination() -> rx.Component:
    return rx.hstack(
        rx.text(
            AuditLogState.range_label,
            size="2",
            color_scheme="gray",
            role="status",
            aria_label="Entries found",
        ),
        rx.spacer(),
        rx.text("Page ", AuditLogState.page, " of ", AuditLogState.page_count, size="2"),
        rx.button(
            rx.icon("chevron_left", size=14),
            "Previous",
            size="1",
            variant="soft",
            disabled=AuditLogState.page <= 1,
            on_click=AuditLogState.previous_page,
        ),
        rx.button(
            "Next",
            rx.icon("chevron_right", size=14),
            size="1",
            variant="soft",
            disabled=AuditLogState.page >= AuditLogState.page_count,
            on_click=AuditLogState.next_page,
        ),
        as_="footer",
        width="100%",
        align="center",
        spacing="2",
    )
