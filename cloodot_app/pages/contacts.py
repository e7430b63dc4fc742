"""Contacts → All: the table agents work in all day."""

import reflex as rx

from cloodot_app.components.bulk_actions import (
    bulk_action_bar,
    delete_dialog,
    select_all_matching_offer,
)
from cloodot_app.components.bulk_edit import bulk_edit_dialog
from cloodot_app.components.contact_drawer import contact_drawer
from cloodot_app.components.contacts_table import (
    contacts_table,
    contacts_toolbar,
    link_problem_notice,
    page_header,
    pagination_footer,
    segment_banner,
)
from cloodot_app.components.dialogs import conflict_dialog
from cloodot_app.components.layout import layout
from cloodot_app.state.inline_edit import InlineEditState


def contacts_page() -> rx.Component:
    return layout(
        page_header(),
        contacts_toolbar(),
        link_problem_notice(),
        segment_banner(),
        select_all_matching_offer(),
        contacts_table(),
        pagination_footer(),
        bulk_action_bar(),
        delete_dialog(),
        bulk_edit_dialog(),
        contact_drawer(),
        conflict_dialog(InlineEditState),
    )
