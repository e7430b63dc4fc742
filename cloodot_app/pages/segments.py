"""Contacts → Segments: saved dynamic groups of contacts."""

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.components.layout import layout
from cloodot_app.components.permissions import gated
from cloodot_app.components.segments import delete_segment_dialog, segment_editor, segments_table
from cloodot_app.state.segments import SegmentEditorState


def segments_page() -> rx.Component:
    return layout(
        rx.hstack(
            rx.vstack(
                rx.heading("Segments", size="6"),
                rx.text(
                    "Saved rules that group contacts automatically.",
                    color_scheme="gray",
                    size="2",
                ),
                spacing="1",
            ),
            rx.spacer(),
            gated(
                Capability.MANAGE_SEGMENTS,
                lambda disabled: rx.button(
                    rx.icon("plus", size=16),
                    "New segment",
                    on_click=SegmentEditorState.open_new,
                    disabled=disabled,
                ),
            ),
            width="100%",
            align="end",
        ),
        segments_table(),
        segment_editor(),
        delete_segment_dialog(),
    )
