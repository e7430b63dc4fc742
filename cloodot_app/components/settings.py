"""Settings pages: labels and custom field definitions."""

from __future__ import annotations

import reflex as rx

from cloodot_app.components.buttons import icon_action
from cloodot_app.components.dialogs import confirm_dialog, dialog_actions, error_alert
from cloodot_app.services.custom_fields import FieldSummary
from cloodot_app.services.labels import LABEL_COLORS, LabelSummary
from cloodot_app.state.custom_fields import CustomFieldsState
from cloodot_app.state.labels import LabelsState


def page_title(title: str, subtitle: str, action: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.heading(title, size="6"),
            rx.text(subtitle, color_scheme="gray", size="2"),
            spacing="1",
        ),
        rx.spacer(),
        action,
        width="100%",
        align="end",
    )


def _used_by(segments) -> rx.Component:
    return rx.cond(
        segments.length() > 0,
        rx.text("Segments: ", segments.join(", "), size="1", color_scheme="gray"),
    )


def _labelled(*children: rx.Component) -> rx.Component:
    """A form row: the caption and its control, full width."""
    return rx.el.label(*children, display="block", width="100%")


# ------------------------------------------------------------------- labels


def label_row(label: LabelSummary) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.badge(label.name, color_scheme=label.color, variant="soft", size="2"),
                _used_by(label.segments),
                spacing="1",
            )
        ),
        rx.table.cell(label.contacts.to_string(), text_align="right"),
        rx.table.cell(label.conversations.to_string(), text_align="right"),
        rx.table.cell(
            rx.hstack(
                icon_action("pencil", "Edit " + label.name, LabelsState.open_edit(label.id)),
                icon_action(
                    "trash_2", "Delete " + label.name, LabelsState.ask_delete(label.id), "red"
                ),
                spacing="1",
                justify="end",
            )
        ),
        align="center",
    )


def labels_table() -> rx.Component:
    return rx.table.root(
        rx.el.caption("Labels", class_name="sr-only"),
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Label"),
                rx.table.column_header_cell("Contacts", text_align="right"),
                rx.table.column_header_cell("Conversations", text_align="right"),
                rx.table.column_header_cell(rx.text("Actions", class_name="sr-only")),
            )
        ),
        rx.table.body(rx.foreach(LabelsState.labels, label_row)),
        variant="surface",
        width="100%",
    )


def label_editor() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(LabelsState.edit_id > 0, "Edit label", "New label")),
            rx.vstack(
                _labelled(
                    rx.text("Name", size="2", weight="medium"),
                    rx.input(
                        value=LabelsState.edit_name,
                        on_change=LabelsState.set_edit_name,
                        aria_label="Label name",
                        width="100%",
                    ),
                ),
                _labelled(
                    rx.text("Colour", size="2", weight="medium"),
                    rx.select.root(
                        rx.select.trigger(aria_label="Colour", width="100%"),
                        rx.select.content(
                            *[
                                rx.select.item(
                                    rx.badge(color.title(), color_scheme=color, variant="soft"),
                                    value=color,
                                )
                                for color in LABEL_COLORS
                            ]
                        ),
                        value=LabelsState.edit_color,
                        on_change=LabelsState.set_edit_color,
                    ),
                ),
                error_alert(LabelsState.edit_error),
                dialog_actions(
                    rx.button("Save label", on_click=LabelsState.save),
                ),
                spacing="3",
                margin_top="12px",
            ),
            max_width="420px",
        ),
        open=LabelsState.editor_open,
        on_open_change=LabelsState.set_editor_open,
    )


def delete_label_dialog() -> rx.Component:
    return confirm_dialog(
        rx.fragment("Delete the label “", LabelsState.delete_name, "”?"),
        rx.vstack(
            rx.text(
                "It comes off ",
                rx.text.strong(LabelsState.delete_usage.contacts.to_string()),
                " contacts and ",
                rx.text.strong(LabelsState.delete_usage.conversations.to_string()),
                " conversations. No contact is deleted.",
            ),
            rx.cond(
                LabelsState.delete_usage.segments.length() > 0,
                rx.text(
                    "These segments use it and will show as broken until edited: ",
                    LabelsState.delete_usage.segments.join(", "),
                    ".",
                    color_scheme="red",
                ),
            ),
            spacing="2",
        ),
        "Delete label",
        LabelsState.confirm_delete,
        LabelsState.delete_id > 0,
        LabelsState.set_delete_open,
    )


# ------------------------------------------------------------------- custom fields


def field_row(field: FieldSummary, index) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.text(field.label, weight="medium"),
                rx.code(field.key, size="1", variant="ghost"),
                _used_by(field.segments),
                spacing="1",
            )
        ),
        rx.table.cell(rx.badge(field.type, variant="soft", color_scheme="gray")),
        rx.table.cell(
            rx.text(field.options.join(", "), size="2", color_scheme="gray"), max_width="280px"
        ),
        rx.table.cell(field.value_count.to_string(), text_align="right"),
        rx.table.cell(
            rx.hstack(
                icon_action("pencil", "Edit " + field.label, CustomFieldsState.open_edit(field.id)),
                icon_action(
                    "arrow_up",
                    "Move " + field.label + " up",
                    CustomFieldsState.move(field.id, -1),
                    disabled=index == 0,
                ),
                icon_action(
                    "arrow_down",
                    "Move " + field.label + " down",
                    CustomFieldsState.move(field.id, 1),
                    disabled=index == CustomFieldsState.fields.length() - 1,
                ),
                icon_action(
                    "trash_2",
                    "Delete " + field.label,
                    CustomFieldsState.ask_delete(field.id),
                    "red",
                ),
                spacing="1",
                justify="end",
            )
        ),
        align="center",
    )


def _fields_table() -> rx.Component:
    return rx.table.root(
        rx.el.caption("Custom fields", class_name="sr-only"),
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Field"),
                rx.table.column_header_cell("Type"),
                rx.table.column_header_cell("Options"),
                rx.table.column_header_cell("Values", text_align="right"),
                rx.table.column_header_cell(rx.text("Actions", class_name="sr-only")),
            )
        ),
        rx.table.body(rx.foreach(CustomFieldsState.fields, field_row)),
        variant="surface",
        width="100%",
    )


def fields_table() -> rx.Component:
    """The table sits in the selected tab's panel (each tab controls a panel that exists)."""
    return rx.vstack(
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Contact fields", value="contact"),
                rx.tabs.trigger("Conversation fields", value="conversation"),
            ),
            rx.tabs.content(_fields_table(), value="contact", padding_top="12px"),
            rx.tabs.content(_fields_table(), value="conversation", padding_top="12px"),
            value=CustomFieldsState.entity,
            on_change=CustomFieldsState.set_entity,
            width="100%",
        ),
        width="100%",
    )


def field_editor() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(CustomFieldsState.edit_id > 0, "Edit field", "New field")),
            rx.dialog.description(
                rx.cond(
                    CustomFieldsState.entity == "contact",
                    "A field on every contact.",
                    "A field on every conversation.",
                ),
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                _labelled(
                    rx.text("Name", size="2", weight="medium"),
                    rx.input(
                        value=CustomFieldsState.edit_label,
                        on_change=CustomFieldsState.set_edit_label,
                        aria_label="Field name",
                        width="100%",
                    ),
                ),
                _labelled(
                    rx.text("Type", size="2", weight="medium"),
                    rx.select.root(
                        rx.select.trigger(aria_label="Type", width="100%"),
                        rx.select.content(
                            rx.foreach(
                                CustomFieldsState.type_options,
                                lambda option: rx.select.item(option[1], value=option[0]),
                            )
                        ),
                        value=CustomFieldsState.edit_type,
                        on_change=CustomFieldsState.set_edit_type,
                    ),
                ),
                rx.cond(
                    CustomFieldsState.edit_has_options,
                    _labelled(
                        rx.text("Options (one per line)", size="2", weight="medium"),
                        rx.text_area(
                            value=CustomFieldsState.edit_options,
                            on_change=CustomFieldsState.set_edit_options,
                            aria_label="Options",
                            width="100%",
                            rows="5",
                        ),
                    ),
                ),
                error_alert(CustomFieldsState.edit_error),
                rx.cond(
                    CustomFieldsState.confirm_message != "",
                    rx.callout(
                        CustomFieldsState.confirm_message,
                        icon="triangle_alert",
                        color_scheme="amber",
                        role="alert",
                        width="100%",
                    ),
                ),
                dialog_actions(
                    rx.cond(
                        CustomFieldsState.confirm_message != "",
                        rx.button(
                            "Clear those values and save",
                            color_scheme="red",
                            on_click=CustomFieldsState.save(True),
                        ),
                        rx.button("Save field", on_click=CustomFieldsState.save(False)),
                    ),
                ),
                spacing="3",
                margin_top="12px",
            ),
            max_width="480px",
        ),
        open=CustomFieldsState.editor_open,
        on_open_change=CustomFieldsState.set_editor_open,
    )


def delete_field_dialog() -> rx.Component:
    return confirm_dialog(
        rx.fragment("Delete the field “", CustomFieldsState.delete_label, "”?"),
        rx.vstack(
            rx.text(
                "Its ",
                rx.text.strong(CustomFieldsState.delete_usage.value_count.to_string()),
                " stored values are deleted with it. This cannot be undone.",
            ),
            rx.cond(
                CustomFieldsState.delete_usage.segments.length() > 0,
                rx.text(
                    "These segments use it and will show as broken until edited: ",
                    CustomFieldsState.delete_usage.segments.join(", "),
                    ".",
                    color_scheme="red",
                ),
            ),
            spacing="2",
        ),
        "Delete field",
        CustomFieldsState.confirm_delete,
        CustomFieldsState.delete_id > 0,
        CustomFieldsState.set_delete_open,
    )
