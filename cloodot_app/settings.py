"""Runtime settings read from the environment (one place, so nothing else reads os.environ)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'data' / 'cloodot.db'}"


def _int_or_none(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else None


@dataclass(frozen=True)
class Settings:
    database_url: str = field(
        default_factory=lambda: os.environ.get("DATABASE_URL") or _default_database_url()
    )
    redis_url: str | None = field(default_factory=lambda: os.environ.get("REDIS_URL") or None)
    # The workspace a browser session works in. Authentication is out of scope for this
    # module; every service call is still scoped by this id.
    workspace_slug: str = field(default_factory=lambda: os.environ.get("CLOODOT_WORKSPACE", "demo"))
    demo_contacts: int = field(
        default_factory=lambda: int(os.environ.get("CLOODOT_DEMO_CONTACTS", "500"))
    )
    export_max_rows: int = field(
        default_factory=lambda: int(os.environ.get("CLOODOT_EXPORT_MAX_ROWS", "100000"))
    )
    live_interval_seconds: float = field(
        default_factory=lambda: float(os.environ.get("CLOODOT_LIVE_INTERVAL", "3"))
    )
    # Signs CSV download tickets. Every worker and host must share it: one that signs with
    # its own random key refuses the tickets the others made (startup.check_configuration).
    secret_key: str | None = field(
        default_factory=lambda: os.environ.get("CLOODOT_SECRET_KEY") or None
    )
    # Granian's worker count for `reflex run --env prod`, if set (Reflex's own default is
    # one worker without Redis and 2 x CPUs + 1 with it).
    granian_workers: int | None = field(default_factory=lambda: _int_or_none("GRANIAN_WORKERS"))

    @property
    def several_workers(self) -> bool:
        """Whether more than one process serves the app: with Redis, Reflex starts several
        workers (and several hosts may share the state); GRANIAN_WORKERS can ask for more."""
        return self.redis_url is not None or (self.granian_workers or 1) > 1


settings = Settings()
