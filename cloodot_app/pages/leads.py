"""Contacts → Leads: the pipeline as a Kanban board of segments."""

import reflex as rx

from cloodot_app.components.contact_drawer import contact_drawer
from cloodot_app.components.layout import layout
from cloodot_app.components.leads_board import leads_board, leads_toolbar


def leads_page() -> rx.Component:
    return layout(
        rx.vstack(
            rx.heading("Leads", size="6"),
            rx.text(
                "Each column is a segment; cards are contacts, most recent interaction first.",
                color_scheme="gray",
                size="2",
            ),
            spacing="1",
        ),
        leads_toolbar(),
        leads_board(),
        contact_drawer(),
    )
