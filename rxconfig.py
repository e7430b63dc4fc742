"""Reflex configuration: the database and the state manager come from the environment."""

import os

import reflex as rx

from cloodot_app.settings import settings

config = rx.Config(
    app_name="cloodot_app",
    db_url=settings.database_url,
    redis_url=settings.redis_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    default_color_mode="light",
    plugins=[rx.plugins.SitemapPlugin()],
    frontend_port=int(os.environ.get("FRONTEND_PORT", "3000")),

)
