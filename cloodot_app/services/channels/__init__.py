"""Real channels: connections (Settings → Channels), the Meta webhooks (WhatsApp Cloud
API, Messenger, Instagram) and the WebChat widget's endpoint.

- `connections`: connect, list, rotate the verify token, replace the app secret, change a
  WebChat site, disconnect (admins, audited); the lookup by webhook or site key.
"""

from cloodot_app.services.channels.connections import (
    KIND_WORDS,
    META_KINDS,
    ConnectionKeys,
    ConnectionRow,
    clean_origins,
    connection_by_key,
    create_connection,
    delete_connection,
    list_connections,
    replace_app_secret,
    rotate_verify_token,
    stamp_delivery,
    update_webchat,
    web_origin,
)

__all__ = [
    "KIND_WORDS",
    "META_KINDS",
    "ConnectionKeys",
    "ConnectionRow",
    "clean_origins",
    "connection_by_key",
    "create_connection",
    "delete_connection",
    "list_connections",
    "replace_app_secret",
    "rotate_verify_token",
    "stamp_delivery",
    "update_webchat",
    "web_origin",
]
