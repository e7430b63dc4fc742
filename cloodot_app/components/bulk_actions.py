"""Bulk actions: the selection bar at the bottom and the informed delete confirmation."""

from __future__ import annotations

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.components.bulk_edit import bulk_edit_buttons
from cloodot_app.components.dialogs import confirm_dialog
from cloodot_app.components.permissions import gated
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.selection import SelectionState


def select_all_matching_offer() -> rx.Component:
    """After the page's header checkbox: offer every contact the view matches."""
    return rx.cond(
        SelectionState.page_selected
        & ~SelectionState.all_matching
        & (ContactsState.total > ContactsState.rows.length())
        # Offered once the exact count is known (not while the page says "10,000+").
        & ContactsState.total_exact,
        rx.callout.root(
            rx.callout.text(
                "All ",
                ContactsState.rows.length().to_string(),
                " contacts on this page are selected. ",
                rx.button(
                    "Select all " + ContactsState.total.to_string() + " contacts that match",
                    on_click=SelectionState.select_all_matching,
                    variant="ghost",
                    size="1",
                ),
            ),
            size="1",
            variant="surface",
            width="100%",
        ),
        rx.cond(
            SelectionState.all_matching,
            rx.callout.root(
                rx.callout.text(
                    "All ",
                    ContactsState.total.to_string(),
                    " contacts that match are selected. ",
                    rx.button(
                        "Clear selection",
                        on_click=SelectionState.clear_selection,
                        variant="ghost",
                        size="1",
                    ),
                ),
                size="1",
                variant="surface",
                width="100%",
            ),
        ),
    )


def bulk_action_bar() -> rx.Component:
    return rx.cond(
        SelectionState.selected_count > 0,
        rx.hstack(
            rx.text(
                SelectionState.selected_count.to_string(),
                rx.cond(
                    SelectionState.selected_count == 1, " contact selected", " contacts selected"
                ),
                weight="medium",
                white_space="nowrap",
            ),
            rx.button(
                "Clear selection",
                variant="soft",
                color_scheme="gray",
                on_click=SelectionState.clear_selection,
            ),
            bulk_edit_buttons(),
            gated(
                Capability.DELETE_CONTACTS,
                lambda disabled: rx.button(
                    rx.icon("trash_2", size=14),
                    "Delete",
                    color_scheme="red",
                    on_click=SelectionState.open_delete,
                    disabled=disabled,
                ),
            ),
            position="fixed",
            bottom="max(16px, env(safe-area-inset-bottom))",
            left="50%",
            transform="translateX(-50%)",
            width="max-content",
            max_width="calc(100vw - 24px)",
            wrap="wrap",
            padding="10px 16px",
            border_radius="10px",
            box_shadow="0 8px 30px rgba(0,0,0,0.18)",
            background=rx.color("gray", 1),
            border=f"1px solid {rx.color('gray', 6)}",
            align="center",
            spacing="3",
            z_index="20",
            role="region",
            aria_label="Bulk actions",
        ),
    )


def delete_dialog() -> rx.Component:
    return confirm_dialog(
        rx.fragment(
            "Delete ",
            SelectionState.delete_count.to_string(),
            rx.cond(SelectionState.delete_count == 1, " contact?", " contacts?"),
        ),
        rx.vstack(
            rx.text(
                rx.text.strong(SelectionState.delete_with_conversations.to_string()),
                rx.cond(
                    SelectionState.delete_with_conversations == 1,
                    " has conversations",
                    " have conversations",
                ),
                " (their conversation history will be deleted too).",
            ),
            rx.text(
                rx.text.strong(SelectionState.delete_without_conversations.to_string()),
                rx.cond(
                    SelectionState.delete_without_conversations == 1,
                    " has no conversations.",
                    " have no conversations.",
                ),
            ),
            rx.text("Deleting is permanent and cannot be undone.", weight="bold"),
            spacing="2",
        ),
        "Delete permanently",
        SelectionState.confirm_delete,
        SelectionState.delete_open,
        SelectionState.set_delete_open,
        loading=SelectionState.deleting,
    )
