"""The Live switch, and when the page last refreshed."""

from __future__ import annotations

import reflex as rx

from cloodot_app.state.live import LiveState


def live_toggle(target: str) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.switch(
                checked=LiveState.live,
                on_change=lambda value: LiveState.set_live(target, value),
                aria_label="Live",
            ),
            rx.text("Live", size="2", weight="medium"),
            rx.cond(
                LiveState.live,
                rx.text(
                    "updated ",
                    rx.moment(LiveState.last_refreshed, from_now=True, interval=5000),
                    size="1",
                    color_scheme="gray",
                ),
            ),
            align="center",
            spacing="2",
        )
    )
