"""Single-use export tickets: each ticket's nonce is claimed once, whatever the race."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from cloodot_app.models import ExportTicketUse, utcnow


def use_ticket_once(session: Session, nonce: str, *, now: datetime | None = None) -> bool:
    """Claim an export ticket's nonce: True the first time, False ever after. The primary
    key decides (INSERT … ON CONFLICT DO NOTHING), so two simultaneous uses cannot both
    win; the caller commits at once (on PostgreSQL the loser waits for that commit)."""
    insert = postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    claimed = session.execute(
        insert(ExportTicketUse)
        .values(nonce=nonce, used_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["nonce"])
        .returning(ExportTicketUse.nonce)
    ).scalar_one_or_none()
    return claimed is not None


def forget_used_tickets(session: Session, before: datetime) -> int:
    """Drop nonces of tickets that have expired anyway (tickets live minutes)."""
    result = session.execute(sa.delete(ExportTicketUse).where(ExportTicketUse.used_at < before))
    return result.rowcount or 0
