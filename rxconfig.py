"""Reflex configuration: the state manager comes from the environment (see settings.py).

The database is not given to Reflex: cloodot_app.db owns the engine and Alembic owns the
schema, so Reflex's own migration check (which cannot see the search index) stays out.
"""

import os

import reflex as rx

from cloodot_app.settings import settings

config = rx.Config(
    app_name="cloodot_app",
    redis_url=settings.redis_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    default_color_mode="light",
    frontend_port=int(os.environ.get("FRONTEND_PORT", "3000")),
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium")
        ),
    ],
)
