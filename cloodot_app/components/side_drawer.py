"""The one side drawer shell (details drawer, filter drawer): slides in from the right
over a dimmed page, a real dialog (focus kept inside, Escape closes)."""

from __future__ import annotations

import reflex as rx

# Above the page's sticky bars (20); dialogs opened from a drawer go above it (styles.css).
DRAWER_Z_INDEX = "60"


def side_drawer(
    *children: rx.Component,
    label: str,
    open_,
    on_open_change,
    width: str = "480px",
    padding: str = "24px",
) -> rx.Component:
    return rx.drawer.root(
        rx.drawer.overlay(
            z_index="50", position="fixed", inset="0", background="rgba(0, 0, 0, 0.25)"
        ),
        rx.drawer.portal(
            rx.drawer.content(
                *children,
                position="fixed",
                top="0",
                right="0",
                left="auto",
                height="100%",
                width=f"min({width}, 100vw)",
                padding=padding,
                overflow_y="auto",
                background_color=rx.color("gray", 1),
                z_index=DRAWER_Z_INDEX,
                role="dialog",
                aria_label=label,
            )
        ),
        direction="right",
        open=open_,
        on_open_change=on_open_change,
    )
