"""Start-up: check the configuration, upgrade the schema and fill an empty demo workspace
(idempotent). Runs as `python -m cloodot_app.startup` and as the app's lifespan task."""

from __future__ import annotations

import fcntl
import logging
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

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


# The advisory lock starting processes take turns with (PostgreSQL).
STARTUP_LOCK_KEY = zlib.crc32(b"cloodot start-up") & 0x7FFFFFFF


@contextmanager
def one_start_at_a_time(database_url: str) -> Iterator[None]:
    """Processes starting together take turns: every Granian worker (and every host) runs
    the app's start-up, and on a deployment's first start they would all migrate an empty
    database and seed the demo workspace at once. The first does the work; the others
    then find the schema at head and the workspace filled.

    PostgreSQL: a session-level advisory lock on a connection of its own, released when
    that connection closes. SQLite: an exclusive flock on a file beside the database."""
    url = sa.engine.make_url(database_url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        engine = sa.create_engine(database_url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(
                    sa.text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK_KEY}
                )
                connection.commit()  # the lock outlives the transaction
                yield
        finally:
            engine.dispose()  # closes the connection, and so ends the lock
    elif backend == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        database.parent.mkdir(parents=True, exist_ok=True)
        with database.with_name(database.name + ".startup.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield  # closing the file lets go
    else:
        yield


def prepare_database() -> None:
    check_configuration()
    with one_start_at_a_time(settings.database_url):
        migrate(settings.database_url)
        if settings.demo_contacts > 0:
            from cloodot_app.seed import seed_demo

            seed_demo(
                settings.database_url,
                contacts=settings.demo_contacts,
                workspace_slug=settings.workspace_slug,
            )
        from cloodot_app.services.custom_fields.indexes import ensure_field_indexes

        ensure_field_indexes(settings.database_url)
        refresh_statistics(settings.database_url)


if __name__ == "__main__":
    try:
        prepare_database()
    except ConfigurationError as error:
        print(f"Not starting: {error}", file=sys.stderr)
        sys.exit(2)
    print(f"Database ready: {settings.database_url}")
