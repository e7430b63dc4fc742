"""Runtime settings read from the environment (one place, so nothing else reads os.environ)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'data' / 'cloodot.db'}"


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
    # The largest CSV file an import accepts; the upload stops being read past it.
    import_max_bytes: int = field(
        default_factory=lambda: int(
            os.environ.get("CLOODOT_IMPORT_MAX_BYTES", str(20 * 1024 * 1024))
        )
    )
    live_interval_seconds: float = field(
        default_factory=lambda: float(os.environ.get("CLOODOT_LIVE_INTERVAL", "3"))
    )


settings = Settings()
