"""The two dialog shapes the app repeats: a destructive confirmation and a form's buttons."""

from __future__ import annotations

import reflex as rx


def dialog_actions(*buttons: rx.Component) -> rx.Component:
    """Cancel (closes the dialog) followed by the dialog's own buttons, right-aligned."""
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
        *buttons,
        justify="end",
        width="100%",
    )


def confirm_dialog(
    title: rx.Component | str,
    body: rx.Component,
    confirm_label: str,
    on_confirm,
    open_,
    on_open_change,
    loading=False,
) -> rx.Component:
    """A destructive action explained before it happens (role alertdialog, Escape cancels)."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(body, size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button(confirm_label, color_scheme="red", on_click=on_confirm, loading=loading),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=open_,
        on_open_change=on_open_change,
    )


def error_alert(message) -> rx.Component:
    """A message a user can act on, shown only while there is one (role alert)."""
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle_alert", color_scheme="red", role="alert", width="100%"),
    )


def conflict_dialog(state) -> rx.Component:
    """Someone else changed the value being saved: keep theirs, or write mine over it.
    `state` mixes in edit_conflicts.EditsWithoutOverwrite."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("This value has changed"),
            rx.alert_dialog.description(state.conflict_message, size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button("Keep theirs", variant="soft", on_click=state.keep_theirs)
                ),
                rx.alert_dialog.action(rx.button("Use mine", on_click=state.use_mine)),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=state.conflict_message != "",
        on_open_change=state.set_conflict_open,
    )
