"""`reflex export` (what `reflex deploy` runs before uploading) succeeds and packs what a
hosted deployment needs. It runs in a copy of the project, so the shared app server's
.web directory is never rebuilt under it; it takes a few minutes (one frontend build)."""

from __future__ import annotations

import os
import subprocess
import zipfile

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.project_copy import project_copy


def test_reflex_export_packs_the_frontend_and_the_backend(tmp_path):
    project = project_copy(tmp_path / "project")
    (project / ".env.production").write_text("CLOODOT_SECRET_KEY=never-shipped\n")
    out = tmp_path / "out"
    out.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'export.db'}",
        "CLOODOT_APP_URL": "https://contacts.example.com",
    }
    for name in ("REDIS_URL", "CLOODOT_DEMO_MODE", "FRONTEND_PORT"):
        env.pop(name, None)
    result = subprocess.run(
        ["reflex", "export", "--env", "prod", "--zip-dest-dir", str(out), "--loglevel", "info"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "reflex-export.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, f"reflex export failed; see {ARTIFACTS / 'reflex-export.log'}"

    with zipfile.ZipFile(out / "frontend.zip") as frontend:
        pages = frontend.namelist()
    assert "index.html" in pages or any(p.endswith("/index.html") for p in pages), pages[:20]

    with zipfile.ZipFile(out / "backend.zip") as backend:
        files = set(backend.namelist())
    for needed in (
        "rxconfig.py",
        "requirements.txt",
        "alembic.ini",
        "cloodot_app/cloodot_app.py",
        "cloodot_app/demo_traffic.py",
    ):
        assert needed in files, f"{needed} is missing from backend.zip"
    assert any(name.startswith("alembic/versions/") for name in files)
    assert ".env.production" not in files, "the secrets file must never be uploaded"
    assert not any(name.endswith(".db") for name in files)
