"""Settings → Audit log (admins): who exported, deleted, imported, changed opt-in or the team."""

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.components.audit_log import audit_filters, audit_pagination, audit_table
from cloodot_app.components.layout import layout


def audit_log_page() -> rx.Component:
    return layout(
        rx.vstack(
            rx.heading("Audit log", size="6"),
            rx.text(
                "Who did what in this workspace, newest first. "
                "Entries cannot be edited or removed.",
                color_scheme="gray",
                size="2",
            ),
            spacing="1",
        ),
        audit_filters(),
        audit_table(),
        audit_pagination(),
        needs=Capability.MANAGE_WORKSPACE,
    )
