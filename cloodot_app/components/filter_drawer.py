"""The Quick Filter drawer: conditions joined by all (AND) or any (OR)."""

from __future__ import annotations

import reflex as rx

from cloodot_app.components.save_segment import save_segment_dialog
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.filter_drawer import DraftCondition, FilterDrawerState


def _option_checkbox(draft: DraftCondition, index, option) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.checkbox(
                checked=draft.chosen.contains(option[0]),
                on_change=lambda checked: FilterDrawerState.toggle_option(
                    index, option[0], checked
                ),
            ),
            rx.text(option[1], size="2"),
            spacing="1",
            align="center",
        ),
    )


def _value_input(draft: DraftCondition, index) -> rx.Component:
    def text_input(value, handler, kind: str, label: str, placeholder: str = "Value"):
        return rx.input(
            value=value,
            on_change=lambda v: handler(index, v),
            type=kind,
            placeholder=placeholder,
            aria_label=label,
            size="2",
            width="100%",
        )

    return rx.match(
        draft.input_kind,
        ("none", rx.fragment()),
        ("text", text_input(draft.value, FilterDrawerState.set_value, "text", "Value")),
        ("number", text_input(draft.value, FilterDrawerState.set_value, "number", "Value")),
        ("days", text_input(draft.value, FilterDrawerState.set_value, "number", "Days", "Days")),
        ("date", text_input(draft.value, FilterDrawerState.set_value, "date", "Date")),
        (
            "number_range",
            rx.hstack(
                text_input(draft.value, FilterDrawerState.set_value, "number", "From", "From"),
                text_input(draft.value2, FilterDrawerState.set_value2, "number", "To", "To"),
                width="100%",
            ),
        ),
        (
            "date_range",
            rx.hstack(
                text_input(draft.value, FilterDrawerState.set_value, "date", "From date"),
                text_input(draft.value2, FilterDrawerState.set_value2, "date", "To date"),
                width="100%",
            ),
        ),
        (
            "boolean",
            rx.select.root(
                rx.select.trigger(aria_label="Value", width="100%"),
                rx.select.content(
                    rx.select.item("Yes", value="true"), rx.select.item("No", value="false")
                ),
                value=draft.value,
                on_change=lambda v: FilterDrawerState.set_value(index, v),
            ),
        ),
        (
            "option",
            rx.select.root(
                rx.select.trigger(placeholder="Choose…", aria_label="Value", width="100%"),
                rx.select.content(
                    rx.foreach(draft.options, lambda o: rx.select.item(o[1], value=o[0]))
                ),
                value=draft.value,
                on_change=lambda v: FilterDrawerState.set_value(index, v),
            ),
        ),
        rx.flex(
            rx.foreach(draft.options, lambda option: _option_checkbox(draft, index, option)),
            wrap="wrap",
            gap="2",
            role="group",
            aria_label="Options",
        ),
    )


def condition_row(draft: DraftCondition, index) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.select.root(
                    rx.select.trigger(aria_label="Field", flex="1", min_width="0"),
                    rx.select.content(
                        rx.foreach(
                            FilterDrawerState.field_options,
                            lambda f: rx.select.item(f[1], value=f[0]),
                        )
                    ),
                    value=draft.field,
                    on_change=lambda v: FilterDrawerState.set_field(index, v),
                ),
                rx.select.root(
                    rx.select.trigger(aria_label="Operator", flex="1", min_width="0"),
                    rx.select.content(
                        rx.foreach(draft.operators, lambda o: rx.select.item(o[1], value=o[0]))
                    ),
                    value=draft.operator,
                    on_change=lambda v: FilterDrawerState.set_operator(index, v),
                ),
                rx.icon_button(
                    rx.icon("trash_2", size=14),
                    variant="ghost",
                    color_scheme="gray",
                    on_click=FilterDrawerState.remove_condition(index),
                    aria_label="Remove condition",
                ),
                width="100%",
                align="center",
            ),
            _value_input(draft, index),
            width="100%",
            spacing="2",
        ),
        width="100%",
        role="group",
        aria_label="Condition",
    )


def filter_drawer() -> rx.Component:
    return rx.drawer.root(
        rx.drawer.overlay(
            z_index="50", position="fixed", inset="0", background="rgba(0, 0, 0, 0.25)"
        ),
        rx.drawer.portal(
            rx.drawer.content(
                rx.vstack(
                    rx.hstack(
                        rx.drawer.title(
                            "Filters", font_size="1.2rem", font_weight="700", margin="0"
                        ),
                        rx.spacer(),
                        rx.drawer.close(
                            rx.icon_button(
                                rx.icon("x", size=16), variant="ghost", aria_label="Close"
                            )
                        ),
                        width="100%",
                        align="center",
                    ),
                    rx.drawer.description(
                        "Narrow the list with conditions. They last until you clear them.",
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.radio_group.root(
                        rx.hstack(
                            rx.el.label(
                                rx.hstack(
                                    rx.radio_group.item(value="all"),
                                    rx.text("All conditions match (AND)", size="2"),
                                    align="center",
                                    spacing="1",
                                )
                            ),
                            rx.el.label(
                                rx.hstack(
                                    rx.radio_group.item(value="any"),
                                    rx.text("Any condition matches (OR)", size="2"),
                                    align="center",
                                    spacing="1",
                                )
                            ),
                            spacing="4",
                        ),
                        value=FilterDrawerState.match,
                        on_change=FilterDrawerState.set_match,
                        aria_label="Match",
                    ),
                    rx.vstack(
                        rx.foreach(FilterDrawerState.drafts, condition_row),
                        width="100%",
                        spacing="2",
                        overflow_y="auto",
                        flex="1",
                    ),
                    rx.button(
                        rx.icon("plus", size=14),
                        "Add condition",
                        variant="soft",
                        on_click=FilterDrawerState.add_condition,
                    ),
                    rx.cond(
                        FilterDrawerState.error != "",
                        rx.callout(
                            FilterDrawerState.error,
                            icon="triangle_alert",
                            color_scheme="red",
                            role="alert",
                            width="100%",
                        ),
                    ),
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
                position="fixed",
                top="0",
                right="0",
                left="auto",
                height="100%",
                width="min(460px, 100vw)",
                padding="20px",
                background_color=rx.color("gray", 1),
                z_index="60",
                role="dialog",
                aria_label="Filters",
            )
        ),
        direction="right",
        open=FilterDrawerState.is_open,
        on_open_change=FilterDrawerState.set_open,
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
            save_segment_dialog(),
            wrap="wrap",
            align="center",
            spacing="2",
            width="100%",
        ),
    )
