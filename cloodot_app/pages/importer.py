"""Contacts → Import: bring contacts in from a CSV file."""

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.components.importer import import_wizard, recent_imports
from cloodot_app.components.layout import layout


def import_page() -> rx.Component:
    return layout(
        rx.vstack(
            rx.heading("Import contacts", size="6"),
            rx.text(
                "Contacts from a CSV file join your workspace with the source “imported”.",
                color_scheme="gray",
                size="2",
            ),
            spacing="1",
        ),
        import_wizard(),
        rx.divider(),
        recent_imports(),
        needs=Capability.IMPORT,
    )
