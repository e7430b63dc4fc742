"""Download CSV: the header button and its options dialog."""

from __future__ import annotations

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.components.dialogs import dialog_actions, error_alert
from cloodot_app.components.permissions import gated
from cloodot_app.state.export import ExportState


def _checkbox(label: str, checked, on_change, disabled=False) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.checkbox(checked=checked, on_change=on_change, disabled=disabled, aria_label=label),
            rx.text(label, size="2"),
            align="center",
            spacing="2",
        )
    )


def export_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Download CSV"),
            rx.dialog.description(
                "Exports the contacts the current search, segment and filters show.",
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                rx.el.label(
                    rx.text("Number of contacts", size="2", weight="medium"),
                    rx.input(
                        value=ExportState.limit,
                        on_change=ExportState.set_limit,
                        type="number",
                        min=1,
                        max=ExportState.allowed,
                        aria_label="Number of contacts",
                    ),
                    rx.text(
                        "Between 1 and ",
                        ExportState.allowed.to_string(),
                        " (",
                        ExportState.matching.to_string(),
                        " match; at most ",
                        ExportState.max_rows.to_string(),
                        " per file).",
                        size="1",
                        color_scheme="gray",
                    ),
                ),
                rx.vstack(
                    rx.text("Sort by", size="2", weight="medium"),
                    rx.radio_group.root(
                        rx.hstack(
                            rx.el.label(
                                rx.hstack(
                                    rx.radio_group.item(value="last_interaction_at"),
                                    rx.text("Last Interaction", size="2"),
                                    spacing="1",
                                    align="center",
                                )
                            ),
                            rx.el.label(
                                rx.hstack(
                                    rx.radio_group.item(value="created_at"),
                                    rx.text("Created Date", size="2"),
                                    spacing="1",
                                    align="center",
                                )
                            ),
                            spacing="4",
                        ),
                        value=ExportState.sort,
                        on_change=ExportState.set_sort,
                        aria_label="Sort by",
                    ),
                    spacing="1",
                ),
                rx.vstack(
                    rx.text("Additional data", size="2", weight="medium"),
                    _checkbox(
                        "Include labels from recent sessions",
                        ExportState.include_conversation_labels,
                        ExportState.set_include_conversation_labels,
                    ),
                    rx.cond(
                        ExportState.has_conversation_fields,
                        _checkbox(
                            "Include custom fields from recent sessions",
                            ExportState.include_conversation_fields,
                            ExportState.set_include_conversation_fields,
                        ),
                    ),
                    spacing="2",
                ),
                error_alert(ExportState.error),
                dialog_actions(
                    rx.button(
                        rx.icon("download", size=14), "Download", on_click=ExportState.confirm
                    ),
                ),
                spacing="4",
                margin_top="12px",
            ),
        ),
        open=ExportState.is_open,
        on_open_change=ExportState.set_open,
    )


def download_csv_button() -> rx.Component:
    return gated(
        Capability.EXPORT,
        lambda disabled: rx.button(
            rx.icon("download", size=16),
            "Download CSV",
            variant="outline",
            on_click=ExportState.open_dialog,
            disabled=disabled,
        ),
    )
