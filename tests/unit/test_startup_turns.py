"""Workers starting together take turns at start-up: on a deployment's first start every
Granian worker (and host) runs the migrations and the demo seeding, and without turns they
ran them on one empty database at once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from cloodot_app.models import Contact
from cloodot_app.startup import one_start_at_a_time
from tests.conftest import DIALECTS

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_start_waits_for_the_first(database_url):
    first_inside, first_may_leave = threading.Event(), threading.Event()
    second_inside = threading.Event()
    problems: list[BaseException] = []

    def start(inside: threading.Event, leave: threading.Event | None) -> None:
        try:
            with one_start_at_a_time(database_url):
                inside.set()
                if leave is not None:
                    leave.wait(60)
        except BaseException as error:  # reported below, not lost in the thread
            problems.append(error)
            inside.set()

    first = threading.Thread(target=start, args=(first_inside, first_may_leave))
    first.start()
    assert first_inside.wait(30)
    second = threading.Thread(target=start, args=(second_inside, None))
    second.start()
    try:
        assert not second_inside.wait(1), "the second start must wait while the first runs"
    finally:
        first_may_leave.set()
    assert second_inside.wait(30), "and go on once the first is done"
    first.join(30)
    second.join(30)
    assert problems == []


@pytest.fixture(params=DIALECTS)
def empty_database(request, tmp_path) -> str:
    """A database with nothing in it, as on a deployment's first start."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'first-start.db'}"
        return
    server = sa.engine.make_url(request.getfixturevalue("postgres_server_url"))
    name = f"{server.database}_first_start"
    admin = sa.create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_workers_starting_together_migrate_and_seed_once(empty_database):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "GRANIAN_WORKERS")},
        "DATABASE_URL": empty_database,
        "CLOODOT_DEMO_CONTACTS": "40",
        "CLOODOT_WORKSPACE": "demo",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "cloodot_app.startup"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = [(worker.wait(timeout=300), worker.communicate()[1]) for worker in workers]
    assert [code for code, _ in outcomes] == [0, 0, 0], [err[-2000:] for _, err in outcomes]
    engine = sa.create_engine(empty_database, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            contacts = connection.execute(
                sa.select(sa.func.count()).select_from(Contact)
            ).scalar_one()
    finally:
        engine.dispose()
    assert contacts == 40, "the demo workspace is seeded once, not once per worker"
