"""Which web origins may use the app: its own (CLOODOT_APP_URL) and no other. Reflex's
default was "*": a page on any site opened the websocket with the visitor's cookie and
read contacts. The browser tests (tests/e2e/test_origin.py) knock on the real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cloodot_app.settings import allowed_origins, web_origin

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://localhost:3000", "http://localhost:3000"),
        ("https://Contacts.Example.com/", "https://contacts.example.com"),
        ("https://contacts.example.com:443/app", "https://contacts.example.com"),
        ("http://example.com:80", "http://example.com"),
        ("https://example.com:8443", "https://example.com:8443"),
        ("http://[::1]:3000/", "http://[::1]:3000"),
    ],
)
def test_the_origin_is_what_a_browser_sends(url, origin):
    assert web_origin(url) == origin


@pytest.mark.parametrize("url", ["localhost:3000", "ftp://example.com", "https://", ""])
def test_an_app_url_that_is_not_http_is_refused(url):
    with pytest.raises(ValueError, match="CLOODOT_APP_URL"):
        web_origin(url)


def test_a_public_address_allows_itself_only():
    assert allowed_origins("https://contacts.example.com") == ["https://contacts.example.com"]
    assert allowed_origins("https://contacts.example.com", 8000) == [
        "https://contacts.example.com",
        "https://contacts.example.com:8000",
    ]


def test_make_run_answers_under_every_loopback_name_of_its_port():
    assert allowed_origins("http://localhost:3000") == [
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://[::1]:3000",
    ]


def test_make_dev_also_allows_the_backend_port():
    origins = allowed_origins("http://localhost:3000", 8000)
    assert "http://localhost:3000" in origins and "http://localhost:8000" in origins
    assert "http://127.0.0.1:8000" in origins
    assert "*" not in origins


def _reflex_origins(**env: str) -> list[str]:
    """cors_allowed_origins as rxconfig.py builds it, in a fresh interpreter."""
    clean = {k: v for k, v in os.environ.items() if k not in ("CLOODOT_APP_URL", "REFLEX_ENV_MODE")}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, rxconfig; print(json.dumps(list(rxconfig.config.cors_allowed_origins)))",
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_reflex_is_configured_with_the_app_origin_in_production():
    origins = _reflex_origins(
        CLOODOT_APP_URL="https://contacts.example.com", REFLEX_ENV_MODE="prod"
    )
    assert origins == ["https://contacts.example.com"]


def test_reflex_defaults_are_right_for_make_run_and_make_dev():
    assert _reflex_origins(REFLEX_ENV_MODE="prod") == allowed_origins("http://localhost:3000")
    assert _reflex_origins(REFLEX_ENV_MODE="dev") == allowed_origins("http://localhost:3000", 8000)
