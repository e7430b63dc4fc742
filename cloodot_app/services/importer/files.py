"""Where an upload waits between the steps of the import (a file under data/imports/)."""

from __future__ import annotations

from pathlib import Path

from cloodot_app.settings import PROJECT_ROOT

IMPORT_DIR = PROJECT_ROOT / "data" / "imports"


def import_file(token: str, suffix: str = ".csv") -> Path:
    """Where an upload (or its error report) waits between steps, named by a random token
    (secrets.token_urlsafe) that only the uploading tab knows."""
    return IMPORT_DIR / f"{token}{suffix}"
