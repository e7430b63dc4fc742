"""Contacts → Duplicates (managers and admins): possible duplicates, largest groups first,
and the merge dialog."""

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.components.duplicates import duplicate_groups, merge_dialog
from cloodot_app.components.layout import layout


def duplicates_page() -> rx.Component:
    return layout(
        rx.vstack(
            rx.heading("Possible duplicates", size="6"),
            rx.text(
                "Contacts that share an email or a phone number, or have similar names and "
                "the same phone ending (a number with and without its country code). "
                "The largest groups come first.",
                color_scheme="gray",
                size="2",
            ),
            spacing="1",
        ),
        duplicate_groups(),
        merge_dialog(),
        needs=Capability.MERGE_CONTACTS,
    )
