"""Table cells that edit in place, one editor per field type."""

from __future__ import annotations

import reflex as rx

from cloodot_app.services.contact_rows import ContactRow
from cloodot_app.services.custom_fields import FieldDefinitionSummary
from cloodot_app.state.inline_edit import InlineEditState


def _shown_value(value: rx.Var[str]) -> rx.Component:
    return rx.cond(
        value != "", rx.text(value, as_="span"), rx.text("—", as_="span", color_scheme="gray")
    )


def editable_text(
    row: ContactRow, field: rx.Var[str] | str, value: rx.Var[str], label, input_type: str = "text"
) -> rx.Component:
    """Click to edit; Enter or click-away saves; Escape cancels; an invalid value stays
    in the editor with the reason, and nothing is saved."""
    cell_id = row.id.to_string() + ":" + field
    return rx.cond(
        InlineEditState.editing_cell == cell_id,
        rx.vstack(
            rx.input(
                value=InlineEditState.edit_value,
                on_change=InlineEditState.set_edit_value,
                on_key_down=InlineEditState.on_edit_key,
                on_blur=InlineEditState.save_edit,
                auto_focus=True,
                type=input_type,
                size="1",
                aria_label="Edit " + label,
                aria_invalid=InlineEditState.edit_error != "",
                color_scheme=rx.cond(InlineEditState.edit_error != "", "red", "indigo"),
                min_width="160px",
            ),
            rx.cond(
                InlineEditState.edit_error != "",
                rx.text(
                    InlineEditState.edit_error,
                    color_scheme="red",
                    size="1",
                    role="alert",
                    max_width="260px",
                ),
            ),
            spacing="1",
        ),
        rx.el.button(
            _shown_value(value),
            on_click=InlineEditState.start_edit(row.id, field, value),
            aria_label=label + ": " + rx.cond(value != "", value, "empty") + " (click to edit)",
            class_name="cell-edit",
        ),
    )


def select_editor(row: ContactRow, column: FieldDefinitionSummary) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder="—", variant="ghost", aria_label=column.label),
        rx.select.content(
            rx.select.item("— none —", value="__none__"),
            rx.foreach(column.options, lambda option: rx.select.item(option, value=option)),
        ),
        value=rx.cond(
            row.custom_fields[column.key] != "", row.custom_fields[column.key], "__none__"
        ),
        on_change=lambda value: InlineEditState.save_value(
            row.id,
            "cf." + column.key,
            rx.cond(value == "__none__", "", value),
            row.custom_fields[column.key],
        ),
        size="1",
    )


def multi_select_editor(row: ContactRow, column: FieldDefinitionSummary) -> rx.Component:
    chosen = row.multi_values[column.key].to(list[str])
    return rx.popover.root(
        rx.popover.trigger(
            rx.el.button(
                _shown_value(row.custom_fields[column.key]),
                aria_label=column.label + ": " + row.custom_fields[column.key] + " (click to edit)",
                class_name="cell-edit",
            )
        ),
        rx.popover.content(
            rx.vstack(
                rx.foreach(
                    column.options,
                    lambda option: rx.el.label(
                        rx.hstack(
                            rx.checkbox(
                                checked=chosen.contains(option),
                                on_change=lambda checked: InlineEditState.toggle_multi(
                                    row.id, column.key, option, checked
                                ),
                                # A label around a checkbox button does not name it.
                                aria_label=option,
                            ),
                            rx.text(option, size="2"),
                            align="center",
                            spacing="2",
                        )
                    ),
                ),
                spacing="2",
            ),
            aria_label=column.label,
        ),
    )


def custom_field_cell(row: ContactRow, column: FieldDefinitionSummary) -> rx.Component:
    field = "cf." + column.key
    value = row.custom_fields[column.key].to(str)
    editor = rx.match(
        column.type,
        ("select", select_editor(row, column)),
        ("multi_select", multi_select_editor(row, column)),
        ("number", editable_text(row, field, value, column.label, "number")),
        ("date", editable_text(row, field, value, column.label, "date")),
        ("email", editable_text(row, field, value, column.label, "email")),
        ("url", editable_text(row, field, value, column.label, "url")),
        ("phone", editable_text(row, field, value, column.label, "tel")),
        editable_text(row, field, value, column.label),
    )
    return rx.table.cell(
        rx.cond(
            column.entity == "conversation",
            _shown_value(row.conversation_fields[column.key].to(str)),
            editor,
        ),
        white_space="nowrap",
        on_click=rx.stop_propagation,
    )
