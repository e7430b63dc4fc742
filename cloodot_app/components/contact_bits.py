"""Pieces that show a contact anywhere: avatar, channel badge, labels, relative times."""

from __future__ import annotations

import reflex as rx

# channel -> (icon, colour, label)
CHANNELS: dict[str, tuple[str, str, str]] = {
    "instagram": ("camera", "pink", "Instagram"),
    "facebook": ("thumbs_up", "blue", "Facebook"),
    "whatsapp": ("message_circle", "green", "WhatsApp"),
    "webchat": ("globe", "cyan", "WebChat"),
    "imported": ("upload", "gray", "Imported"),
}


def channel_icon(channel: rx.Var[str], size: int = 12) -> rx.Component:
    return rx.match(
        channel,
        *[
            (
                key,
                rx.tooltip(
                    rx.badge(
                        rx.icon(icon, size=size),
                        color_scheme=color,
                        variant="soft",
                        radius="full",
                        padding="2px",
                        # A span may not carry a name; as an image it is read as one.
                        role="img",
                        aria_label=label,
                    ),
                    content=label,
                ),
            )
            for key, (icon, color, label) in CHANNELS.items()
        ],
        rx.fragment(),
    )


def channel_name(channel: rx.Var[str]) -> rx.Var[str]:
    return rx.match(channel, *[(k, v[2]) for k, v in CHANNELS.items()], channel)


def contact_avatar(row, size: str = "2") -> rx.Component:
    return rx.avatar(
        src=row.image_url,
        fallback=row.initials,
        color_scheme=row.avatar_color,
        # Soft with high contrast: white initials on a solid cyan or lime are below 4.5:1.
        variant="soft",
        high_contrast=True,
        radius="full",
        size=size,
        alt="",
    )


def label_badges(labels) -> rx.Component:
    return rx.hstack(
        rx.foreach(
            labels,
            lambda label: rx.badge(label["name"], color_scheme=label["color"], variant="soft"),
        ),
        spacing="1",
        wrap="wrap",
    )


def relative_time(iso: rx.Var[str], empty: str = "—") -> rx.Component:
    """'3 days ago' in the viewer's time zone, the exact time on hover."""
    return rx.cond(
        iso != "",
        rx.moment(
            iso,
            from_now=True,
            with_title=True,
            title_format="LLLL",
            local=True,
            interval=60000,
        ),
        rx.text(empty, color_scheme="gray", as_="span"),
    )
