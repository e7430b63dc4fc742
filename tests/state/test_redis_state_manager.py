"""REDIS_URL turns on Reflex's Redis state manager, and a tab's state survives a round trip
through it (what lets several workers and hosts serve the same tab)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: Reflex reads its config (and so REDIS_URL) once per process.
SCRIPT = textwrap.dedent(
    """
    import asyncio, uuid
    import reflex as rx
    from reflex.istate.manager import StateManager
    from cloodot_app.state.contacts import ContactsState

    async def main():
        manager = StateManager.create()
        print(type(manager).__name__)
        token = rx.BaseStateToken(ident=str(uuid.uuid4()), cls=ContactsState)
        async with manager.modify_state(token) as root:
            contacts = await root.get_state(ContactsState)
            contacts.search, contacts.page = "ana", 3
        fresh = StateManager.create()
        root = await fresh.get_state(token)
        contacts = await root.get_state(ContactsState)
        print(contacts.search, contacts.page)
        await manager.close()
        await fresh.close()

    asyncio.run(main())
    """
)


@pytest.fixture(scope="module")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        message = f"Redis not reachable at {REDIS_URL}: {error}"
        if os.environ.get("CI"):
            pytest.fail(message + " (required under CI)")
        pytest.skip(message)
    return REDIS_URL


@pytest.mark.redis
def test_redis_url_selects_the_redis_state_manager_and_state_round_trips(redis_url):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={**os.environ, "REDIS_URL": redis_url, "REFLEX_TELEMETRY_ENABLED": "false"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "StateManagerRedis"
    assert lines[-1] == "ana 3"
