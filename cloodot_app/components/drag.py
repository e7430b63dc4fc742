"""HTML5 drag and drop on plain elements (Reflex core has no drag-and-drop component)."""

from __future__ import annotations

import reflex as rx
from reflex.event import no_args_event_spec


class DragBox(rx.el.Div):
    """A div that exposes the browser's native drag events to Reflex."""

    on_drag_start: rx.EventHandler[no_args_event_spec]
    on_drag_end: rx.EventHandler[no_args_event_spec]
    on_drag_over: rx.EventHandler[no_args_event_spec]
    on_drop: rx.EventHandler[no_args_event_spec]


drag_box = DragBox.create
