"""The pages before sign-in: one centred card on a quiet background."""

from __future__ import annotations

import reflex as rx

from cloodot_app import routes
from cloodot_app.components.dialogs import error_alert


def auth_card(title: str, subtitle, *children: rx.Component) -> rx.Component:
    return rx.el.main(
        rx.center(
            rx.card(
                rx.vstack(
                    rx.hstack(
                        rx.image(src="/logo.svg", width="32px", height="32px", alt=""),
                        rx.text("Cloodot", size="5", weight="bold"),
                        align="center",
                        spacing="2",
                    ),
                    rx.heading(title, size="6", as_="h1", margin_top="8px"),
                    rx.text(subtitle, size="2", color_scheme="gray"),
                    *children,
                    spacing="3",
                    width="100%",
                ),
                size="4",
                width="min(420px, 92vw)",
            ),
            min_height="100vh",
            background=rx.color("gray", 2),
            padding="24px 0",
        )
    )


def labelled_input(label: str, name: str, input_type: str = "text", **props) -> rx.Component:
    return rx.el.label(
        rx.text(label, size="2", weight="medium", as_="div", margin_bottom="4px"),
        rx.input(name=name, type=input_type, size="3", width="100%", **props),
        width="100%",
    )


def submit_button(label: str, loading=False) -> rx.Component:
    return rx.button(label, type="submit", size="3", width="100%", loading=loading)


def text_link(label: str, href: str) -> rx.Component:
    return rx.link(label, href=href, size="2")


def form(*children: rx.Component, on_submit, error) -> rx.Component:
    """A form that hands its fields to `on_submit` (never to state vars: passwords are
    not kept anywhere) and shows `error` above its button."""
    return rx.form(
        rx.vstack(*children[:-1], error_alert(error), children[-1], spacing="3", width="100%"),
        on_submit=on_submit,
        reset_on_submit=False,
        width="100%",
    )


def back_to_sign_in() -> rx.Component:
    return text_link("Back to sign in", routes.SIGN_IN)
