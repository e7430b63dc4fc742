"""The "Save as segment" button and its dialog."""

from __future__ import annotations

import reflex as rx

from cloodot_app.components.dialogs import dialog_actions, error_alert
from cloodot_app.state.save_segment import SaveSegmentState


def save_segment_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("bookmark_plus", size=14), "Save as segment", size="1", variant="soft"
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Save as segment"),
            rx.dialog.description(
                "A segment keeps these conditions and always shows the contacts that match "
                "them now.",
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                rx.el.label(
                    rx.text("Name", size="2", weight="medium"),
                    rx.input(
                        value=SaveSegmentState.name,
                        on_change=SaveSegmentState.set_name,
                        placeholder="e.g. High-value customers",
                        aria_label="Segment name",
                        auto_focus=True,
                    ),
                ),
                rx.el.label(
                    rx.text("Description (optional)", size="2", weight="medium"),
                    rx.text_area(
                        value=SaveSegmentState.description,
                        on_change=SaveSegmentState.set_description,
                        aria_label="Segment description",
                    ),
                ),
                error_alert(SaveSegmentState.error),
                dialog_actions(
                    rx.button("Save segment", on_click=SaveSegmentState.save),
                ),
                spacing="3",
                margin_top="12px",
            ),
        ),
        open=SaveSegmentState.is_open,
        on_open_change=SaveSegmentState.set_open,
    )
