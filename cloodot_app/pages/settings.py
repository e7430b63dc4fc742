"""Settings → Labels and Settings → Custom fields."""

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.components.layout import layout
from cloodot_app.components.settings import (
    delete_field_dialog,
    delete_label_dialog,
    field_editor,
    fields_table,
    label_editor,
    labels_table,
    page_title,
)
from cloodot_app.state.custom_fields import CustomFieldsState
from cloodot_app.state.labels import LabelsState


def labels_page() -> rx.Component:
    return layout(
        page_title(
            "Labels",
            "Categorise contacts and conversations; segments can filter by them.",
            rx.button(rx.icon("plus", size=16), "New label", on_click=LabelsState.open_new),
        ),
        labels_table(),
        label_editor(),
        delete_label_dialog(),
        needs=Capability.MANAGE_FIELDS,
    )


def custom_fields_page() -> rx.Component:
    return layout(
        page_title(
            "Custom fields",
            "Extra fields for contacts and conversations, such as plan, city or source.",
            rx.button(rx.icon("plus", size=16), "New field", on_click=CustomFieldsState.open_new),
        ),
        fields_table(),
        field_editor(),
        delete_field_dialog(),
        needs=Capability.MANAGE_FIELDS,
    )
