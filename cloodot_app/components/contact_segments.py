"""The details drawer's Segments section: the segments the contact is in, and for a chosen
segment (one it is in or not) each condition with ✔/✘ and the contact's own value."""

from __future__ import annotations

import reflex as rx

from cloodot_app.components.contact_bits import relative_time
from cloodot_app.services.segment_explain import ConditionCheck, SegmentMembership
from cloodot_app.state.contact_segments import SECTION_ID, ContactSegmentsState

S = ContactSegmentsState


def _membership_badge(segment: SegmentMembership) -> rx.Component:
    return rx.badge(
        rx.el.button(
            segment.name,
            on_click=S.choose(segment.id.to_string()),
            aria_label="Why in " + segment.name,
            style={"all": "unset", "cursor": "pointer"},
        ),
        color_scheme=segment.color,
        variant=rx.cond(S.chosen_id == segment.id, "solid", "soft"),
        size="2",
    )


def _segment_picker() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder="Choose a segment", aria_label="Explain segment"),
        rx.select.content(
            rx.foreach(
                S.segments,
                lambda segment: rx.select.item(
                    segment.name
                    + rx.cond(segment.problem != "", " (cannot be checked)", "")
                    + rx.cond(segment.member, " ✔", ""),
                    value=segment.id.to_string(),
                ),
            )
        ),
        value=S.chosen_value,
        on_change=S.choose,
        size="1",
    )


def _check(check: ConditionCheck) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.cond(
                check.holds,
                rx.text("✔", color_scheme="green", weight="bold", aria_hidden="true"),
                rx.text("✘", color_scheme="red", weight="bold", aria_hidden="true"),
            ),
            rx.el.span(rx.cond(check.holds, "Holds: ", "Fails: "), class_name="sr-only"),
            rx.text(
                check.words,
                ": ",
                rx.text.strong(
                    rx.cond(
                        check.value_time != "",
                        relative_time(check.value_time),
                        check.value,
                    )
                ),
                size="2",
            ),
            align="start",
            spacing="2",
        ),
        list_style="none",
    )


def _explanation() -> rx.Component:
    e = S.explanation
    return rx.cond(
        e.segment_id != 0,
        rx.vstack(
            rx.cond(
                e.problem != "",
                rx.callout(e.problem, icon="triangle_alert", color_scheme="red", size="1"),
                rx.vstack(
                    rx.hstack(
                        rx.badge(
                            rx.cond(e.member, "In this segment", "Not in this segment"),
                            color_scheme=rx.cond(e.member, "green", "gray"),
                            variant="soft",
                        ),
                        rx.text(
                            rx.cond(
                                e.match == "all",
                                "Every condition must hold.",
                                "Any one condition is enough.",
                            ),
                            size="1",
                            color_scheme="gray",
                        ),
                        align="center",
                        spacing="2",
                    ),
                    rx.el.ul(
                        rx.foreach(e.checks, _check),
                        aria_label="Conditions of " + e.name,
                        display="flex",
                        flex_direction="column",
                        gap="4px",
                        margin="0",
                        padding="0",
                        width="100%",
                    ),
                    spacing="2",
                    width="100%",
                ),
            ),
            spacing="2",
            width="100%",
            padding="10px",
            border_radius="8px",
            border=f"1px solid {rx.color('gray', 5)}",
            role="region",
            aria_label="Why " + rx.cond(e.member, "in ", "not in ") + e.name,
        ),
    )


def segments_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Segments", size="3"),
        rx.cond(
            S.segments.length() == 0,
            rx.text("This workspace has no segments yet.", size="2", color_scheme="gray"),
            rx.vstack(
                rx.cond(
                    S.member_of.length() > 0,
                    rx.flex(rx.foreach(S.member_of, _membership_badge), wrap="wrap", gap="2"),
                    rx.text("Not in any segment.", size="2", color_scheme="gray"),
                ),
                rx.hstack(
                    rx.text("Why in or not in", size="1", color_scheme="gray"),
                    _segment_picker(),
                    align="center",
                    spacing="2",
                ),
                _explanation(),
                spacing="2",
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
        id=SECTION_ID,
    )
