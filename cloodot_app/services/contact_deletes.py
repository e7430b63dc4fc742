"""Deleting contacts in bulk: the selection (listed ids, or a view frozen when the
confirmation counted it) and the all-or-nothing delete."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.access import Identity
from cloodot_app.errors import SelectionChanged
from cloodot_app.filters import (
    CompileContext,
)
from cloodot_app.models import (
    Contact,
    ContactLabel,
    Conversation,
    ConversationLabel,
    Message,
    utcnow,
)
from cloodot_app.services import contact_audit
from cloodot_app.services.contacts import ContactQuery, contact_condition
from cloodot_app.services.workspaces import bump_data_version


@dataclass
class Selection:
    """Which contacts a bulk action is for: listed ids, or every contact a view matches.

    A view's selection can be frozen (`frozen()`, which the delete confirmation does): it
    then means the contacts that matched when it was shown and have not changed since, and
    never more than `promised` of them, whatever arrives or changes meanwhile.
    """

    ids: list[int] = field(default_factory=list)
    query: ContactQuery | None = None
    # Frozen: the newest id that matched, the moment of matching and how many matched.
    max_id: int | None = None
    as_of: datetime | None = None
    promised: int | None = None

    def condition(self, session: Session, workspace_id: int) -> sa.ColumnElement[bool]:
        if self.query is None:
            return sa.and_(Contact.workspace_id == workspace_id, Contact.id.in_(self.ids or [-1]))
        if self.as_of is None:
            return contact_condition(session, workspace_id, self.query)
        return sa.and_(
            self._as_of(session, workspace_id, self.as_of), Contact.id <= (self.max_id or 0)
        )

    def _as_of(
        self, session: Session, workspace_id: int, as_of: datetime
    ) -> sa.ColumnElement[bool]:
        """The view at `as_of` (relative dates too), without contacts changed since: one
        may match now only because it changed."""
        assert self.query is not None
        ctx = CompileContext.for_session(session, now=as_of)
        where = contact_condition(session, workspace_id, self.query, ctx=ctx)
        return sa.and_(where, Contact.updated_at <= as_of)

    def frozen(self, session: Session, workspace_id: int) -> Selection:
        """This selection as of now: later additions and changes are left out."""
        if self.query is None or self.as_of is not None:
            return self
        as_of = utcnow()
        count, max_id = session.execute(
            sa.select(sa.func.count(), sa.func.max(Contact.id)).where(
                self._as_of(session, workspace_id, as_of)
            )
        ).one()
        return replace(self, as_of=as_of, max_id=max_id or 0, promised=count)


@dataclass
class DeletePreview:
    selected: int
    with_conversations: int
    # The selection as it was counted: what the confirmation deletes.
    selection: Selection = field(default_factory=Selection)

    @property
    def without_conversations(self) -> int:
        return self.selected - self.with_conversations


def delete_preview(session: Session, workspace_id: int, selection: Selection) -> DeletePreview:
    """What the confirmation dialog tells: how many have conversations, how many none."""
    selection = selection.frozen(session, workspace_id)
    where = selection.condition(session, workspace_id)
    has_conversation = sa.exists().where(Conversation.contact_id == Contact.id)
    selected, with_conversations = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((has_conversation, 1), else_=0)), 0),
        )
        .select_from(Contact)
        .where(where)
    ).one()
    return DeletePreview(selected, int(with_conversations), selection)


def delete_contacts(
    session: Session, workspace_id: int, selection: Selection, *, actor: Identity | None = None
) -> int:
    """Delete contacts with their conversations, messages and labels, in the caller's
    transaction (all or nothing), with its audit entry (by `actor`). Returns how many
    contacts were deleted."""
    contact_ids = sa.select(Contact.id).where(selection.condition(session, workspace_id))
    ids = list(session.execute(contact_ids).scalars())
    if selection.promised is not None and len(ids) > selection.promised:
        # Cannot happen through the frozen condition; if it ever does, delete nothing.
        raise SelectionChanged(
            "The selection changed since you confirmed. Nothing was deleted; review it again."
        )
    if not ids:
        return 0
    for chunk in _chunks(ids, 500):
        conversation_ids = sa.select(Conversation.id).where(Conversation.contact_id.in_(chunk))
        session.execute(sa.delete(Message).where(Message.conversation_id.in_(conversation_ids)))
        session.execute(
            sa.delete(ConversationLabel).where(
                ConversationLabel.conversation_id.in_(conversation_ids)
            )
        )
        session.execute(sa.delete(Conversation).where(Conversation.contact_id.in_(chunk)))
        session.execute(sa.delete(ContactLabel).where(ContactLabel.contact_id.in_(chunk)))
        session.execute(
            sa.delete(Contact).where(Contact.workspace_id == workspace_id, Contact.id.in_(chunk))
        )
    contact_audit.record_delete(session, workspace_id, actor, ids, selection.query)
    bump_data_version(session, workspace_id)
    session.flush()
    return len(ids)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
