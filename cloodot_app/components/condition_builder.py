"""The condition builder: field, operator and a value input that fits the field's type.

Shared by the Quick Filter drawer and the segment editor (any state using
ConditionBuilderMixin).
"""

from __future__ import annotations

import reflex as rx

from cloodot_app.state.condition_builder import DraftCondition


def _option_checkbox(state, draft: DraftCondition, index, option) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.checkbox(
                checked=draft.chosen.contains(option[0]),
                on_change=lambda checked: state.toggle_option(index, option[0], checked),
                # A label around a checkbox button does not name it.
                aria_label=option[1],
            ),
            rx.text(option[1], size="2"),
            spacing="1",
            align="center",
        ),
    )


def _value_input(state, draft: DraftCondition, index) -> rx.Component:
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
        ("text", text_input(draft.value, state.set_value, "text", "Value")),
        ("number", text_input(draft.value, state.set_value, "number", "Value")),
        ("days", text_input(draft.value, state.set_value, "number", "Days", "Days")),
        ("date", text_input(draft.value, state.set_value, "date", "Date")),
        (
            "number_range",
            rx.hstack(
                text_input(draft.value, state.set_value, "number", "From", "From"),
                text_input(draft.value2, state.set_value2, "number", "To", "To"),
                width="100%",
            ),
        ),
        (
            "date_range",
            rx.hstack(
                text_input(draft.value, state.set_value, "date", "From date"),
                text_input(draft.value2, state.set_value2, "date", "To date"),
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
                on_change=lambda v: state.set_value(index, v),
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
                on_change=lambda v: state.set_value(index, v),
            ),
        ),
        rx.flex(
            rx.foreach(draft.options, lambda option: _option_checkbox(state, draft, index, option)),
            wrap="wrap",
            gap="2",
            role="group",
            aria_label="Options",
        ),
    )


def condition_row(state, draft: DraftCondition, index) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.select.root(
                    rx.select.trigger(aria_label="Field", flex="1", min_width="0"),
                    rx.select.content(
                        rx.foreach(
                            state.field_options,
                            lambda f: rx.select.item(f[1], value=f[0]),
                        )
                    ),
                    value=draft.field,
                    on_change=lambda v: state.set_field(index, v),
                ),
                rx.select.root(
                    rx.select.trigger(aria_label="Operator", flex="1", min_width="0"),
                    rx.select.content(
                        rx.foreach(draft.operators, lambda o: rx.select.item(o[1], value=o[0]))
                    ),
                    value=draft.operator,
                    on_change=lambda v: state.set_operator(index, v),
                ),
                rx.icon_button(
                    rx.icon("trash_2", size=14),
                    variant="ghost",
                    color_scheme="gray",
                    on_click=state.remove_condition(index),
                    aria_label="Remove condition",
                ),
                width="100%",
                align="center",
            ),
            _value_input(state, draft, index),
            width="100%",
            spacing="2",
        ),
        width="100%",
        role="group",
        aria_label="Condition",
    )


def match_choice(state) -> rx.Component:
    return rx.radio_group.root(
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
        value=state.match,
        on_change=state.set_match,
        aria_label="Match",
    )


def condition_builder(state) -> rx.Component:
    return rx.vstack(
        match_choice(state),
        rx.vstack(
            rx.foreach(state.drafts, lambda draft, index: condition_row(state, draft, index)),
            width="100%",
            spacing="2",
        ),
        rx.button(
            rx.icon("plus", size=14),
            "Add condition",
            variant="soft",
            on_click=state.add_condition,
        ),
        width="100%",
        spacing="3",
    )
