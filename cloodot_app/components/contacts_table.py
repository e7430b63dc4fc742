"""The All Contacts table: toolbar, rows, cells and the pagination footer."""

from __future__ import annotations

import reflex as rx

from cloodot_app.components.cells import custom_field_cell, editable_text
from cloodot_app.components.contact_bits import channel_icon, contact_avatar, relative_time
from cloodot_app.components.export_dialog import download_csv_button, export_dialog
from cloodot_app.components.filter_drawer import filter_chips, filter_drawer, filters_button
from cloodot_app.components.live_toggle import live_toggle
from cloodot_app.services.contact_rows import ContactRow
from cloodot_app.services.custom_fields import FieldDefinitionSummary
from cloodot_app.services.segments import SegmentSummary
from cloodot_app.state.columns import LATEST_NOTE_COLUMN, ColumnsState
from cloodot_app.state.contact_drawer import ContactDrawerState
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.inline_edit import InlineEditState
from cloodot_app.state.selection import SelectionState

# ------------------------------------------------------------------- toolbar


def search_box() -> rx.Component:
    return rx.input(
        rx.input.slot(rx.icon("search", size=16)),
        rx.cond(
            ContactsState.search != "",
            rx.input.slot(
                rx.icon_button(
                    rx.icon("x", size=14),
                    variant="ghost",
                    size="1",
                    on_click=ContactsState.clear_search,
                    aria_label="Clear search",
                )
            ),
        ),
        placeholder="Search name, email or phone",
        value=ContactsState.search,
        on_change=ContactsState.set_search,
        debounce_timeout=300,
        aria_label="Search",
        type="search",
        width=["100%", "100%", "320px"],
    )


def segment_selector() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(
            placeholder="Segment", aria_label="Segment", min_width="160px", max_width="100%"
        ),
        rx.select.content(
            rx.select.item("All contacts (no segment)", value="0"),
            rx.select.separator(),
            rx.foreach(
                ContactsState.segments,
                lambda segment: rx.select.item(segment.name, value=segment.id.to_string()),
            ),
        ),
        value=ContactsState.segment_id.to_string(),
        on_change=ContactsState.select_segment,
    )


def _column_option(column: FieldDefinitionSummary) -> rx.Component:
    column_id = column.entity + ":" + column.key
    return rx.el.label(
        rx.hstack(
            rx.checkbox(
                checked=ColumnsState.visible_ids.contains(column_id),
                on_change=lambda checked: ColumnsState.toggle_column(column_id, checked),
                # A label around a checkbox button does not name it.
                aria_label=column.label,
            ),
            rx.text(column.label, size="2"),
            rx.cond(
                column.entity == "conversation",
                rx.badge("conversation", size="1", variant="soft", color_scheme="gray"),
            ),
            align="center",
            spacing="2",
        )
    )


def _latest_note_option() -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.checkbox(
                checked=ColumnsState.show_latest_note,
                on_change=lambda checked: ColumnsState.toggle_column(LATEST_NOTE_COLUMN, checked),
                # A label around a checkbox button does not name it.
                aria_label="Latest note",
            ),
            rx.text("Latest note", size="2"),
            align="center",
            spacing="2",
        )
    )


def column_chooser() -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(
            rx.button(rx.icon("columns_3", size=16), "Columns", variant="soft", color_scheme="gray")
        ),
        rx.popover.content(
            rx.vstack(
                rx.text("Contact fields", size="1", weight="bold", color_scheme="gray"),
                rx.foreach(
                    ColumnsState.columns,
                    lambda c: rx.cond(c.entity == "contact", _column_option(c)),
                ),
                rx.text(
                    "Conversation fields (read-only)",
                    size="1",
                    weight="bold",
                    color_scheme="gray",
                    margin_top="8px",
                ),
                rx.foreach(
                    ColumnsState.columns,
                    lambda c: rx.cond(c.entity == "conversation", _column_option(c)),
                ),
                rx.text("Notes", size="1", weight="bold", color_scheme="gray", margin_top="8px"),
                _latest_note_option(),
                spacing="2",
            ),
            aria_label="Columns",
        ),
    )


def contacts_toolbar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            search_box(),
            filters_button(),
            segment_selector(),
            rx.spacer(),
            live_toggle("contacts"),
            column_chooser(),
            align="center",
            width="100%",
            spacing="3",
            wrap="wrap",
        ),
        filter_chips(),
        filter_drawer(),
        width="100%",
        spacing="2",
    )


def _segment_banner(segment: SegmentSummary) -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("layers", size=16)),
        rx.callout.text(
            rx.hstack(
                rx.text(
                    rx.text.strong(segment.name),
                    " segment: ",
                    ContactsState.total_words,
                    rx.cond(ContactsState.total == 1, " contact matches", " contacts match"),
                    rx.cond(
                        ContactsState.segment_rules != "", " · " + ContactsState.segment_rules, ""
                    ),
                ),
                rx.spacer(),
                rx.button(
                    "Clear segment", size="1", variant="soft", on_click=ContactsState.clear_segment
                ),
                align="center",
                width="100%",
            )
        ),
        color_scheme=segment.color,
        variant="surface",
        width="100%",
        role="status",
        aria_label="Active segment",
    )


def link_problem_notice() -> rx.Component:
    """Shown when the link that opened the page had parts that could not be used."""
    return rx.cond(
        ContactsState.link_problem != "",
        rx.callout(ContactsState.link_problem, icon="info", color_scheme="amber", role="status"),
    )


def segment_banner() -> rx.Component:
    return rx.cond(ContactsState.segment_id > 0, _segment_banner(ContactsState.active_segment))


def page_header() -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.heading("All contacts", size="6"),
            rx.text(
                "Every person who wrote to your workspace, or was imported.",
                color_scheme="gray",
                size="2",
            ),
            spacing="1",
        ),
        rx.spacer(),
        download_csv_button(),
        export_dialog(),
        width="100%",
        align="end",
    )


# ------------------------------------------------------------------- header


def sortable_header(label: str, column: str) -> rx.Component:
    is_sorted = ContactsState.sort == column
    return rx.table.column_header_cell(
        rx.button(
            label,
            rx.cond(
                is_sorted,
                rx.cond(
                    ContactsState.descending,
                    rx.icon("arrow_down", size=14),
                    rx.icon("arrow_up", size=14),
                ),
                rx.icon("arrow_up_down", size=14, opacity="0.35"),
            ),
            variant="ghost",
            color_scheme="gray",
            high_contrast=True,
            size="1",
            on_click=ContactsState.sort_by(column),
            aria_label=f"Sort by {label}",
        ),
        aria_sort=rx.cond(
            is_sorted, rx.cond(ContactsState.descending, "descending", "ascending"), "none"
        ),
        white_space="nowrap",
    )


def table_header() -> rx.Component:
    return rx.table.header(
        rx.table.row(
            rx.table.column_header_cell(
                rx.checkbox(
                    checked=SelectionState.page_selected,
                    on_change=SelectionState.toggle_page,
                    aria_label="Select all contacts on this page",
                ),
                width="36px",
            ),
            sortable_header("Name", "name"),
            sortable_header("Email", "email"),
            sortable_header("Phone", "phone"),
            sortable_header("Created At", "created_at"),
            sortable_header("Last Interaction", "last_interaction_at"),
            rx.table.column_header_cell("Campaign Opt-in", white_space="nowrap"),
            rx.foreach(
                ColumnsState.visible_columns,
                lambda column: rx.table.column_header_cell(column.label, white_space="nowrap"),
            ),
            rx.cond(
                ColumnsState.show_latest_note,
                rx.table.column_header_cell("Latest note", white_space="nowrap"),
            ),
            rx.table.column_header_cell(rx.text("Actions", class_name="sr-only")),
        )
    )


# ------------------------------------------------------------------- cells


def name_cell(row: ContactRow) -> rx.Component:
    """Clicking the name opens the contact details drawer."""
    return rx.table.row_header_cell(
        rx.hstack(
            contact_avatar(row),
            rx.link(
                row.name,
                on_click=ContactDrawerState.open_contact(row.id),
                weight="medium",
                high_contrast=True,
                underline="hover",
                cursor="pointer",
                aria_label="Open " + row.name,
                data_open_row="true",
            ),
            channel_icon(row.channel),
            align="center",
            spacing="2",
        ),
        white_space="nowrap",
        on_click=rx.stop_propagation,
    )


def last_interaction_cell(row: ContactRow) -> rx.Component:
    preview = rx.hover_card.root(
        rx.hover_card.trigger(rx.box(relative_time(row.last_interaction_at), cursor="default")),
        rx.hover_card.content(
            rx.vstack(
                rx.hstack(
                    rx.icon(
                        rx.cond(
                            row.last_message_direction == "incoming",
                            "arrow_down_left",
                            "arrow_up_right",
                        ),
                        size=14,
                    ),
                    rx.text(
                        rx.cond(
                            row.last_message_direction == "incoming",
                            "Last message received",
                            "Last message sent",
                        ),
                        size="1",
                        weight="bold",
                    ),
                    channel_icon(row.channel),
                    align="center",
                    spacing="2",
                ),
                rx.text(row.last_message_text, size="2"),
                spacing="2",
            ),
            max_width="320px",
        ),
    )
    return rx.table.cell(
        rx.cond(row.last_message_text != "", preview, relative_time(row.last_interaction_at)),
        white_space="nowrap",
    )


def opt_in_cell(row: ContactRow) -> rx.Component:
    return rx.table.cell(
        rx.switch(
            checked=row.campaign_opt_in,
            on_change=lambda value: InlineEditState.set_opt_in(row.id, value),
            aria_label="Campaign opt-in for " + row.name,
        ),
        on_click=rx.stop_propagation,
    )


def select_cell(row: ContactRow) -> rx.Component:
    return rx.table.cell(
        rx.checkbox(
            checked=SelectionState.selected_ids.contains(row.id),
            on_change=lambda checked: SelectionState.toggle_row(row.id, checked),
            aria_label="Select " + row.name,
        ),
        on_click=rx.stop_propagation,
    )


def latest_note_cell(row: ContactRow) -> rx.Component:
    """The newest note, on one line (cut short by the service, and by the cell's width)."""
    return rx.table.cell(
        rx.cond(
            row.latest_note != "",
            rx.text(
                row.latest_note,
                size="2",
                title=row.latest_note,
                max_width="240px",
                overflow="hidden",
                text_overflow="ellipsis",
                white_space="nowrap",
            ),
            rx.text("—", color_scheme="gray", size="2"),
        ),
    )


def actions_cell(row: ContactRow) -> rx.Component:
    return rx.table.cell(
        rx.icon_button(
            rx.icon("pencil", size=14),
            variant="ghost",
            on_click=ContactDrawerState.open_contact(row.id),
            aria_label="Edit " + row.name,
        ),
        on_click=rx.stop_propagation,
    )


def contact_row(row: ContactRow) -> rx.Component:
    """Clicking a row opens the details drawer; cells that edit keep their clicks."""
    return rx.table.row(
        select_cell(row),
        name_cell(row),
        rx.table.cell(
            editable_text(row, "email", row.email, "Email", "email"),
            on_click=rx.stop_propagation,
        ),
        rx.table.cell(
            editable_text(row, "phone", row.phone, "Phone", "tel"),
            white_space="nowrap",
            on_click=rx.stop_propagation,
        ),
        rx.table.cell(relative_time(row.created_at), white_space="nowrap"),
        last_interaction_cell(row),
        opt_in_cell(row),
        rx.foreach(ColumnsState.visible_columns, lambda column: custom_field_cell(row, column)),
        rx.cond(ColumnsState.show_latest_note, latest_note_cell(row)),
        actions_cell(row),
        key=row.id,
        align="center",
        # Arrow keys move between rows and Enter opens one (assets/autoload.js).
        tab_index=0,
        data_row_nav="true",
        data_selected=SelectionState.selected_ids.contains(row.id),
        on_click=ContactDrawerState.open_contact(row.id),
        cursor="pointer",
        _hover={"background": rx.color("gray", 2)},
    )


def empty_state() -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.icon("users", size=28, color=rx.color("gray", 9)),
                rx.text("No contacts match", weight="bold"),
                rx.cond(
                    ContactsState.has_filters,
                    rx.button(
                        "Clear search and filters",
                        variant="soft",
                        on_click=ContactsState.clear_filters,
                    ),
                ),
                align="center",
                padding_y="40px",
                spacing="2",
            ),
            col_span=20,
        )
    )


def contacts_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.el.caption("Contacts", class_name="sr-only"),
            table_header(),
            rx.table.body(
                rx.cond(
                    ContactsState.rows.length() > 0,
                    rx.foreach(ContactsState.rows, contact_row),
                    rx.cond(~ContactsState.loading, empty_state()),
                )
            ),
            variant="surface",
            size="2",
            width="100%",
            aria_label="Contacts",
            class_name="contacts-table",
            data_row_nav_table="true",
        ),
        rx.cond(
            ContactsState.error != "",
            rx.callout(ContactsState.error, icon="triangle_alert", color_scheme="red"),
        ),
        width="100%",
        overflow_x="auto",
        # Browser tests wait for "ready" before they look at rows.
        data_rows_state=rx.cond(ContactsState.loading, "loading", "ready"),
        opacity=rx.cond(ContactsState.loading, "0.6", "1"),
        transition="opacity 120ms",
        aria_busy=ContactsState.loading,
    )


# ------------------------------------------------------------------- footer


def page_number(item: rx.Var[str]) -> rx.Component:
    return rx.cond(
        item == "…",
        rx.text("…", color_scheme="gray", padding_x="4px"),
        rx.button(
            item,
            size="1",
            variant=rx.cond(item == ContactsState.page.to_string(), "solid", "soft"),
            on_click=ContactsState.go_to_page(item),
            aria_label="Page " + item,
            aria_current=rx.cond(item == ContactsState.page.to_string(), "page", "false"),
        ),
    )


def pagination_footer() -> rx.Component:
    return rx.hstack(
        rx.text(
            ContactsState.range_label,
            size="2",
            color_scheme="gray",
            role="status",
            aria_label="Contacts found",
        ),
        rx.spacer(),
        rx.hstack(
            rx.text("Rows per page", size="2", color_scheme="gray"),
            rx.select.root(
                rx.select.trigger(aria_label="Rows per page"),
                rx.select.content(
                    *[rx.select.item(size, value=size) for size in ("10", "25", "50", "100")]
                ),
                value=ContactsState.page_size.to_string(),
                on_change=ContactsState.set_page_size,
                size="1",
            ),
            align="center",
            spacing="2",
        ),
        rx.hstack(
            rx.button(
                rx.icon("chevron_left", size=14),
                "Previous",
                size="1",
                variant="soft",
                disabled=ContactsState.page <= 1,
                on_click=ContactsState.previous_page,
            ),
            rx.foreach(ContactsState.page_items, page_number),
            rx.button(
                "Next",
                rx.icon("chevron_right", size=14),
                size="1",
                variant="soft",
                disabled=ContactsState.page >= ContactsState.page_count,
                on_click=ContactsState.next_page,
            ),
            align="center",
            spacing="1",
            wrap="wrap",
        ),
        as_="footer",
        width="100%",
        align="center",
        spacing="4",
        wrap="wrap",
        row_gap="8px",
    )
