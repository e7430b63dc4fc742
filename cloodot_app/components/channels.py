"""Settings → Channels: a card per kind to connect, a card per connection with what to
paste into the provider's dashboard (copy buttons), and the dialogs that change them."""

from __future__ import annotations

import reflex as rx

from cloodot_app import routes
from cloodot_app.components.contact_bits import relative_time
from cloodot_app.components.dialogs import confirm_dialog, dialog_actions, error_alert
from cloodot_app.components.members import copy_field
from cloodot_app.settings import settings
from cloodot_app.state.channels import KIND_CHOICES, ChannelConnectionsState, ConnectionView

S = ChannelConnectionsState

KIND_LOOK = {
    "whatsapp": ("message_circle", "grass"),
    "messenger": ("messages_square", "blue"),
    "instagram": ("camera", "plum"),
    "webchat": ("globe", "indigo"),
}


def _kind_icon(kind, size: int = 18) -> rx.Component:
    return rx.match(
        kind,
        *[
            (
                value,
                rx.box(
                    rx.icon(icon, size=size),
                    color=rx.color(color, 11),
                    background=rx.color(color, 3),
                    border_radius="8px",
                    padding="6px",
                    display="flex",
                ),
            )
            for value, (icon, color) in KIND_LOOK.items()
        ],
        rx.icon("plug", size=size),
    )


def _caption(text: str) -> rx.Component:
    return rx.text(text, size="2", weight="medium", min_width="150px", padding_top="6px")


def _row(caption: str, *content: rx.Component) -> rx.Component:
    return rx.hstack(
        _caption(caption),
        rx.vstack(*content, spacing="1", width="100%"),
        width="100%",
        align="start",
        spacing="4",
    )


def _hint(*text) -> rx.Component:
    return rx.text(*text, size="1", color_scheme="gray")


def _labelled(caption: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.el.label(
        rx.text(caption, size="2", weight="medium", as_="div", margin_bottom="4px"),
        control,
        rx.text(hint, size="1", color_scheme="gray", as_="div", margin_top="4px") if hint else "",
        display="block",
        width="100%",
    )


# ------------------------------------------------------------------- the kinds


def kind_cards() -> rx.Component:
    return rx.grid(
        *[
            rx.card(
                rx.vstack(
                    rx.hstack(
                        _kind_icon(value),
                        rx.heading(label, size="3", as_="h2"),
                        align="center",
                        spacing="2",
                    ),
                    rx.text(description, size="2", color_scheme="gray"),
                    rx.button(
                        rx.icon("plus", size=14),
                        "Connect",
                        variant="soft",
                        size="2",
                        on_click=S.open_connect(value),
                        aria_label=f"Connect {label}",
                    ),
                    spacing="3",
                    align="start",
                    height="100%",
                    justify="between",
                ),
            )
            for value, label, description in KIND_CHOICES
        ],
        columns=rx.breakpoints(initial="1", sm="2", lg="4"),
        spacing="3",
        width="100%",
    )


# ------------------------------------------------------------------- connections


def _last_delivery(connection: ConnectionView) -> rx.Component:
    return rx.cond(
        connection.last_delivery_at != "",
        rx.hstack(
            rx.icon("circle_check", size=14, color=rx.color("grass", 10)),
            rx.text("Last delivery ", size="1", color_scheme="gray", as_="span"),
            rx.text(relative_time(connection.last_delivery_at), size="1", color_scheme="gray"),
            spacing="1",
            align="center",
        ),
        rx.hstack(
            rx.icon("clock", size=14, color=rx.color("gray", 10)),
            rx.text("Nothing received yet", size="1", color_scheme="gray"),
            spacing="1",
            align="center",
        ),
    )


def _meta_rows(connection: ConnectionView) -> rx.Component:
    return rx.vstack(
        _row(
            "Callback URL",
            copy_field(connection.webhook_url, "Callback URL of " + connection.name),
        ),
        _row(
            "Verify token",
            copy_field(connection.verify_token, "Verify token of " + connection.name),
        ),
        _row(
            "App secret",
            rx.hstack(
                rx.code(
                    "•••• ••••  " + connection.secret_hint,
                    variant="soft",
                    color_scheme="gray",
                    size="3",
                    aria_label="App secret, ending in " + connection.secret_hint,
                ),
                rx.spacer(),
                rx.button(
                    rx.icon("key_round", size=14),
                    "Replace secret",
                    variant="soft",
                    color_scheme="gray",
                    size="2",
                    on_click=S.ask_secret(connection.id),
                    aria_label="Replace the app secret of " + connection.name,
                ),
                width="100%",
                align="center",
            ),
            _hint(
                "Checks the X-Hub-Signature-256 of every delivery. Only its last 4 "
                "characters are shown."
            ),
        ),
        spacing="3",
        width="100%",
    )


def _webchat_rows(connection: ConnectionView) -> rx.Component:
    return rx.vstack(
        _row(
            "Snippet",
            copy_field(connection.snippet, "Snippet of " + connection.name),
            _hint("Paste it before </body> on every page that should show the chat."),
        ),
        _row(
            "Allowed websites",
            rx.hstack(
                rx.foreach(
                    connection.origins,
                    lambda origin: rx.badge(origin, variant="surface", color_scheme="gray"),
                ),
                wrap="wrap",
                spacing="2",
                padding_top="6px",
            ),
            _hint("The widget works only on pages from these addresses."),
        ),
        _row(
            "Visitor details",
            rx.text(
                rx.cond(
                    connection.ask_details,
                    "Asks for a name and an email (both optional) before the chat",
                    "Starts the chat straight away",
                ),
                size="2",
                padding_top="6px",
            ),
        ),
        spacing="3",
        width="100%",
    )


def connection_card(connection: ConnectionView) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                _kind_icon(connection.kind),
                rx.vstack(
                    rx.heading(connection.name, size="3", as_="h3"),
                    rx.hstack(
                        rx.badge(connection.kind_label, variant="soft", color_scheme="gray"),
                        _last_delivery(connection),
                        spacing="2",
                        align="center",
                    ),
                    spacing="1",
                ),
                rx.spacer(),
                rx.cond(
                    connection.is_meta,
                    rx.button(
                        rx.icon("refresh_cw", size=14),
                        "Rotate token",
                        variant="ghost",
                        color_scheme="gray",
                        on_click=S.ask_rotate(connection.id),
                        aria_label="Rotate the verify token of " + connection.name,
                    ),
                    rx.button(
                        rx.icon("pencil", size=14),
                        "Edit",
                        variant="ghost",
                        color_scheme="gray",
                        on_click=S.open_edit(connection.id),
                        aria_label="Edit " + connection.name,
                    ),
                ),
                rx.button(
                    rx.icon("unplug", size=14),
                    "Disconnect",
                    variant="ghost",
                    color_scheme="red",
                    on_click=S.ask_delete(connection.id),
                    aria_label="Disconnect " + connection.name,
                ),
                width="100%",
                align="center",
                spacing="3",
            ),
            rx.separator(size="4"),
            rx.cond(connection.is_meta, _meta_rows(connection), _webchat_rows(connection)),
            spacing="3",
            width="100%",
        ),
        width="100%",
        size="3",
        role="region",
        aria_label=connection.kind_label + " " + connection.name,
    )


def connections_list() -> rx.Component:
    return rx.cond(
        S.connections.length() > 0,
        rx.vstack(
            rx.heading("Connected", size="4", as_="h2", margin_top="12px"),
            rx.foreach(S.connections, connection_card),
            spacing="3",
            width="100%",
        ),
        rx.cond(
            S.loaded,
            rx.callout(
                "Nothing is connected yet. Choose a channel above: its messages then create "
                "and update contacts here, live.",
                icon="info",
                color_scheme="gray",
                width="100%",
            ),
        ),
    )


def demo_note() -> rx.Component:
    """Demo mode: the sample website with this workspace's widget on it."""
    if not settings.demo_mode:
        return rx.fragment()
    return rx.callout(
        rx.text(
            "Demo: write to this workspace through the WebChat widget on ",
            rx.link("a sample website", href=routes.DEMO_WEBCHAT, is_external=True),
            ", then watch yourself arrive in All contacts with Live on.",
        ),
        icon="message_circle_more",
        color_scheme="indigo",
        width="100%",
    )


def other_sources_note() -> rx.Component:
    return rx.text(
        "Your own systems can also post messages as JSON to the ingestion endpoint; its "
        "token is on ",
        rx.link("Settings → Members", href=routes.MEMBERS),
        ".",
        size="2",
        color_scheme="gray",
    )


# ------------------------------------------------------------------- dialogs


def _kind_select() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Channel", width="100%"),
        rx.select.content(
            *[rx.select.item(label, value=value) for value, label, _ in KIND_CHOICES]
        ),
        value=S.connect_kind,
        on_change=S.set_connect_kind,
    )


def _origins_area(value, on_change, label: str) -> rx.Component:
    return rx.text_area(
        value=value,
        on_change=on_change,
        placeholder="https://www.example.com\nhttps://shop.example.com",
        rows="3",
        aria_label=label,
        width="100%",
    )


def _ask_details_switch(checked, on_change) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.switch(checked=checked, on_change=on_change),
            rx.text("Ask visitors for their name and email (both optional)", size="2"),
            spacing="2",
            align="center",
        ),
    )


def connect_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Connect ", S.connect_kind_label),
            rx.dialog.description(
                rx.cond(
                    S.connect_is_webchat,
                    "A chat window on your website: visitors' messages become contacts.",
                    "Messages sent to it arrive through a webhook of your Meta app.",
                ),
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    _labelled("Channel", _kind_select()),
                    _labelled(
                        "Name",
                        rx.input(
                            value=S.connect_name,
                            on_change=S.set_connect_name,
                            placeholder=rx.cond(
                                S.connect_is_webchat, "Acme website", "Support line +1 415 555 0123"
                            ),
                            aria_label="Name",
                            width="100%",
                        ),
                        "Shown on this page only, to tell connections apart.",
                    ),
                    rx.cond(
                        S.connect_is_webchat,
                        rx.vstack(
                            _labelled(
                                "Allowed websites",
                                _origins_area(
                                    S.connect_origins, S.set_connect_origins, "Allowed websites"
                                ),
                                "One address per line. The widget refuses to work elsewhere.",
                            ),
                            _ask_details_switch(S.connect_ask_details, S.set_connect_ask_details),
                            spacing="3",
                            width="100%",
                        ),
                        _labelled(
                            "App secret",
                            rx.input(
                                value=S.connect_secret,
                                on_change=S.set_connect_secret,
                                type="password",
                                auto_complete="off",
                                aria_label="App secret",
                                width="100%",
                            ),
                            "From your Meta app: App settings → Basic → App secret → Show.",
                        ),
                    ),
                    error_alert(S.connect_error),
                    dialog_actions(rx.button("Connect", type="submit")),
                    spacing="3",
                    margin_top="12px",
                ),
                on_submit=lambda _: S.connect(),
                reset_on_submit=False,
            ),
            max_width="520px",
        ),
        open=S.connect_open,
        on_open_change=S.set_connect_open,
    )


def _step(number: str, *text) -> rx.Component:
    return rx.hstack(
        rx.badge(number, radius="full", variant="solid", size="1"),
        rx.text(*text, size="2"),
        align="start",
        spacing="2",
    )


def connected_dialog() -> rx.Component:
    c = S.connected
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(c.kind_label, " “", c.name, "” is connected"),
            rx.cond(
                c.is_meta,
                rx.vstack(
                    rx.dialog.description(
                        "Finish in the Meta app dashboard:", size="2", color_scheme="gray"
                    ),
                    _step(
                        "1",
                        rx.cond(
                            c.kind == "whatsapp",
                            "WhatsApp → Configuration → Webhook → Edit.",
                            "Webhooks (Messenger or Instagram settings) → Callback URL → Edit.",
                        ),
                    ),
                    _labelled("Callback URL", copy_field(c.webhook_url, "Callback URL")),
                    _labelled("Verify token", copy_field(c.verify_token, "Verify token")),
                    _step("2", "Press Verify and save: Meta checks the token here."),
                    _step(
                        "3",
                        rx.cond(
                            c.kind == "whatsapp",
                            "Subscribe to the “messages” field.",
                            "Subscribe to “messages” (and “messaging_postbacks”, "
                            "“message_echoes”, “message_reactions”).",
                        ),
                    ),
                    rx.callout(
                        "Both stay on this page. The app secret you typed is never shown "
                        "again, only its last 4 characters.",
                        icon="shield_check",
                        color_scheme="gray",
                        size="1",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                rx.vstack(
                    rx.dialog.description(
                        "Paste this before </body> on your website's pages:",
                        size="2",
                        color_scheme="gray",
                    ),
                    copy_field(c.snippet, "Snippet"),
                    spacing="3",
                    width="100%",
                ),
            ),
            rx.hstack(rx.dialog.close(rx.button("Done")), justify="end", margin_top="16px"),
            max_width="560px",
        ),
        open=S.connected_id > 0,
        on_open_change=S.set_connected_open,
    )


def secret_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Replace the app secret of ", S.secret_name),
            rx.dialog.description(
                "After resetting the secret in the Meta dashboard (App settings → Basic), "
                "paste the new one. Deliveries signed with the old secret are refused at once.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    _labelled(
                        "New app secret",
                        rx.input(
                            value=S.new_secret,
                            on_change=S.set_new_secret,
                            type="password",
                            auto_complete="off",
                            aria_label="New app secret",
                            width="100%",
                        ),
                    ),
                    error_alert(S.secret_error),
                    dialog_actions(rx.button("Replace secret", type="submit")),
                    spacing="3",
                    margin_top="12px",
                ),
                on_submit=lambda _: S.save_secret(),
                reset_on_submit=False,
            ),
            max_width="480px",
        ),
        open=S.secret_id > 0,
        on_open_change=S.set_secret_open,
    )


def edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Edit WebChat site"),
            rx.form(
                rx.vstack(
                    _labelled(
                        "Name",
                        rx.input(
                            value=S.edit_name,
                            on_change=S.set_edit_name,
                            aria_label="Site name",
                            width="100%",
                        ),
                    ),
                    _labelled(
                        "Allowed websites",
                        _origins_area(S.edit_origins, S.set_edit_origins, "Allowed websites"),
                        "One address per line. Pages elsewhere are refused at once.",
                    ),
                    _ask_details_switch(S.edit_ask_details, S.set_edit_ask_details),
                    error_alert(S.edit_error),
                    dialog_actions(rx.button("Save site", type="submit")),
                    spacing="3",
                    margin_top="12px",
                ),
                on_submit=lambda _: S.save_edit(),
                reset_on_submit=False,
            ),
            max_width="520px",
        ),
        open=S.edit_id > 0,
        on_open_change=S.set_edit_open,
    )


def rotate_dialog() -> rx.Component:
    return confirm_dialog(
        rx.fragment("Rotate the verify token of ", S.rotate_name, "?"),
        rx.text(
            "A new token replaces it. Meta keeps delivering messages, but the next "
            "verification of the webhook needs the new token in the dashboard."
        ),
        "Rotate token",
        S.rotate,
        S.rotate_id > 0,
        S.set_rotate_open,
    )


def delete_dialog() -> rx.Component:
    return confirm_dialog(
        rx.fragment("Disconnect ", S.delete_name, "?"),
        rx.text(
            rx.cond(
                S.delete_is_meta,
                "Its webhook stops working at once: Meta's deliveries are refused until you "
                "connect it again (with a new URL and token). ",
                "The widget stops working at once on every website that has the snippet. ",
            ),
            "Contacts and messages it already brought in stay.",
        ),
        "Disconnect",
        S.confirm_delete,
        S.delete_id > 0,
        S.set_delete_open,
    )
