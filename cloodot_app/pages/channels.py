"""Settings → Channels: WhatsApp, Messenger, Instagram and WebChat connections."""

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.components.channels import (
    connect_dialog,
    connected_dialog,
    connections_list,
    delete_dialog,
    demo_note,
    edit_dialog,
    kind_cards,
    other_sources_note,
    rotate_dialog,
    secret_dialog,
)
from cloodot_app.components.layout import layout
from cloodot_app.components.settings import page_title


def channels_page() -> rx.Component:
    return layout(
        page_title(
            "Channels",
            "Where people write to you. Each message creates or updates a contact.",
            rx.fragment(),
        ),
        demo_note(),
        kind_cards(),
        connections_list(),
        other_sources_note(),
        connect_dialog(),
        connected_dialog(),
        secret_dialog(),
        edit_dialog(),
        rotate_dialog(),
        delete_dialog(),
        needs=Capability.MANAGE_CHANNELS,
    )
