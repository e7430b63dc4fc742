"""Trends at a glance: a segment's 30-day sparkline with the week's change in words (the
Segments list and the Leads board's column headers). Days without a count are gaps in the
line and are said in words under it; the whole chart has a text alternative."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cloodot_app.services.segment_trends import SegmentTrend


def _trend_icon(trend: SegmentTrend) -> rx.Component:
    return rx.match(
        trend.tone,
        ("up", rx.icon("trending_up", size=14, aria_hidden="true")),
        ("down", rx.icon("trending_down", size=14, aria_hidden="true")),
        ("flat", rx.icon("move_right", size=14, aria_hidden="true")),
        rx.fragment(),
    )


def sparkline(trend: SegmentTrend, name, color, width: str = "120px") -> rx.Component:
    """The line over 30 days (a gap where a day was not counted), as one image with the
    numbers in words for screen readers; a mouse shows each day's count."""
    return rx.box(
        rx.recharts.line_chart(
            rx.recharts.line(
                data_key="count",
                name="Contacts",
                # Step 11: a line (a graphic) needs 3:1 against the page in either theme.
                stroke=rx.color(color, 11),
                stroke_width=2,
                dot=False,
                active_dot={"r": 3, "fill": rx.color(color, 11), "stroke": "none"},
                connect_nulls=False,
                is_animation_active=False,
                type_="monotone",
            ),
            rx.recharts.line(
                # Dots only: today's point, and a day counted between two gaps.
                data_key="mark",
                stroke="transparent",
                dot={"r": 2.5, "fill": rx.color(color, 11), "stroke": "none"},
                active_dot=False,
                is_animation_active=False,
                custom_attrs={"tooltipType": "none"},
            ),
            rx.recharts.x_axis(data_key="label", hide=True),
            rx.recharts.y_axis(hide=True, domain=["dataMin - 1", "dataMax + 1"]),
            rx.recharts.graphing_tooltip(
                separator=": ",
                cursor=False,
                wrapper_style={"zIndex": 10},
            ),
            data=trend.points.to(list[dict[str, Any]]),
            margin={"top": 3, "right": 3, "bottom": 3, "left": 3},
            # Not a tab stop of its own: the text alternative below says it all.
            custom_attrs={"accessibilityLayer": False},
        ),
        role="img",
        aria_label="Trend of " + name + ": " + trend.description,
        width=width,
        height="30px",
        flex_shrink="0",
    )


def change_words(trend: SegmentTrend) -> rx.Component:
    return rx.hstack(
        _trend_icon(trend),
        rx.text(trend.change_words, size="1", weight="medium"),
        spacing="1",
        align="center",
        color=rx.color("gray", 12),
        aria_hidden="true",  # said by the chart's text alternative
    )


def coverage_note(trend: SegmentTrend) -> rx.Component:
    return rx.cond(
        trend.coverage_words != "",
        rx.text(trend.coverage_words, size="1", color=rx.color("gray", 11), aria_hidden="true"),
    )


def segment_trend(trend: SegmentTrend, name, color, width: str = "120px") -> rx.Component:
    """Sparkline, change in words and (when some days were not counted) the gaps."""
    return rx.cond(
        trend.points.length() > 0,
        rx.vstack(
            rx.hstack(
                sparkline(trend, name, color, width),
                change_words(trend),
                spacing="2",
                align="center",
            ),
            coverage_note(trend),
            spacing="0",
            data_trend=trend.change_words,
        ),
    )
