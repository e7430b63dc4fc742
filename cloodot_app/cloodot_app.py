"""The Reflex app."""

import reflex as rx


def index() -> rx.Component:
    return rx.heading("Contacts")


app = rx.App()
app.add_page(index, route="/")
