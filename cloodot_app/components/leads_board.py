"""The Leads board: columns per segment, cards, load-more and drag-and-drop."""

from __future__ import annotations

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.components.contact_bits import (
    channel_icon,
    contact_avatar,
    label_badges,
    relative_time,
)
from cloodot_app.components.drag import drag_box
from cloodot_app.components.layout import can
from cloodot_app.components.live_toggle import live_toggle
from cloodot_app.components.trend import segment_trend
from cloodot_app.services.leads import BoardCard, BoardColumn
from cloodot_app.state.contact_drawer import ContactDrawerState
from cloodot_app.state.contact_segments import ContactSegmentsState
from cloodot_app.state.leads import LeadsState


def _card_menu(card: BoardCard, column: BoardColumn) -> rx.Component:
    """Why the card is in its column (everyone), and the keyboard (and screen-reader) way
    to do what dragging does (managers and admins)."""
    return rx.dropdown_menu.root(
        rx.dropdown_menu.trigger(
            rx.icon_button(
                rx.icon("ellipsis", size=14),
                variant="ghost",
                size="1",
                color_scheme="gray",
                aria_label="Actions for " + card.name,
            )
        ),
        rx.dropdown_menu.content(
            rx.dropdown_menu.item(
                rx.icon("list_checks", size=14),
                "Why in “" + column.name + "”?",
                on_click=ContactSegmentsState.explain_from_board(card.id, column.segment_id),
            ),
            rx.cond(
                can(Capability.MANAGE_SEGMENTS),
                rx.fragment(
                    rx.dropdown_menu.separator(),
                    rx.text("Move to", size="1", color_scheme="gray", padding="4px 12px 2px"),
                    rx.foreach(
                        LeadsState.columns,
                        lambda target: rx.cond(
                            target.drop_words != "",
                            rx.dropdown_menu.item(
                                target.name,
                                on_click=LeadsState.move_to(card.id, target.segment_id),
                            ),
                        ),
                    ),
                ),
            ),
        ),
        # Not modal: a modal menu hides the rest of the page from screen readers while
        # leaving the board's focusable cards in it (axe: aria-hidden-focus).
        modal=False,
    )


def lead_card(card: BoardCard, column: BoardColumn) -> rx.Component:
    return drag_box(
        rx.card(
            rx.vstack(
                rx.hstack(
                    contact_avatar(card, size="2"),
                    rx.link(
                        card.name,
                        on_click=ContactDrawerState.open_contact(card.id),
                        weight="medium",
                        high_contrast=True,
                        underline="hover",
                        cursor="pointer",
                        aria_label="Open " + card.name,
                        size="2",
                        trim="both",
                    ),
                    channel_icon(card.channel),
                    rx.spacer(),
                    _card_menu(card, column),
                    align="center",
                    spacing="2",
                    width="100%",
                ),
                label_badges(card.labels),
                rx.cond(
                    card.last_message_text != "",
                    rx.text(
                        card.last_message_text,
                        size="1",
                        color_scheme="gray",
                        style={
                            "display": "-webkit-box",
                            "-webkit-line-clamp": "2",
                            "-webkit-box-orient": "vertical",
                            "overflow": "hidden",
                        },
                    ),
                ),
                rx.text(
                    relative_time(card.last_interaction_at, "no messages yet"),
                    size="1",
                    color_scheme="gray",
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
            size="1",
        ),
        # Moving cards changes contacts to fit a column: for managers and admins.
        draggable=can(Capability.MANAGE_SEGMENTS),
        on_drag_start=LeadsState.start_drag(card.id),
        cursor=rx.cond(can(Capability.MANAGE_SEGMENTS), "grab", "default"),
        role="listitem",
        aria_label=card.name,
        width="100%",
    )


def _column_body(column: BoardColumn) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.box(
                width="10px",
                height="10px",
                border_radius="50%",
                background=rx.color(column.color, 9),
            ),
            rx.heading(column.name, size="3", trim="both"),
            rx.spacer(),
            rx.badge(
                column.total.to_string(),
                color_scheme=column.color,
                variant="soft",
                radius="full",
            ),
            align="center",
            width="100%",
            padding="4px 4px 0 4px",
        ),
        rx.box(segment_trend(column.trend, column.name, column.color, "110px"), padding_x="4px"),
        rx.cond(
            column.drop_words != "",
            rx.text(
                "Drop a card here: ",
                column.drop_words,
                size="1",
                color_scheme="gray",
                padding_x="4px",
            ),
        ),
        rx.cond(
            column.problem != "",
            rx.callout(column.problem, icon="triangle_alert", color_scheme="red", size="1"),
        ),
        rx.vstack(
            # Only cards in the list (role list may hold list items only).
            rx.vstack(
                rx.foreach(column.cards, lambda card: lead_card(card, column)),
                spacing="2",
                width="100%",
                role="list",
                aria_label=column.name + " cards",
            ),
            rx.cond(
                column.cards.length() < column.total,
                rx.button(
                    "Load more",
                    variant="ghost",
                    size="1",
                    width="100%",
                    on_click=LeadsState.load_more(column.segment_id),
                    data_autoload="true",
                ),
            ),
            rx.cond(
                (column.total == 0) & (column.problem == ""),
                rx.text(
                    "No contacts in this segment.", size="2", color_scheme="gray", padding="8px"
                ),
            ),
            spacing="2",
            width="100%",
            overflow_y="auto",
            flex="1",
            padding="4px",
        ),
        height="100%",
        spacing="2",
    )


_COLUMN_STYLE = {
    # A phone shows one column at a time and snaps to the next (styles.css: .leads-board).
    "min_width": ["calc(100vw - 48px)", "290px"],
    "width": ["calc(100vw - 48px)", "290px"],
    "height": ["calc(100dvh - 230px)", "calc(100dvh - 230px)", "calc(100vh - 170px)"],
    "background": rx.color("gray", 2),
    "border": f"1px solid {rx.color('gray', 4)}",
    "border_radius": "10px",
    "padding": "8px",
}


def board_column(column: BoardColumn) -> rx.Component:
    """Only a column whose segment one edit can satisfy accepts dropped cards."""
    return rx.cond(
        column.drop_words != "",
        drag_box(
            _column_body(column),
            on_drag_over=rx.prevent_default,
            on_drop=LeadsState.drop_on(column.segment_id).prevent_default,
            role="region",
            aria_label=column.name,
            data_droppable="true",
            **_COLUMN_STYLE,
        ),
        rx.box(_column_body(column), role="region", aria_label=column.name, **_COLUMN_STYLE),
    )


def leads_toolbar() -> rx.Component:
    return rx.hstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Search the board",
            value=LeadsState.search,
            on_change=LeadsState.set_search,
            debounce_timeout=300,
            aria_label="Search",
            type="search",
            width=["100%", "100%", "320px"],
        ),
        rx.spacer(),
        live_toggle("leads"),
        width="100%",
        align="center",
        wrap="wrap",
    )


def leads_board() -> rx.Component:
    return rx.cond(
        (LeadsState.columns.length() == 0) & ~LeadsState.loading,
        rx.callout(
            "No segments are on the board. Turn “On Leads board” on for a segment in Segments.",
            icon="info",
        ),
        rx.hstack(
            rx.foreach(LeadsState.columns, board_column),
            spacing="3",
            align="start",
            overflow_x="auto",
            width="100%",
            padding_bottom="8px",
            data_rows_state=rx.cond(LeadsState.loading, "loading", "ready"),
            class_name="leads-board",
        ),
    )
