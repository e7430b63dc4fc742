"""Controls a role may not use: shown disabled, with a tooltip that says why (the server
refuses the call anyway; this is so nobody has to click to find out)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from cloodot_app.access import CAPABILITY_WORDS, Capability
from cloodot_app.components.layout import can
from cloodot_app.state.session import SessionState


def refusal_text(capability: Capability) -> rx.Var[str]:
    """The words of access.refusal, for the signed-in member's role."""
    return (
        "Your role ("
        + SessionState.role_label
        + f") cannot {CAPABILITY_WORDS[capability][0]}. Ask an admin."
    )


def gated(capability: Capability, control: Callable[[bool], rx.Component]) -> rx.Component:
    """`control(False)` when the member's role has `capability`; otherwise `control(True)`
    (it renders itself disabled) under a tooltip giving the reason."""
    return rx.cond(
        can(capability),
        control(False),
        rx.tooltip(rx.box(control(True), display="inline-block"), content=refusal_text(capability)),
    )
