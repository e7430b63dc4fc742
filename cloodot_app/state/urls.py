"""Addresses the browser is sent to outside the single-page app: the HTTP routes."""

from __future__ import annotations

import json

import reflex as rx


def backend_url(path: str) -> str:
    """Same origin in production; the backend's own port under `reflex run` (dev)."""
    from reflex.environment import environment
    from reflex_base import constants
    from reflex_base.config import get_config

    if environment.REFLEX_ENV_MODE.get() == constants.Env.PROD:
        return path
    return get_config().api_url.rstrip("/") + path


def go_to(url: str):
    """A full page load of `url` (not the app's client-side navigation): the websocket
    connects again, carrying the cookies the server has just set or cleared."""
    return rx.call_script(f"window.location.assign({json.dumps(url)})")
