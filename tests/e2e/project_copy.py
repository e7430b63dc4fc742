"""A copy of the project in a temporary folder, for what must not touch the shared app
server's .web directory: `reflex export`, and a second app server with other settings."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.e2e.conftest import ROOT


def project_copy(target: Path) -> Path:
    """The project's files as git sees them (tracked, or new and not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target
