"""The Quick Filter drawer: conditions joined by all (AND) or any (OR)."""

from __future__ import annotations

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.components.condition_builder import condition_builder
from cloodot_app.components.dialogs import error_alert
from cloodot_app.components.layout import can
from cloodot_app.components.save_segment import save_segment_dialog
from cloodot_app.components.side_drawer import side_drawer
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.filter_drawer import FilterDrawerState


def filter_drawer() -> rx.Component:
    return side_drawer(
        rx.vstack(
            rx.hstack(
                rx.drawer.title("Filters", font_size="1.2rem", font_weight="700", margin="0"),
                rx.spacer(),
                rx.drawer.close(
                    rx.icon_button(rx.icon("x", size=16), variant="ghost", aria_label="Close")
                ),
                width="100%",
                align="center",
            ),
            rx.drawer.description(
                "Narrow the list with conditions. They last until you clear them.",
                size="2",
                color_scheme="gray",
            ),
            rx.box(
                condition_builder(FilterDrawerState),
                width="100%",
                overflow_y="auto",
                flex="1",
            ),
            error_alert(FilterDrawerState.error),
            rx.hstack(
                rx.button(
                    "Clear",
                    variant="soft",
                    color_scheme="gray",
                    on_click=FilterDrawerState.clear,
                ),
                rx.button("Apply", on_click=FilterDrawerState.apply),
                justify="end",
                width="100%",
            ),
            height="100%",
            spacing="3",
            width="100%",
        ),
        label="Filters",
        open_=FilterDrawerState.is_open,
        on_open_change=FilterDrawerState.set_open,
        width="460px",
        padding="20px",
    )


def filters_button() -> rx.Component:
    return rx.button(
        rx.icon("list_filter", size=16),
        "Filters",
        rx.cond(
            ContactsState.filter_chips.length() > 0,
            rx.badge(ContactsState.filter_chips.length(), variant="solid", radius="full"),
        ),
        variant="soft",
        on_click=FilterDrawerState.open_with(ContactsState.filter_spec),
        data_shortcut_filters="true",
    )


def filter_chips() -> rx.Component:
    return rx.cond(
        ContactsState.filter_chips.length() > 0,
        rx.hstack(
            rx.text(
                rx.cond(ContactsState.filter_spec["match"] == "any", "Any of:", "All of:"),
                size="1",
                color_scheme="gray",
            ),
            rx.foreach(
                ContactsState.filter_chips,
                lambda chip, index: rx.badge(
                    chip,
                    rx.icon_button(
                        rx.icon("x", size=10),
                        size="1",
                        variant="ghost",
                        on_click=ContactsState.remove_chip(index),
                        aria_label="Remove filter " + chip,
                    ),
                    variant="surface",
                    size="2",
                ),
            ),
            rx.button("Clear all", size="1", variant="ghost", on_click=ContactsState.clear_filters),
            rx.cond(can(Capability.MANAGE_SEGMENTS), save_segment_dialog()),
            wrap="wrap",
            align="center",
            spacing="2",
            width="100%",
        ),
    )
