"""Start-up: upgrade the schema and fill an empty demo workspace (idempotent)."""

from __future__ import annotations

import logging

from cloodot_app.db import migrate, refresh_statistics
from cloodot_app.settings import settings

logger = logging.getLogger(__name__)


def prepare_database() -> None:
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
    prepare_database()
    print(f"Database ready: {settings.database_url}")
