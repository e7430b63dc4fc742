"""Demo traffic: in demo mode one process of the deployment posts a plausible incoming
message into the demo workspace every few seconds, so Live mode visibly moves.

Messages go through the ingestion service (`services.ingestion.ingest_message`), exactly
as a channel's POST does: new people on all four channels, and people who wrote before
writing again. Names, phones and emails come from the demo generator's Faker pools
(`cloodot_app.seed`), texts from its conversation topics.

Once per deployment, not once per worker: with Redis, Granian runs several workers (and
several hosts may share one PostgreSQL), and each runs the app's lifespan tasks. Every
worker starts the loop; only the holder of a lease posts, the others try to take the
lease on each turn. The lease is one the operating system or the database ends with its
holder, so a crashed or restarted worker never leaves a stale lease behind and no clock
is involved:

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held by one
  dedicated connection. It spans hosts, needs no table (so no migration) and is released
  when that connection closes, whatever killed it.
- SQLite: an exclusive `flock` on a file beside the database. An SQLite file lives on one
  host, so all its workers share that file system; the kernel drops the lock when the
  process dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
import random
import threading
import uuid
import zlib
from pathlib import Path
from typing import IO, Protocol

import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from cloodot_app.db import get_engine, session_scope
from cloodot_app.models import MESSAGING_CHANNELS, Contact
from cloodot_app.seed import (
    _FOLLOW_UPS,
    _TOPIC_TEXTS,
    CHANNELS,
    REGIONS,
    TOPICS,
    _build_pools,
)
from cloodot_app.services.ingestion import IncomingMessage, IngestResult, ingest_message
from cloodot_app.services.workspaces import ensure_workspace
from cloodot_app.settings import settings

logger = logging.getLogger(__name__)

# The advisory lock's key: one per database, whatever the workspace (one demo per
# deployment). A fixed 31-bit number derived from a name, so it reads as what it is.
ADVISORY_LOCK_KEY = zlib.crc32(b"cloodot demo traffic") & 0x7FFFFFFF

# Of the demo messages, this share comes from someone who wrote before.
RETURNING_SHARE = 0.35
# A returning sender is usually one of the latest people to write (a conversation going
# on), sometimes anyone in the workspace.
RECENT_SENDERS = 30
ANY_SENDER_SHARE = 0.3


# --------------------------------------------------------------------------- messages


@functools.cache
def _people(seed: int = 42):
    """The demo generator's Faker pools (names per region, usernames, company domains):
    built once per process, in a second or two."""
    return _build_pools(seed)


class DemoTraffic:
    """Makes one plausible incoming message at a time and posts it through ingestion.
    The same seed gives the same people and texts (for tests); by default each process
    draws its own."""

    def __init__(self, seed: int | None = None, returning_share: float = RETURNING_SHARE):
        seed = random.SystemRandom().randrange(2**31) if seed is None else seed
        self.rng = random.Random(seed)
        self.returning_share = returning_share
        self._pools, self._company_domains = _people()
        self._region_weights = [pool.region.weight for pool in self._pools]
        self._channels = [channel.value for channel in MESSAGING_CHANNELS]
        self._channel_weights = [CHANNELS[channel][0] for channel in self._channels]

    def post(self, session: Session, workspace_id: int) -> IngestResult:
        channel, incoming = self.next_message(session, workspace_id)
        return ingest_message(session, workspace_id, channel, incoming)

    def next_message(self, session: Session, workspace_id: int) -> tuple[str, IncomingMessage]:
        """The next message: from a returning sender (when the workspace has any and the
        dice say so), else from someone new."""
        if self.rng.random() < self.returning_share:
            sender = self._returning_sender(session, workspace_id)
            if sender is not None:
                channel, external_id, first = sender
                return channel, IncomingMessage(
                    external_id=external_id,
                    text=self._text(first, follow_up=self.rng.random() < 0.6),
                    message_id=_message_id(),
                )
        return self._new_sender()

    # -- senders

    def _new_sender(self) -> tuple[str, IncomingMessage]:
        rng = self.rng
        channel = rng.choices(self._channels, weights=self._channel_weights)[0]
        pool = rng.choices(self._pools, weights=self._region_weights)[0]
        region = pool.region
        first, ascii_first = rng.choice(pool.first_names)
        last, ascii_last = rng.choice(pool.last_names)
        name = f"{last} {first}" if region.script == "japanese" else f"{first} {last}"
        _weight, phone_share, email_share = CHANNELS[channel]
        digits = None
        if channel == "whatsapp" or rng.random() < phone_share:
            digits = (
                f"{region.calling_code}{rng.choice(region.phone_prefixes)}"
                f"{rng.randrange(10**6):06d}"
            )
        email = None
        if rng.random() < email_share:
            email = self._email(pool, ascii_first, ascii_last)
        if channel == "instagram":
            handle = f"{ascii_first}.{ascii_last}" if ascii_first else rng.choice(pool.usernames)
            external_id = f"{handle}{rng.randrange(10, 10_000)}"
        elif channel == "facebook":
            external_id = str(2_500_000_000_000_000 + rng.randrange(10**12))
        elif channel == "whatsapp" and digits:
            external_id = digits
        else:
            external_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return channel, IncomingMessage(
            external_id=external_id,
            name=name,
            email=email,
            phone=f"+{digits}" if digits else None,
            text=self._text(first, follow_up=False, cities=region.cities),
            message_id=_message_id(),
        )

    def _email(self, pool, first: str, last: str) -> str:
        rng = self.rng
        if not first or not last:  # names not in Latin script: a username
            local = rng.choice(pool.usernames) + str(rng.randrange(1, 100))
        else:
            local = rng.choice(
                (f"{first}.{last}", f"{first}{last}{rng.randrange(1, 100)}", f"{first[0]}{last}")
            )
        domains = self._company_domains if rng.random() < 0.12 else pool.region.email_domains
        return f"{local}@{rng.choice(domains)}"

    def _returning_sender(self, session: Session, workspace_id: int) -> tuple[str, str, str] | None:
        """(channel, external id, first name) of someone who wrote to the workspace before,
        or None when nobody has. Two indexed reads, whatever the workspace's size."""
        can_write_again = (
            Contact.workspace_id == workspace_id,
            Contact.channel.in_(self._channels),
            Contact.external_id.is_not(None),
        )
        columns = (Contact.channel, Contact.external_id, Contact.name)
        if self.rng.random() < ANY_SENDER_SHARE:
            highest = session.execute(
                sa.select(sa.func.max(Contact.id)).where(Contact.workspace_id == workspace_id)
            ).scalar()
            if highest:
                row = session.execute(
                    sa.select(*columns)
                    .where(*can_write_again, Contact.id >= self.rng.randint(1, highest))
                    .order_by(Contact.id)
                    .limit(1)
                ).first()
                if row is not None:
                    # external_id is not NULL here (the query asks for it).
                    return row[0], str(row[1]), _first_name(row[2])
        rows = session.execute(
            sa.select(*columns)
            .where(*can_write_again, Contact.last_interaction_at.is_not(None))
            .order_by(Contact.last_interaction_at.desc(), Contact.id.desc())
            .limit(RECENT_SENDERS)
        ).all()
        if not rows:
            return None
        channel, external_id, name = self.rng.choice(rows)
        return channel, str(external_id), _first_name(name)

    # -- texts

    def _text(self, first: str, *, follow_up: bool, cities: tuple[str, ...] = ()) -> str:
        rng = self.rng
        if follow_up:
            template = rng.choice(_FOLLOW_UPS)
        else:
            template = rng.choice(_TOPIC_TEXTS[rng.choice(TOPICS)][0])
        slots = {
            "order": f"#{rng.randrange(10_000, 99_999)}",
            "first": first,
            "city": rng.choice(cities or rng.choice(REGIONS).cities),
        }
        return template.format(**slots)


def _first_name(name: str | None) -> str:
    return (name or "").split(" ")[0] or "there"


def _message_id() -> str:
    # The channel's own message id: a retried post of the same message is stored once.
    return f"demo-{uuid.uuid4().hex}"


# --------------------------------------------------------------------------- leases


class Lease(Protocol):
    """Who may post: at most one holder per database at a time."""

    def hold(self) -> bool:
        """True while this runner holds the lease (taking it when it is free)."""
        ...

    def release(self) -> None: ...


# Whether this database session holds the advisory lock (a bigint key below 2**31 is
# classid 0, objid key, objsubid 1 in pg_locks).
_HOLDS_LOCK = sa.text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = pg_backend_pid() AND classid = 0 AND objid = :key AND objsubid = 1)"
)


class PostgresLease:
    """A session-level advisory lock on a connection of its own (never a pooled one: a
    lock must not go back to a pool with its connection)."""

    def __init__(self, database_url: str, key: int = ADVISORY_LOCK_KEY):
        self._engine = sa.create_engine(database_url, poolclass=NullPool)
        self._key = key
        self._connection: sa.Connection | None = None

    def hold(self) -> bool:
        if self._connection is not None:
            # Asked of the server, not assumed: a connection that broke reconnects
            # silently on its next use, as a new session without the lock.
            try:
                still = self._connection.execute(_HOLDS_LOCK, {"key": self._key}).scalar_one()
                self._connection.commit()
            except sa.exc.DBAPIError:
                still = False
            if still:
                return True
            logger.warning("demo traffic: the lease ended with its database session")
            self._close()
        try:
            connection = self._engine.connect()
        except sa.exc.DBAPIError:
            return False
        try:
            taken = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar_one()
            connection.commit()  # the lock outlives transactions; no transaction stays open
        except sa.exc.DBAPIError:
            connection.close()
            return False
        if not taken:
            connection.close()
            return False
        self._connection = connection
        return True

    def release(self) -> None:
        self._close()
        self._engine.dispose()

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            # Closing ends the database session, and so the lock.
            with contextlib.suppress(sa.exc.DBAPIError):
                connection.close()


class FileLease:
    """An exclusive, non-blocking flock on a file beside the SQLite database."""

    def __init__(self, path: Path):
        self.path = path
        self._file: IO[str] | None = None

    def hold(self) -> bool:
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


class ProcessLease:
    """For a database only this process can see (SQLite in memory): always held."""

    def hold(self) -> bool:
        return True

    def release(self) -> None:
        pass


def lease_for(database_url: str) -> Lease:
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return PostgresLease(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return FileLease(Path(url.database).with_name(Path(url.database).name + ".demo.lock"))
    return ProcessLease()


# --------------------------------------------------------------------------- runner


class DemoTrafficRunner:
    """One turn at a time: post a demo message if this runner holds the lease."""

    def __init__(
        self,
        database_url: str,
        workspace_slug: str,
        *,
        engine: sa.Engine | None = None,
        lease: Lease | None = None,
        traffic: DemoTraffic | None = None,
    ):
        self.database_url = database_url
        self.workspace_slug = workspace_slug
        self._engine = engine
        self._lease = lease or lease_for(database_url)
        self._traffic = traffic
        self._workspace_id: int | None = None
        # None until the first turn; then whether this runner held the lease last turn.
        self._leading: bool | None = None
        # step() runs in a worker thread; close() may come from the event loop meanwhile.
        self._lock = threading.Lock()

    def step(self) -> IngestResult | None:
        """Post one message when this runner holds the lease; None when another does."""
        with self._lock:
            if not self._lease.hold():
                if self._leading is not False:  # first turn, or it just lost the lease
                    logger.info("demo traffic: another process posts them; this one stands by")
                self._leading = False
                return None
            if self._leading is not True:
                logger.info(
                    "demo traffic: this process posts a demo message every %s s into %r",
                    settings.demo_traffic_seconds,
                    self.workspace_slug,
                )
                self._leading = True
            if self._traffic is None:
                self._traffic = DemoTraffic()
            with session_scope(self._engine or get_engine(self.database_url)) as session:
                if self._workspace_id is None:
                    self._workspace_id = ensure_workspace(session, self.workspace_slug).id
                assert self._workspace_id is not None
                return self._traffic.post(session, self._workspace_id)

    def close(self) -> None:
        with self._lock:
            self._lease.release()
            self._leading = None


async def run_demo_traffic() -> None:
    """The app's lifespan task: in demo mode, a demo message every
    CLOODOT_DEMO_TRAFFIC_SECONDS from whichever worker holds the lease."""
    interval = settings.demo_traffic_seconds
    if not settings.demo_mode or interval <= 0:
        logger.debug("demo traffic: off")
        return
    runner = DemoTrafficRunner(settings.database_url, settings.workspace_slug)
    try:
        while True:
            try:
                await asyncio.to_thread(runner.step)
            except Exception:
                logger.exception("demo traffic: a demo message failed; trying again next turn")
            await asyncio.sleep(interval)
    finally:
        runner.close()
