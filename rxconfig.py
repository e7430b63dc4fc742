"""Reflex configuration: the state manager comes from the environment (see settings.py).

The database is not given to Reflex: cloodot_app.db owns the engine and Alembic owns the
schema, so Reflex's own migration check (which cannot see the search index) stays out.

Origins: Reflex builds both the Socket.IO server (which refuses a websocket handshake whose
Origin header is not listed, before any event is read: HTTP 403 here) and the CORS
middleware of every HTTP route from `cors_allowed_origins`. Its default, "*", let a page
on any site open the app's websocket with the visitor's cookie and read contacts; here
the list is the app's own origin (CLOODOT_APP_URL), plus the backend's port in dev mode,
where the pages come from the frontend server on :3000 and the API from :8000.
"""

import os

import reflex as rx
from reflex_base.constants import DefaultPorts

from cloodot_app.settings import allowed_origins, settings

# `reflex run` sets REFLEX_ENV_MODE ("dev" or "prod") before the backend imports this file;
# unset (a backend started some other way) counts as production.
_dev_mode = os.environ.get("REFLEX_ENV_MODE") == "dev"
_frontend_port = os.environ.get("FRONTEND_PORT", "").strip()

config = rx.Config(
    app_name="cloodot_app",
    redis_url=settings.redis_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    default_color_mode="system",
    # Only when asked for: a frontend port in the config makes `reflex run --backend-only`
    # (how a host may start the backend alone) refuse to start. Reflex's default is 3000.
    **({"frontend_port": int(_frontend_port)} if _frontend_port else {}),
    cors_allowed_origins=allowed_origins(
        settings.app_url, DefaultPorts.BACKEND_PORT if _dev_mode else None
    ),
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium")
        ),
    ],
)
