"""The product's frame: a left sidebar with Contacts and its views, and the page body."""

from __future__ import annotations

import reflex as rx

from cloodot_app import routes


def _nav_link(label: str, icon: str, href: str) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"), align="center", spacing="2"),
        href=href,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        padding_x="10px",
        padding_y="6px",
        border_radius="6px",
        width="100%",
        _hover={"background": rx.color("gray", 4)},
    )


def sidebar() -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            rx.hstack(
                rx.image(src="/logo.svg", width="28px", height="28px", alt=""),
                rx.heading("Cloodot", size="4", weight="bold"),
                align="center",
                spacing="2",
                padding_x="10px",
                padding_bottom="12px",
            ),
            rx.text("Contacts", size="1", weight="bold", color_scheme="gray", padding_x="10px"),
            _nav_link("All", "users", routes.CONTACTS_ALL),
            _nav_link("Leads", "kanban", routes.LEADS),
            _nav_link("Segments", "layers", routes.SEGMENTS),
            _nav_link("Import", "upload", routes.IMPORT),
            rx.text(
                "Settings",
                size="1",
                weight="bold",
                color_scheme="gray",
                padding_x="10px",
                padding_top="16px",
            ),
            _nav_link("Labels", "tag", routes.LABELS),
            _nav_link("Custom fields", "list_plus", routes.CUSTOM_FIELDS),
            spacing="1",
            width="100%",
        ),
        aria_label="Main",
        width="220px",
        min_width="220px",
        height="100vh",
        position="sticky",
        top="0",
        padding="16px 10px",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
    )


def layout(*children: rx.Component) -> rx.Component:
    return rx.hstack(
        sidebar(),
        rx.el.main(
            rx.vstack(*children, spacing="4", width="100%"),
            flex="1",
            min_width="0",
            padding="24px 28px",
        ),
        spacing="0",
        align="start",
        width="100%",
        min_height="100vh",
    )
