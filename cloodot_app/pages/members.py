"""Settings → Members: the team, invitations and the channels' ingestion token."""

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.components.layout import layout
from cloodot_app.components.members import (
    channels_section,
    invitations_table,
    invite_button,
    invite_dialog,
    members_table,
    own_role_dialog,
    remove_member_dialog,
    reset_link_dialog,
    section_heading,
)
from cloodot_app.components.settings import page_title


def members_page() -> rx.Component:
    return layout(
        page_title(
            "Members",
            "Who works in this workspace and what each may do.",
            invite_button(),
        ),
        members_table(),
        section_heading(
            "Pending invitations",
            "Invitation links work once, until they expire or are revoked.",
        ),
        invitations_table(),
        channels_section(),
        invite_dialog(),
        remove_member_dialog(),
        own_role_dialog(),
        reset_link_dialog(),
        needs=Capability.MANAGE_WORKSPACE,
    )
