"""Contacts → All: the table agents work in all day."""

import reflex as rx

from cloodot_app.components.contacts_table import (
    contacts_table,
    contacts_toolbar,
    page_header,
    pagination_footer,
    segment_banner,
)
from cloodot_app.components.layout import layout


def contacts_page() -> rx.Component:
    return layout(
        page_header(),
        contacts_toolbar(),
        segment_banner(),
        contacts_table(),
        pagination_footer(),
    )
