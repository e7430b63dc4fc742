"""Row action buttons: an icon with an accessible name and the same words as a tooltip."""

from __future__ import annotations

import reflex as rx


def icon_action(icon: str, label, on_click, color: str = "gray", disabled=False) -> rx.Component:
    return rx.tooltip(
        rx.icon_button(
            rx.icon(icon, size=14),
            variant="ghost",
            color_scheme=color,
            on_click=on_click,
            disabled=disabled,
            aria_label=label,
        ),
        content=label,
    )
