"""Demo traffic: a few turns of the generator put plausible messages into the demo
workspace through ingestion (new and returning senders, several channels), and a second
runner of the same deployment (another worker) posts nothing while the first holds the
lease, then takes over when it goes."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
import sqlalchemy as sa

from cloodot_app import demo_traffic
from cloodot_app.demo_traffic import (
    DemoTraffic,
    DemoTrafficRunner,
    FileLease,
    PostgresLease,
    lease_for,
)
from cloodot_app.models import Contact, Message
from cloodot_app.services.workspaces import workspace_by_slug
from cloodot_app.settings import Settings

SLUG = "demo-traffic"


def runner(database_url: str, engine, seed: int = 5) -> DemoTrafficRunner:
    return DemoTrafficRunner(database_url, SLUG, engine=engine, traffic=DemoTraffic(seed=seed))


def counts(session, workspace_id: int) -> tuple[int, int]:
    contacts = session.execute(
        sa.select(sa.func.count()).select_from(Contact).where(Contact.workspace_id == workspace_id)
    ).scalar_one()
    messages = session.execute(
        sa.select(sa.func.count()).select_from(Message).where(Message.workspace_id == workspace_id)
    ).scalar_one()
    return contacts, messages


def test_turns_post_new_and_returning_senders_on_every_channel(database_url, engine, session):
    first = runner(database_url, engine)
    try:
        results = [first.step() for _ in range(24)]
    finally:
        first.close()
    assert all(result is not None for result in results), "a lone runner posts every turn"
    workspace = workspace_by_slug(session, SLUG)
    assert workspace is not None, "the demo workspace is made on the first turn"
    contacts, messages = counts(session, workspace.id)
    assert messages == 24
    new = [r for r in results if r.contact_created]
    returning = [r for r in results if not r.contact_created]
    assert contacts == len(new)
    assert len(new) >= 10 and len(returning) >= 3, (len(new), len(returning))
    # A returning sender's message joins the contact that wrote before.
    assert {r.contact_id for r in returning} <= {r.contact_id for r in new}

    rows = session.execute(
        sa.select(Contact.name, Contact.channel, Contact.external_id, Contact.phone).where(
            Contact.workspace_id == workspace.id
        )
    ).all()
    channels = Counter(row.channel for row in rows)
    assert set(channels) == {"instagram", "facebook", "whatsapp", "webchat"}, channels
    assert all(row.name and row.external_id for row in rows)
    assert all(row.phone for row in rows if row.channel == "whatsapp")
    texts = session.execute(
        sa.select(Message.text, Message.direction).where(Message.workspace_id == workspace.id)
    ).all()
    assert all(text and direction == "incoming" for text, direction in texts)
    assert not any("{" in text for text, _ in texts), "every template slot is filled"
    assert workspace.data_version > 0, "Live mode sees the change"


def test_a_second_runner_posts_nothing_while_the_first_holds_the_lease(
    database_url, engine, session
):
    first, second = runner(database_url, engine, seed=1), runner(database_url, engine, seed=2)
    try:
        turns = []
        for _ in range(4):
            turns.append(("first", first.step()))
            turns.append(("second", second.step()))
        assert [who for who, result in turns if result is not None] == ["first"] * 4
        workspace = workspace_by_slug(session, SLUG)
        assert counts(session, workspace.id)[1] == 4, "one message per turn, not per worker"

        first.close()  # the worker holding the lease stops (or dies)
        assert second.step() is not None, "another worker takes over"
        assert first.step() is None, "and the first, back, waits its turn"
        session.expire_all()
        assert counts(session, workspace.id)[1] == 5
    finally:
        first.close()
        second.close()


def test_the_lease_suits_the_database(database_url, dialect):
    lease = lease_for(database_url)
    try:
        expected = PostgresLease if dialect == "postgresql" else FileLease
        assert isinstance(lease, expected)
        assert lease.hold() and lease.hold(), "holding is re-entrant for its holder"
    finally:
        lease.release()


@pytest.mark.postgres
def test_a_lease_whose_connection_died_is_not_held_any_more(postgres_admin_engine):
    """PostgreSQL: the lock lives as long as its database session. A broken connection
    reconnects silently on its next use, so the holder must ask the server whether its
    session still holds the lock, or two workers would both post."""
    url = postgres_admin_engine.url.render_as_string(hide_password=False)
    lease, rival = PostgresLease(url), PostgresLease(url)
    try:
        assert lease.hold()
        assert not rival.hold()
        lease._connection.invalidate()  # the server dropped this connection
        assert rival.hold(), "the lock ended with its session"
        assert not lease.hold(), "the old holder knows it does not hold it any more"
        rival.release()
        assert lease.hold(), "and takes it again once it is free"
    finally:
        lease.release()
        rival.release()


def test_the_same_seed_gives_the_same_people(session, workspace_id):
    one, other = DemoTraffic(seed=3), DemoTraffic(seed=3)
    first = [one.next_message(session, workspace_id) for _ in range(5)]
    second = [other.next_message(session, workspace_id) for _ in range(5)]
    strip = [(c, m.model_dump(exclude={"message_id"})) for c, m in first]
    assert strip == [(c, m.model_dump(exclude={"message_id"})) for c, m in second]


def test_an_empty_workspace_gets_new_senders_only(session, workspace_id):
    traffic = DemoTraffic(seed=4, returning_share=1.0)
    _channel, message = traffic.next_message(session, workspace_id)
    assert message.name, "with nobody to return, someone new writes"


def settings_with(monkeypatch, **env: str) -> Settings:
    for name in ("CLOODOT_DEMO_MODE", "CLOODOT_DEMO_TRAFFIC_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = Settings()
    monkeypatch.setattr(demo_traffic, "settings", config)
    return config


class FakeRunner:
    """Stands in for DemoTrafficRunner: counts turns, and ends the loop on the third the way
    the app's shutdown does (cancellation)."""

    made: list[FakeRunner] = []

    def __init__(self, *args, **kwargs):
        self.turns = 0
        self.closed = False
        FakeRunner.made.append(self)

    def step(self):
        self.turns += 1
        if self.turns == 3:
            raise asyncio.CancelledError

    def close(self):
        self.closed = True


@pytest.mark.parametrize(
    "env",
    [
        {"CLOODOT_DEMO_MODE": "1", "CLOODOT_DEMO_TRAFFIC_SECONDS": "0"},
        {"CLOODOT_DEMO_TRAFFIC_SECONDS": "0.01"},
    ],
    ids=["interval-0", "not-demo-mode"],
)
def test_the_lifespan_task_does_nothing_unless_demo_mode_with_an_interval(monkeypatch, env):
    settings_with(monkeypatch, **env)
    FakeRunner.made = []
    monkeypatch.setattr(demo_traffic, "DemoTrafficRunner", FakeRunner)
    asyncio.run(demo_traffic.run_demo_traffic())  # returns at once
    assert FakeRunner.made == []


def test_the_lifespan_task_posts_every_interval_until_the_app_stops(monkeypatch):
    config = settings_with(monkeypatch, CLOODOT_DEMO_MODE="1")
    assert config.demo_traffic_seconds == 8, "the default interval"
    settings_with(monkeypatch, CLOODOT_DEMO_MODE="1", CLOODOT_DEMO_TRAFFIC_SECONDS="0.01")
    FakeRunner.made = []
    monkeypatch.setattr(demo_traffic, "DemoTrafficRunner", FakeRunner)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(demo_traffic.run_demo_traffic())
    [made] = FakeRunner.made
    assert made.turns == 3 and made.closed, "the lease is let go when the app stops"
