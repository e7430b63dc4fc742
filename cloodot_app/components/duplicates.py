"""Possible duplicates: the groups as cards, the merge dialog with the contacts side by
side, and the drawer's "Merged from" list."""

from __future__ import annotations

import reflex as rx

from cloodot_app.components.contact_bits import channel_icon, label_badges, relative_time
from cloodot_app.services.contact_merges import (
    DuplicateGroup,
    DuplicateMember,
    MergeCandidate,
    MergedFrom,
)
from cloodot_app.state.duplicates import DuplicatesState, MergeRow


def _member_row(member: DuplicateMember) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(channel_icon(member.channel), rx.text(member.name), align="center")
        ),
        rx.table.cell(rx.cond(member.email != "", member.email, "—")),
        rx.table.cell(rx.cond(member.phone != "", member.phone, "—")),
        rx.table.cell(member.conversations.to_string()),
        rx.table.cell(relative_time(member.created_at)),
    )


def _group_card(group: DuplicateGroup, index) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.hstack(
                        rx.badge(group.reason, variant="soft"),
                        rx.text(group.shared, weight="medium"),
                        align="center",
                    ),
                    rx.text(
                        group.size.to_string(),
                        " contacts",
                        rx.cond(
                            group.size > group.members.length(),
                            " (the first " + group.members.length().to_string() + " listed)",
                            "",
                        ),
                        size="2",
                        color_scheme="gray",
                    ),
                    spacing="1",
                ),
                rx.button(
                    rx.icon("merge", size=14),
                    "Merge…",
                    on_click=DuplicatesState.open_merge(index),
                    aria_label="Merge " + group.reason + " " + group.shared,
                ),
                justify="between",
                align="center",
                width="100%",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Name"),
                        rx.table.column_header_cell("Email"),
                        rx.table.column_header_cell("Phone"),
                        rx.table.column_header_cell("Conversations"),
                        rx.table.column_header_cell("Created"),
                    )
                ),
                rx.table.body(rx.foreach(group.members, _member_row)),
                size="1",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        role="region",
        aria_label=group.reason + " " + group.shared,
    )


def duplicate_groups() -> rx.Component:
    return rx.cond(
        DuplicatesState.loading,
        rx.center(rx.spinner(size="3"), padding="40px", aria_label="Loading"),
        rx.cond(
            DuplicatesState.groups.length() > 0,
            rx.vstack(
                rx.foreach(DuplicatesState.groups, _group_card),
                spacing="3",
                width="100%",
            ),
            rx.callout(
                "No possible duplicates: no two contacts share an email or a phone number.",
                icon="circle_check",
                color_scheme="green",
                # Green-11 on green-3 is under 4.5:1 in light: the darker text passes.
                high_contrast=True,
            ),
        ),
    )


# --------------------------------------------------------------------------- the dialog


def _contact_header(contact: MergeCandidate) -> rx.Component:
    return rx.el.label(
        rx.vstack(
            rx.hstack(
                rx.radio_group.item(value=contact.id.to_string()),
                rx.text(contact.name, weight="bold"),
                align="center",
                spacing="2",
            ),
            rx.hstack(
                channel_icon(contact.channel),
                rx.text(
                    contact.channel,
                    rx.cond(contact.external_id != "", " · " + contact.external_id, ""),
                    size="1",
                    color_scheme="gray",
                ),
                align="center",
                spacing="1",
            ),
            rx.text(
                contact.conversations.to_string(),
                rx.cond(contact.conversations == 1, " conversation", " conversations"),
                size="1",
                color_scheme="gray",
            ),
            label_badges(contact.labels),
            spacing="1",
        ),
        aria_label=contact.name + " #" + contact.id.to_string(),
    )


def _cell(text) -> rx.Component:
    return rx.text(rx.cond(text != "", text, "—"), size="2", word_break="break-word")


def _field_row(row: MergeRow) -> rx.Component:
    """The field's values side by side; where they differ, a radio per value."""
    label = rx.text(row.label, size="2", weight="medium")
    return rx.cond(
        row.differs,
        rx.radio_group.root(
            rx.grid(
                label,
                rx.foreach(
                    row.cells,
                    lambda value: rx.el.label(
                        rx.hstack(
                            rx.radio_group.item(value=value.contact_id.to_string()),
                            _cell(value.shown),
                            align="start",
                            spacing="2",
                        ),
                        aria_label=rx.cond(value.shown != "", value.shown, "empty"),
                    ),
                ),
                grid_template_columns=DuplicatesState.merge_columns,
                gap="12px",
                width="100%",
            ),
            value=row.chosen,
            on_change=lambda contact_id: DuplicatesState.choose(row.key, contact_id),
            aria_label=row.label,
            width="100%",
        ),
        rx.grid(
            label,
            rx.foreach(row.cells, lambda value: _cell(value.shown)),
            grid_template_columns=DuplicatesState.merge_columns,
            gap="12px",
            width="100%",
            color=rx.color("gray", 11),
        ),
    )


def merge_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Merge contacts"),
            rx.dialog.description(
                "Choose the primary contact and, where they differ, which value to keep. "
                "Labels are united; conversations, messages and opt-in history move to the "
                "primary; the others' channel ids, emails and phones keep finding it.",
                size="2",
            ),
            rx.vstack(
                rx.radio_group.root(
                    rx.grid(
                        rx.text("Primary", size="2", weight="medium"),
                        rx.foreach(DuplicatesState.merge_contacts, _contact_header),
                        grid_template_columns=DuplicatesState.merge_columns,
                        gap="12px",
                        width="100%",
                    ),
                    value=DuplicatesState.primary_id,
                    on_change=DuplicatesState.set_primary,
                    aria_label="Primary contact",
                    width="100%",
                ),
                rx.separator(size="4"),
                rx.foreach(DuplicatesState.merge_rows, _field_row),
                rx.separator(size="4"),
                rx.hstack(
                    rx.text("Labels after the merge", size="2", weight="medium"),
                    rx.cond(
                        DuplicatesState.merge_labels.length() > 0,
                        label_badges(DuplicatesState.merge_labels),
                        rx.text("none", size="2", color_scheme="gray"),
                    ),
                    align="center",
                    spacing="3",
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(
                        "Merge into ",
                        DuplicatesState.primary_name,
                        on_click=DuplicatesState.confirm_merge,
                        loading=DuplicatesState.merging,
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                margin_top="12px",
                width="100%",
                max_height="70vh",
                overflow_y="auto",
            ),
            max_width="min(92vw, 1000px)",
        ),
        open=DuplicatesState.merge_open,
        on_open_change=DuplicatesState.set_merge_open,
    )


# --------------------------------------------------------------------------- the drawer


def _merged_line(line: MergedFrom) -> rx.Component:
    return rx.list_item(
        rx.text(
            rx.text.strong(line.name),
            rx.cond(line.ids != "", " (" + line.ids + ")", ""),
            " — ",
            relative_time(line.at),
            rx.cond(line.by != "", " by " + line.by, ""),
            size="2",
        )
    )


def merged_from_section(lines) -> rx.Component:
    """The contacts merged into this one (nothing when there are none)."""
    return rx.cond(
        lines.length() > 0,
        rx.vstack(
            rx.text("Merged from", size="2", weight="bold", id="merged-from-title"),
            rx.list.unordered(rx.foreach(lines, _merged_line), aria_labelledby="merged-from-title"),
            spacing="1",
            width="100%",
        ),
    )
