"""Start-up: check the configuration, upgrade the schema and fill an empty demo workspace
(idempotent). Runs as `python -m cloodot_app.startup` and as the app's lifespan task."""

from __future__ import annotations

import logging
import sys

from cloodot_app.db import migrate, refresh_statistics
from cloodot_app.settings import Settings, settings

logger = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    """The environment asks for something the app cannot do safely: it does not start."""


SECRET_KEY_MISSING = (
    "CLOODOT_SECRET_KEY is not set, but this app runs with several workers ({why}): each "
    "would sign CSV download links with its own random key and refuse the others' links "
    "(403). Set CLOODOT_SECRET_KEY to one long random value shared by every worker and "
    "host, e.g. export CLOODOT_SECRET_KEY=\"$(python -c 'import secrets; "
    "print(secrets.token_urlsafe(32))')\""
)


def check_configuration(config: Settings | None = None) -> None:
    """Refuse to start with a configuration that fails at run time (ConfigurationError)."""
    config = config or settings
    if config.several_workers and not config.secret_key:
        why = (
            "REDIS_URL is set" if config.redis_url else f"GRANIAN_WORKERS={config.granian_workers}"
        )
        raise ConfigurationError(SECRET_KEY_MISSING.format(why=why))


def prepare_database() -> None:
    check_configuration()
    migrate(settings.database_url)
    if settings.demo_contacts > 0:
        from cloodot_app.seed import seed_demo

        seed_demo(
            settings.database_url,
            contacts=settings.demo_contacts,
            workspace_slug=settings.workspace_slug,
        )
    refresh_statistics(settings.database_url)


if __name__ == "__main__":
    try:
        prepare_database()
    except ConfigurationError as error:
        print(f"Not starting: {error}", file=sys.stderr)
        sys.exit(2)
    print(f"Database ready: {settings.database_url}")
