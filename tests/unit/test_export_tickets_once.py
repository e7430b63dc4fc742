"""An export ticket is good for one download: its nonce can be claimed once, even by 20
requests at the same moment."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa

from cloodot_app.db import session_scope
from cloodot_app.models import ExportTicketUse, utcnow
from cloodot_app.services.accounts import forget_used_tickets, use_ticket_once

THREADS = 20


def test_a_nonce_is_claimed_once(session):
    assert use_ticket_once(session, "nonce-1") is True
    session.commit()
    assert use_ticket_once(session, "nonce-1") is False
    assert use_ticket_once(session, "nonce-2") is True


def test_twenty_simultaneous_claims_one_winner(engine):
    barrier = threading.Barrier(THREADS)

    def claim(_: int) -> bool:
        barrier.wait()
        with session_scope(engine) as session:
            return use_ticket_once(session, "the-ticket")

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(claim, range(THREADS)))
    assert results.count(True) == 1
    assert results.count(False) == THREADS - 1
    with session_scope(engine) as session:
        assert (
            session.execute(sa.select(sa.func.count()).select_from(ExportTicketUse)).scalar() == 1
        )


def test_a_claim_that_rolled_back_leaves_the_ticket_usable(engine):
    try:
        with session_scope(engine) as session:
            assert use_ticket_once(session, "n") is True
            raise RuntimeError("the download failed before it began")
    except RuntimeError:
        pass
    with session_scope(engine) as session:
        assert use_ticket_once(session, "n") is True


def test_old_nonces_can_be_forgotten(session):
    now = utcnow()
    use_ticket_once(session, "old", now=now - timedelta(days=2))
    use_ticket_once(session, "new", now=now)
    assert forget_used_tickets(session, now - timedelta(days=1)) == 1
    session.commit()
    assert session.execute(sa.select(ExportTicketUse.nonce)).scalars().all() == ["new"]
