"""Start-up refuses a configuration that would fail at run time: several workers (Redis,
or GRANIAN_WORKERS > 1) without a shared CLOODOT_SECRET_KEY made 18 of 20 CSV downloads
fail with 403, each worker signing with its own random key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cloodot_app import startup
from cloodot_app.settings import Settings
from cloodot_app.startup import ConfigurationError, check_configuration

ROOT = Path(__file__).resolve().parents[2]


def settings_from(monkeypatch, **env: str) -> Settings:
    for name in ("REDIS_URL", "CLOODOT_SECRET_KEY", "GRANIAN_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"REDIS_URL": "redis://127.0.0.1:6379"}, "REDIS_URL is set"),
        ({"GRANIAN_WORKERS": "4"}, "GRANIAN_WORKERS=4"),
        ({"REDIS_URL": "redis://x", "CLOODOT_SECRET_KEY": ""}, "REDIS_URL is set"),
    ],
)
def test_several_workers_without_a_secret_key_do_not_start(monkeypatch, env, named):
    config = settings_from(monkeypatch, **env)
    assert config.several_workers
    with pytest.raises(ConfigurationError) as refused:
        check_configuration(config)
    message = str(refused.value)
    assert "Set CLOODOT_SECRET_KEY" in message and named in message
    assert "secrets.token_urlsafe" in message


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"GRANIAN_WORKERS": "1"},
        {"GRANIAN_WORKERS": "many"},
        {"REDIS_URL": "redis://x", "CLOODOT_SECRET_KEY": "shared-secret"},
        {"GRANIAN_WORKERS": "8", "CLOODOT_SECRET_KEY": "shared-secret"},
    ],
)
def test_one_worker_or_a_shared_key_starts(monkeypatch, env):
    check_configuration(settings_from(monkeypatch, **env))


def test_the_check_runs_before_the_database_is_touched(monkeypatch):
    config = settings_from(monkeypatch, REDIS_URL="redis://x")
    monkeypatch.setattr(startup, "settings", config)
    migrated = []
    monkeypatch.setattr(startup, "migrate", lambda url: migrated.append(url))
    with pytest.raises(ConfigurationError):
        startup.prepare_database()
    assert migrated == []


def test_the_startup_command_says_what_to_set_and_exits(tmp_path):
    database = tmp_path / "never.db"
    env = {
        **{k: v for k, v in os.environ.items() if k != "CLOODOT_SECRET_KEY"},
        "REDIS_URL": "redis://127.0.0.1:6379",
        "DATABASE_URL": f"sqlite:///{database}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "cloodot_app.startup"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Not starting: CLOODOT_SECRET_KEY is not set" in done.stderr
    assert not database.exists()
