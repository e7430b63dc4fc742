"""Contacts → Segments: the list, the editor dialog with its live preview, and delete."""

from __future__ import annotations

import reflex as rx

from cloodot_app import routes
from cloodot_app.access import Capability
from cloodot_app.components.buttons import icon_action
from cloodot_app.components.condition_builder import condition_builder
from cloodot_app.components.contact_bits import relative_time
from cloodot_app.components.dialogs import confirm_dialog, dialog_actions, error_alert
from cloodot_app.components.layout import can
from cloodot_app.components.trend import segment_trend
from cloodot_app.services.contact_rows import ContactRow
from cloodot_app.services.segments import SEGMENT_COLORS, SegmentSummary
from cloodot_app.state.segments import SegmentEditorState, SegmentsState


def segment_row(segment: SegmentSummary, index) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.hstack(
                rx.box(
                    width="10px",
                    height="10px",
                    border_radius="50%",
                    background=rx.color(segment.color, 9),
                    flex_shrink="0",
                    margin_top="6px",
                ),
                rx.vstack(
                    rx.link(
                        segment.name,
                        href=routes.CONTACTS_ALL + "?segment=" + segment.id.to_string(),
                        weight="medium",
                        high_contrast=True,
                    ),
                    rx.cond(
                        segment.description != "",
                        rx.text(segment.description, size="1", color_scheme="gray"),
                    ),
                    spacing="0",
                ),
                align="start",
                spacing="2",
            )
        ),
        rx.table.cell(
            rx.cond(
                segment.problem != "",
                rx.badge(
                    rx.icon("triangle_alert", size=12),
                    "Broken: " + segment.problem,
                    color_scheme="red",
                    variant="soft",
                    white_space="normal",
                ),
                rx.text(segment.rules, size="2"),
            ),
            max_width="420px",
        ),
        rx.table.cell(
            rx.cond(segment.problem != "", "—", segment.count.to_string()), text_align="right"
        ),
        rx.table.cell(segment_trend(segment.trend, segment.name, segment.color), min_width="250px"),
        rx.table.cell(relative_time(segment.updated_at), white_space="nowrap"),
        rx.table.cell(
            rx.switch(
                checked=segment.on_board,
                on_change=lambda value: SegmentsState.set_on_board(segment.id, value),
                aria_label="Show " + segment.name + " on the Leads board",
                disabled=~can(Capability.MANAGE_SEGMENTS),
            )
        ),
        rx.table.cell(rx.cond(can(Capability.MANAGE_SEGMENTS), _segment_actions(segment, index))),
        align="center",
    )


def _segment_actions(segment: SegmentSummary, index) -> rx.Component:
    return rx.hstack(
        icon_action("pencil", "Edit " + segment.name, SegmentEditorState.open_edit(segment.id)),
        icon_action("copy", "Duplicate " + segment.name, SegmentsState.duplicate(segment.id)),
        icon_action(
            "arrow_up",
            "Move " + segment.name + " up",
            SegmentsState.move(segment.id, -1),
            disabled=index == 0,
        ),
        icon_action(
            "arrow_down",
            "Move " + segment.name + " down",
            SegmentsState.move(segment.id, 1),
            disabled=index == SegmentsState.segments.length() - 1,
        ),
        icon_action(
            "trash_2",
            "Delete " + segment.name,
            SegmentsState.ask_delete(segment.id),
            color="red",
        ),
        spacing="1",
    )


def segments_table() -> rx.Component:
    return rx.table.root(
        rx.el.caption("Segments", class_name="sr-only"),
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Segment"),
                rx.table.column_header_cell("Conditions"),
                rx.table.column_header_cell("Contacts", text_align="right"),
                rx.table.column_header_cell("Last 30 days", white_space="nowrap"),
                rx.table.column_header_cell("Updated"),
                rx.table.column_header_cell("On Leads board", white_space="nowrap"),
                rx.table.column_header_cell(rx.text("Actions", class_name="sr-only")),
            )
        ),
        rx.table.body(
            rx.cond(
                SegmentsState.segments.length() > 0,
                rx.foreach(SegmentsState.segments, segment_row),
                rx.cond(
                    ~SegmentsState.loading,
                    rx.table.row(
                        rx.table.cell(
                            rx.vstack(
                                rx.text("No segments yet", weight="bold"),
                                rx.text(
                                    "Create one to group contacts by rules.",
                                    size="2",
                                    color_scheme="gray",
                                ),
                                align="center",
                                padding_y="32px",
                            ),
                            col_span=7,
                        )
                    ),
                ),
            )
        ),
        variant="surface",
        width="100%",
    )


def _preview_contact(contact: ContactRow) -> rx.Component:
    return rx.hstack(
        rx.avatar(
            fallback=contact.initials,
            src=contact.image_url,
            color_scheme=contact.avatar_color,
            variant="solid",
            radius="full",
            size="1",
        ),
        rx.text(contact.name, size="2", weight="medium"),
        rx.text(contact.email, size="1", color_scheme="gray"),
        align="center",
        spacing="2",
    )


def _preview() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.cond(
                SegmentEditorState.preview_problem != "",
                rx.text(SegmentEditorState.preview_problem, size="2", color_scheme="gray"),
                rx.vstack(
                    rx.text(
                        rx.text.strong(SegmentEditorState.preview_count.to_string()),
                        rx.cond(
                            SegmentEditorState.preview_count == 1,
                            " contact matches",
                            " contacts match",
                        ),
                        size="2",
                    ),
                    rx.foreach(SegmentEditorState.preview_contacts, _preview_contact),
                    spacing="2",
                ),
            ),
            spacing="2",
        ),
        width="100%",
        role="status",
        aria_label="Preview",
    )


def segment_editor() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(SegmentEditorState.segment_id > 0, "Edit segment", "New segment")
            ),
            rx.dialog.description(
                "Contacts join and leave a segment automatically as they match its conditions.",
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                rx.hstack(
                    rx.el.label(
                        rx.text("Name", size="2", weight="medium"),
                        rx.input(
                            value=SegmentEditorState.name,
                            on_change=SegmentEditorState.set_name,
                            aria_label="Segment name",
                        ),
                        flex="1",
                    ),
                    rx.el.label(
                        rx.text("Colour", size="2", weight="medium"),
                        rx.select.root(
                            rx.select.trigger(aria_label="Colour"),
                            rx.select.content(
                                *[rx.select.item(c.title(), value=c) for c in SEGMENT_COLORS]
                            ),
                            value=SegmentEditorState.color,
                            on_change=SegmentEditorState.set_color,
                        ),
                    ),
                    width="100%",
                    align="end",
                ),
                rx.el.label(
                    rx.text("Description", size="2", weight="medium"),
                    rx.input(
                        value=SegmentEditorState.description,
                        on_change=SegmentEditorState.set_description,
                        aria_label="Segment description",
                    ),
                ),
                condition_builder(SegmentEditorState),
                _preview(),
                error_alert(SegmentEditorState.error),
                dialog_actions(
                    rx.button("Save segment", on_click=SegmentEditorState.save),
                ),
                spacing="3",
                margin_top="12px",
            ),
            max_width="640px",
        ),
        open=SegmentEditorState.is_open,
        on_open_change=SegmentEditorState.set_open,
    )


def delete_segment_dialog() -> rx.Component:
    return confirm_dialog(
        rx.fragment("Delete the segment “", SegmentsState.delete_name, "”?"),
        rx.vstack(
            rx.text("No contact is deleted. The segment is used by:", size="2"),
            rx.el.ul(
                rx.foreach(SegmentsState.delete_usage, lambda use: rx.el.li(rx.text(use, size="2")))
            ),
            spacing="2",
        ),
        "Delete segment",
        SegmentsState.confirm_delete,
        SegmentsState.delete_id > 0,
        SegmentsState.cancel_delete,
    )
