"""Bulk edit: the selection bar's edit buttons and the dialog that chooses, counts,
confirms and shows the run's progress."""

from __future__ import annotations

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.components.dialogs import error_alert
from cloodot_app.components.permissions import gated
from cloodot_app.state.bulk_edit import BulkEditState
from cloodot_app.state.selection import SelectionState

# (action, button words, icon)
BUTTONS = (
    ("add_label", "Add label", "tag"),
    ("remove_label", "Remove label", "tag"),
    ("set_field", "Set field", "pencil"),
    ("set_opt_in", "Set campaign opt-in", "megaphone"),
)


def _edit_button(action: str, words: str, icon: str) -> rx.Component:
    def button(disabled: bool) -> rx.Component:
        return rx.button(
            rx.icon(icon, size=14),
            words,
            variant="soft",
            on_click=BulkEditState.open_bulk_edit(action),
            disabled=BulkEditState.bulk_running if not disabled else True,
        )

    return gated(Capability.BULK_EDIT, button)


def bulk_edit_buttons() -> rx.Component:
    """The edit actions of the selection bar (managers and admins)."""
    return rx.fragment(*(_edit_button(*button) for button in BUTTONS))


def _label_picker() -> rx.Component:
    return rx.vstack(
        rx.text("Label", as_="label", size="2", weight="medium", html_for="bulk-label"),
        rx.select.root(
            rx.select.trigger(placeholder="Choose a label", id="bulk-label", aria_label="Label"),
            rx.select.content(
                rx.foreach(
                    BulkEditState.bulk_labels,
                    lambda label: rx.select.item(label.name, value=label.id.to_string()),
                )
            ),
            value=BulkEditState.bulk_label_id,
            on_change=BulkEditState.set_bulk_label,
        ),
        rx.cond(
            BulkEditState.bulk_labels.length() == 0,
            rx.text("This workspace has no labels yet (Settings → Labels).", size="2"),
        ),
        spacing="1",
        width="100%",
    )


def _text_editor(input_type: str) -> rx.Component:
    return rx.input(
        value=BulkEditState.bulk_value,
        on_change=BulkEditState.set_bulk_value,
        type=input_type,
        aria_label="New value of " + BulkEditState.bulk_field.label,
        placeholder="Leave empty to clear the field",
        width="100%",
    )


def _value_editor() -> rx.Component:
    """The inline editor of the field's type (components/cells.py), for the bulk value."""
    field = BulkEditState.bulk_field
    return rx.match(
        field.type,
        (
            "select",
            rx.select.root(
                rx.select.trigger(placeholder="Choose a value", aria_label="New value"),
                rx.select.content(
                    rx.select.item("— none (clear the field) —", value="__none__"),
                    rx.foreach(field.options, lambda o: rx.select.item(o, value=o)),
                ),
                value=BulkEditState.bulk_value,
                on_change=BulkEditState.set_bulk_value,
            ),
        ),
        (
            "multi_select",
            rx.vstack(
                rx.foreach(
                    field.options,
                    lambda option: rx.el.label(
                        rx.hstack(
                            rx.checkbox(
                                checked=BulkEditState.bulk_values.contains(option),
                                on_change=lambda checked: BulkEditState.toggle_bulk_option(
                                    option, checked
                                ),
                            ),
                            rx.text(option, size="2"),
                            align="center",
                            spacing="2",
                        )
                    ),
                ),
                rx.text("None ticked clears the field.", size="1", color_scheme="gray"),
                role="group",
                aria_label="New value",
                spacing="2",
            ),
        ),
        ("number", _text_editor("number")),
        ("date", _text_editor("date")),
        ("email", _text_editor("email")),
        ("url", _text_editor("url")),
        ("phone", _text_editor("tel")),
        _text_editor("text"),
    )


def _field_picker() -> rx.Component:
    return rx.vstack(
        rx.text("Field", as_="label", size="2", weight="medium", html_for="bulk-field"),
        rx.select.root(
            rx.select.trigger(placeholder="Choose a field", id="bulk-field", aria_label="Field"),
            rx.select.content(
                rx.foreach(
                    BulkEditState.bulk_fields,
                    lambda f: rx.select.item(f.label, value=f.key),
                )
            ),
            value=BulkEditState.bulk_field_key,
            on_change=BulkEditState.set_bulk_field,
        ),
        rx.cond(
            BulkEditState.bulk_fields.length() == 0,
            rx.text(
                "This workspace has no contact fields yet (Settings → Custom fields).", size="2"
            ),
        ),
        rx.cond(
            BulkEditState.bulk_field_key != "",
            rx.vstack(
                rx.text("New value", size="2", weight="medium"),
                _value_editor(),
                spacing="1",
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
    )


def _opt_in_picker() -> rx.Component:
    return rx.radio_group.root(
        rx.vstack(
            rx.el.label(rx.hstack(rx.radio_group.item(value="on"), rx.text("On"), spacing="2")),
            rx.el.label(rx.hstack(rx.radio_group.item(value="off"), rx.text("Off"), spacing="2")),
            spacing="2",
        ),
        value=BulkEditState.bulk_value,
        on_change=BulkEditState.set_bulk_value,
        aria_label="Campaign opt-in",
    )


def _counts() -> rx.Component:
    """How many change and how many already have the value, for the frozen selection."""
    return rx.cond(
        BulkEditState.bulk_words != "",
        rx.callout.root(
            rx.callout.text(
                rx.text.strong(BulkEditState.bulk_to_change.to_string()),
                rx.cond(
                    BulkEditState.bulk_to_change == 1, " contact changes; ", " contacts change; "
                ),
                rx.text.strong(BulkEditState.bulk_already.to_string()),
                " ",
                BulkEditState.bulk_already_words,
                ".",
            ),
            size="1",
            variant="surface",
            width="100%",
        ),
    )


def _progress() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Updating… ",
            BulkEditState.bulk_done.to_string(),
            " of ",
            BulkEditState.bulk_total.to_string(),
            " contacts",
            size="2",
        ),
        rx.progress(value=BulkEditState.bulk_percent, max=100, aria_label="Bulk edit progress"),
        rx.text(
            "It carries on if you close this dialog; a message says when it is done.",
            size="1",
            color_scheme="gray",
        ),
        spacing="2",
        width="100%",
    )


def bulk_edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(BulkEditState.bulk_title),
            rx.dialog.description(
                "For the ",
                BulkEditState.bulk_selected.to_string(),
                rx.cond(BulkEditState.bulk_selected == 1, " contact", " contacts"),
                rx.cond(
                    SelectionState.all_matching,
                    " that matched when you opened this (contacts that arrive or change "
                    "meanwhile are left as they are).",
                    " you selected.",
                ),
                size="2",
            ),
            rx.vstack(
                rx.match(
                    BulkEditState.bulk_action,
                    ("set_field", _field_picker()),
                    ("set_opt_in", _opt_in_picker()),
                    _label_picker(),
                ),
                error_alert(BulkEditState.bulk_error),
                _counts(),
                rx.cond(BulkEditState.bulk_running, _progress()),
                rx.hstack(
                    rx.dialog.close(
                        rx.button(
                            rx.cond(BulkEditState.bulk_running, "Close", "Cancel"),
                            variant="soft",
                            color_scheme="gray",
                        )
                    ),
                    rx.button(
                        "Apply to ",
                        BulkEditState.bulk_to_change.to_string(),
                        rx.cond(BulkEditState.bulk_to_change == 1, " contact", " contacts"),
                        on_click=BulkEditState.apply_bulk_edit,
                        disabled=BulkEditState.bulk_to_change == 0,
                        loading=BulkEditState.bulk_running,
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                margin_top="12px",
                width="100%",
            ),
            max_width="460px",
        ),
        open=BulkEditState.bulk_open,
        on_open_change=BulkEditState.set_bulk_open,
    )
