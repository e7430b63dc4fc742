"""The Contact Details drawer: profile, labels, custom fields and recent conversations."""

from __future__ import annotations

import reflex as rx

from cloodot_app.components.contact_bits import (
    channel_icon,
    channel_name,
    contact_avatar,
    label_badges,
    relative_time,
)
from cloodot_app.components.contact_notes import notes_section
from cloodot_app.components.contact_segments import segments_section
from cloodot_app.components.dialogs import conflict_dialog
from cloodot_app.components.duplicates import merged_from_section
from cloodot_app.components.side_drawer import side_drawer
from cloodot_app.services.contacts import ConversationSummary
from cloodot_app.state.contact_drawer import ContactDrawerState, DrawerField

INPUT_TYPES = {"email": "email", "phone": "tel", "url": "url", "number": "number", "date": "date"}


def _text_input(field: DrawerField, index, input_type: str) -> rx.Component:
    return rx.input(
        value=field.value,
        on_change=lambda value: ContactDrawerState.set_field_value(index, value),
        on_blur=lambda _value: ContactDrawerState.save_field(index),
        type=input_type,
        aria_label=field.label,
        aria_invalid=field.error != "",
        color_scheme=rx.cond(field.error != "", "red", "indigo"),
        width="100%",
    )


def _field_editor(field: DrawerField, index) -> rx.Component:
    return rx.match(
        field.type,
        (
            "select",
            rx.select.root(
                rx.select.trigger(placeholder="—", aria_label=field.label, width="100%"),
                rx.select.content(
                    rx.select.item("— none —", value="__none__"),
                    rx.foreach(field.options, lambda o: rx.select.item(o, value=o)),
                ),
                value=rx.cond(field.value != "", field.value, "__none__"),
                on_change=lambda v: ContactDrawerState.save_field(
                    index, rx.cond(v == "__none__", "", v)
                ),
            ),
        ),
        (
            "multi_select",
            rx.flex(
                rx.foreach(
                    field.options,
                    lambda option: rx.el.label(
                        rx.hstack(
                            rx.checkbox(
                                checked=field.chosen.contains(option),
                                on_change=lambda checked: ContactDrawerState.toggle_multi(
                                    index, option, checked
                                ),
                                # A label around a checkbox button does not name it.
                                aria_label=option,
                            ),
                            rx.text(option, size="2"),
                            spacing="1",
                            align="center",
                        )
                    ),
                ),
                wrap="wrap",
                gap="3",
                role="group",
                aria_label=field.label,
            ),
        ),
        *[
            (kind, _text_input(field, index, input_type))
            for kind, input_type in INPUT_TYPES.items()
            if kind != "phone"
        ],
        ("phone", _text_input(field, index, "tel")),
        _text_input(field, index, "text"),
    )


def _field_row(field: DrawerField, index) -> rx.Component:
    return rx.vstack(
        rx.text(field.label, size="1", weight="bold", color_scheme="gray", as_="div"),
        _field_editor(field, index),
        rx.cond(
            field.error != "",
            rx.text(field.error, color_scheme="red", size="1", role="alert"),
        ),
        spacing="1",
        width="100%",
    )


def _labels_section() -> rx.Component:
    return rx.vstack(
        rx.text("Labels", size="1", weight="bold", color_scheme="gray"),
        rx.flex(
            rx.foreach(
                ContactDrawerState.contact.labels,
                lambda label: rx.badge(
                    label.name,
                    rx.icon_button(
                        rx.icon("x", size=10),
                        size="1",
                        variant="ghost",
                        on_click=ContactDrawerState.remove_label(label.id),
                        aria_label="Remove label " + label.name,
                    ),
                    color_scheme=label.color,
                    variant="soft",
                    size="2",
                ),
            ),
            rx.cond(
                ContactDrawerState.addable_labels.length() > 0,
                rx.select.root(
                    rx.select.trigger(placeholder="Add label", aria_label="Add label"),
                    rx.select.content(
                        rx.foreach(
                            ContactDrawerState.addable_labels,
                            lambda label: rx.select.item(label.name, value=label.id.to_string()),
                        )
                    ),
                    value="",
                    on_change=ContactDrawerState.add_label,
                    size="1",
                ),
            ),
            wrap="wrap",
            gap="2",
            align="center",
        ),
        width="100%",
    )


def _consent_line(line) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.badge(
                rx.cond(line.opted_in, "On", "Off"),
                color_scheme=rx.cond(line.opted_in, "green", "gray"),
                variant="soft",
            ),
            rx.text(
                rx.cond(line.was != "", "from " + line.was, "first value"),
                " · by ",
                rx.text.strong(line.by),
                size="1",
            ),
            rx.spacer(),
            rx.text(relative_time(line.at), size="1", color_scheme="gray"),
            align="center",
            spacing="2",
            width="100%",
        ),
        list_style="none",
    )


def _consent_history() -> rx.Component:
    """Every opt-in change: to which value, from which, by whom or what, when."""
    return rx.vstack(
        rx.text(
            "Consent history",
            size="1",
            weight="bold",
            color_scheme="gray",
            id="consent-history-title",
        ),
        rx.cond(
            ContactDrawerState.contact.consent.length() > 0,
            rx.el.ul(
                rx.foreach(ContactDrawerState.contact.consent, _consent_line),
                aria_labelledby="consent-history-title",
                display="flex",
                flex_direction="column",
                gap="4px",
                width="100%",
                margin="0",
                padding="0",
            ),
            rx.text("No changes recorded", size="1", color_scheme="gray"),
        ),
        spacing="1",
        width="100%",
    )


def _message(message) -> rx.Component:
    incoming = message["direction"] == "incoming"
    return rx.box(
        rx.text(message["text"], size="2"),
        rx.text(relative_time(message["sent_at"]), size="1", color_scheme="gray"),
        background=rx.cond(incoming, rx.color("gray", 3), rx.color("indigo", 3)),
        padding="6px 10px",
        border_radius="8px",
        align_self=rx.cond(incoming, "flex-start", "flex-end"),
        max_width="85%",
    )


def _conversation(conversation: ConversationSummary) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                channel_icon(conversation.channel),
                rx.text(channel_name(conversation.channel), weight="medium", size="2"),
                rx.badge(
                    conversation.status,
                    color_scheme=rx.match(
                        conversation.status, ("open", "green"), ("pending", "amber"), "gray"
                    ),
                ),
                rx.spacer(),
                rx.text(relative_time(conversation.updated_at), size="1", color_scheme="gray"),
                align="center",
                width="100%",
            ),
            label_badges(conversation.labels),
            rx.foreach(
                conversation.fields,
                lambda f: rx.text(rx.text.strong(f["label"] + ": "), f["value"], size="1"),
            ),
            rx.vstack(rx.foreach(conversation.messages, _message), width="100%", spacing="1"),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _profile_header() -> rx.Component:
    return rx.hstack(
        contact_avatar(ContactDrawerState.contact, size="5"),
        rx.vstack(
            rx.drawer.title(
                ContactDrawerState.contact.name, font_size="1.4rem", font_weight="700", margin="0"
            ),
            rx.hstack(
                channel_icon(ContactDrawerState.contact.channel),
                rx.text(
                    channel_name(ContactDrawerState.contact.channel), size="2", color_scheme="gray"
                ),
                align="center",
                spacing="1",
            ),
            rx.text(
                "Created ",
                relative_time(ContactDrawerState.contact.created_at),
                " · last interaction ",
                relative_time(ContactDrawerState.contact.last_interaction_at, "never"),
                size="1",
                color_scheme="gray",
            ),
            spacing="1",
        ),
        rx.spacer(),
        rx.drawer.close(rx.icon_button(rx.icon("x", size=16), variant="ghost", aria_label="Close")),
        align="start",
        width="100%",
    )


def contact_drawer() -> rx.Component:
    return rx.fragment(
        side_drawer(
            rx.cond(
                ContactDrawerState.error != "",
                rx.callout(ContactDrawerState.error, icon="triangle_alert", color_scheme="red"),
                rx.vstack(
                    _profile_header(),
                    rx.el.label(
                        rx.hstack(
                            rx.switch(
                                checked=ContactDrawerState.contact.campaign_opt_in,
                                on_change=ContactDrawerState.set_opt_in,
                            ),
                            rx.text("Campaign opt-in", size="2"),
                            align="center",
                            spacing="2",
                        )
                    ),
                    _consent_history(),
                    merged_from_section(ContactDrawerState.contact.merged_from),
                    _labels_section(),
                    rx.separator(),
                    notes_section(),
                    rx.separator(),
                    segments_section(),
                    rx.separator(),
                    rx.heading("Fields", size="3"),
                    rx.foreach(ContactDrawerState.fields, _field_row),
                    rx.separator(),
                    rx.heading("Recent conversations", size="3"),
                    rx.cond(
                        ContactDrawerState.contact.conversations.length() > 0,
                        rx.foreach(ContactDrawerState.contact.conversations, _conversation),
                        rx.text("No conversations yet.", size="2", color_scheme="gray"),
                    ),
                    spacing="3",
                    width="100%",
                ),
            ),
            label="Contact details",
            open_=ContactDrawerState.is_open,
            on_open_change=ContactDrawerState.set_open,
            width="520px",
        ),
        conflict_dialog(ContactDrawerState),
    )
