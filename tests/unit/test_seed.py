"""The demo-data generator: deterministic, complete, valid, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

import phonenumbers
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import search_index
from cloodot_app import seed as seed_module
from cloodot_app.db import make_engine, migrate
from cloodot_app.fieldtypes import FIELD_TYPES, digits_only, normalize_phone
from cloodot_app.filters import FilterSpec, validate_spec
from cloodot_app.models import (
    Channel,
    Contact,
    Conversation,
    CustomFieldDefinition,
    FieldEntity,
    Message,
    Segment,
    Workspace,
)
from cloodot_app.seed import CUSTOM_FIELDS, RADIX_COLORS, seed_demo
from cloodot_app.services.contacts import ContactQuery, count_contacts, list_contacts
from cloodot_app.services.workspaces import field_catalog

FIXED_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _engine(tmp_path, name: str) -> tuple[str, sa.Engine]:
    url = f"sqlite:///{tmp_path}/{name}.db"
    migrate(url)
    return url, make_engine(url)


def _rows(engine: sa.Engine, table: sa.Table) -> list[tuple]:
    with engine.connect() as connection:
        return [
            tuple(row) for row in connection.execute(sa.select(table).order_by(*table.primary_key))
        ]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """500 contacts seeded relative to the real current time (segments use it too)."""
    tmp_path = tmp_path_factory.mktemp("seeded")
    _, engine = _engine(tmp_path, "demo")
    workspace_id = seed_demo(engine, 500, seed=7)
    yield engine, workspace_id
    engine.dispose()


def test_same_seed_and_now_give_identical_rows(tmp_path):
    _, first = _engine(tmp_path, "a")
    _, second = _engine(tmp_path, "b")
    _, other = _engine(tmp_path, "c")
    seed_demo(first, 300, seed=3, now=FIXED_NOW)
    seed_demo(second, 300, seed=3, now=FIXED_NOW)
    seed_demo(other, 300, seed=4, now=FIXED_NOW)
    for table in (Contact.__table__, Conversation.__table__, Message.__table__):
        assert _rows(first, table) == _rows(second, table)
    assert _rows(first, Contact.__table__) != _rows(other, Contact.__table__)
    latest = max(row.last_interaction_at for row in _contacts(first) if row.last_interaction_at)
    assert latest <= FIXED_NOW
    for engine in (first, second, other):
        engine.dispose()


def _contacts(engine: sa.Engine) -> list[Contact]:
    with Session(engine) as session:
        return list(session.execute(sa.select(Contact).order_by(Contact.id)).scalars())


def test_counts_channels_and_every_field_type(seeded):
    engine, workspace_id = seeded
    contacts = _contacts(engine)
    assert len(contacts) == 500
    assert {c.channel for c in contacts} == {channel.value for channel in Channel}
    assert sum(c.email is None for c in contacts) > 0
    assert sum(c.email is not None for c in contacts) > len(contacts) / 2
    assert sum(c.phone is None for c in contacts) > 0
    assert {c.avatar_color for c in contacts} <= set(RADIX_COLORS)
    with Session(engine) as session:
        definitions = list(
            session.execute(
                sa.select(CustomFieldDefinition).where(
                    CustomFieldDefinition.workspace_id == workspace_id
                )
            ).scalars()
        )
        conversations = list(session.execute(sa.select(Conversation)).scalars())
        messages = list(session.execute(sa.select(Message)).scalars())
    contact_types = {d.type for d in definitions if d.entity == FieldEntity.CONTACT}
    assert contact_types == set(FIELD_TYPES)
    assert len(definitions) == len(CUSTOM_FIELDS)

    # Every field has values somewhere, each stored exactly as its validator stores it.
    for definition in definitions:
        rows = contacts if definition.entity == FieldEntity.CONTACT else conversations
        values = [
            r.custom_fields[definition.key] for r in rows if definition.key in r.custom_fields
        ]
        assert values, definition.key
        kind = FIELD_TYPES[definition.type]
        for value in values:
            assert kind.validate(value, definition.options) == value, (definition.key, value)
            assert type(kind.validate(value, definition.options)) is type(value)

    # Conversations: ~1.5 per contact that talked to us; imported contacts have none.
    by_contact: dict[int, list[Conversation]] = {}
    for conversation in conversations:
        by_contact.setdefault(conversation.contact_id, []).append(conversation)
    messaging = [c for c in contacts if c.channel != Channel.IMPORTED]
    assert 1.2 < len(conversations) / len(messaging) < 1.9
    assert not any(c.id in by_contact for c in contacts if c.channel == Channel.IMPORTED)
    assert any(c.id not in by_contact for c in messaging)
    assert {c.status for c in conversations} == {"open", "pending", "resolved"}

    by_conversation: dict[int, list[Message]] = {}
    for message in messages:
        by_conversation.setdefault(message.conversation_id, []).append(message)
    assert all(2 <= len(m) <= 6 for m in by_conversation.values())
    assert len(by_conversation) == len(conversations)
    for contact in contacts:
        own = [m for c in by_contact.get(contact.id, []) for m in by_conversation[c.id]]
        if not own:
            assert contact.last_interaction_at is None and contact.last_message_text is None
            continue
        latest = max(own, key=lambda m: (m.sent_at, m.id))
        assert contact.last_interaction_at == latest.sent_at
        assert contact.last_message_text == latest.text[:500]
        assert contact.last_message_direction == latest.direction
        assert contact.created_at < min(m.sent_at for m in own)
        assert contact.updated_at >= contact.last_interaction_at
    for conversation in conversations:
        ordered = sorted(by_conversation[conversation.id], key=lambda m: m.id)
        assert [m.direction for m in ordered[:2]] == ["incoming", "outgoing"]
        assert [m.sent_at for m in ordered] == sorted(m.sent_at for m in ordered)
        assert conversation.created_at == ordered[0].sent_at
        assert conversation.updated_at == ordered[-1].sent_at


def test_phones_are_valid_e164_and_external_ids_unique(seeded):
    engine, _ = seeded
    contacts = _contacts(engine)
    phones = [c for c in contacts if c.phone]
    assert phones
    for contact in phones:
        assert normalize_phone(contact.phone) == contact.phone
        assert contact.phone_digits == digits_only(contact.phone)
        assert phonenumbers.is_valid_number(phonenumbers.parse(contact.phone))
    for contact in contacts:
        if contact.channel == Channel.WHATSAPP:
            assert contact.external_id == contact.phone_digits
        elif contact.channel == Channel.IMPORTED:
            assert contact.external_id is None
        else:
            assert contact.external_id
    keys = [(c.channel, c.external_id) for c in contacts if c.external_id]
    assert len(keys) == len(set(keys))


def test_six_segments_validate_and_each_matches_someone(seeded):
    engine, workspace_id = seeded
    with Session(engine) as session:
        segments = list(
            session.execute(
                sa.select(Segment)
                .where(Segment.workspace_id == workspace_id)
                .order_by(Segment.position)
            ).scalars()
        )
        assert len(segments) == 6
        assert [s.position for s in segments] == list(range(6))
        catalog = field_catalog(session, workspace_id)
        for segment in segments:
            assert segment.description and segment.color
            validate_spec(FilterSpec.parse(segment.filter_spec), catalog)
            total = count_contacts(session, workspace_id, ContactQuery(segment_id=segment.id))
            assert 0 < total < 500, segment.name


def test_search_index_is_rebuilt_and_triggers_restored(seeded):
    engine, workspace_id = seeded
    contact = _contacts(engine)[123]
    with Session(engine) as session:
        page = list_contacts(
            session, workspace_id, ContactQuery(search=contact.name, page_size=100)
        )
        assert contact.id in [row.id for row in page.rows]
        with_phone = next(c for c in _contacts(engine) if c.phone_digits)
        page = list_contacts(
            session, workspace_id, ContactQuery(search=with_phone.phone_digits[-7:], page_size=100)
        )
        assert with_phone.id in [row.id for row in page.rows]
    with engine.connect() as connection:
        stored = dict(
            connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'contact'"
            ).all()
        )
        # The very SQL the migration creates them with.
        assert stored == search_index.SQLITE_SEARCH_TRIGGERS
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_timestamps_are_stored_as_sqlalchemy_stores_them(seeded):
    engine, _ = seeded
    column = Contact.__table__.c.created_at
    process = column.type._cached_bind_processor(engine.dialect)
    with engine.connect() as connection:
        raw = connection.execute(sa.text("SELECT id, created_at FROM contact LIMIT 20")).all()
    stored = {c.id: c.created_at for c in _contacts(engine)[:20]}
    for contact_id, text in raw:
        assert process(stored[contact_id]) == text


def test_second_call_is_a_no_op_and_force_reseeds(tmp_path):
    url, engine = _engine(tmp_path, "again")
    workspace_id = seed_demo(engine, 120, seed=1, now=FIXED_NOW)
    with Session(engine) as session:
        version = session.get(Workspace, workspace_id).data_version
    assert version >= 1
    assert seed_demo(url, 50, seed=2) == workspace_id
    with Session(engine) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Contact)).scalar() == 120
        assert session.get(Workspace, workspace_id).data_version == version

    assert seed_demo(engine, 80, seed=2, force=True) == workspace_id
    with Session(engine) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Contact)).scalar() == 80
        assert session.execute(sa.select(sa.func.count()).select_from(Segment)).scalar() == 6
        # The workspace's old conversations went with its old contacts.
        orphans = session.execute(
            sa.select(sa.func.count())
            .select_from(Conversation)
            .where(~Conversation.contact_id.in_(sa.select(Contact.id)))
        ).scalar()
        assert orphans == 0
    # Another workspace in the same database gets ids after the first one's.
    other = seed_demo(engine, 30, seed=2, workspace_slug="other", now=FIXED_NOW)
    assert other != workspace_id
    with Session(engine) as session:
        assert count_contacts(session, other, ContactQuery()) == 30
        assert count_contacts(session, workspace_id, ContactQuery()) == 80
    engine.dispose()


def test_seed_on_each_database(database_url, monkeypatch):
    """SQLite and PostgreSQL (COPY, and the Core-insert fallback for other drivers)."""
    engine = make_engine(database_url)
    try:
        workspace_id = seed_demo(engine, 200, seed=5)
        monkeypatch.setattr(seed_module._Writer, "use_copy", False)
        other_id = seed_demo(engine, 50, seed=6, workspace_slug="core-insert")
        with Session(engine) as session:
            assert count_contacts(session, workspace_id, ContactQuery()) == 200
            assert count_contacts(session, other_id, ContactQuery()) == 50
            for segment_id in session.execute(
                sa.select(Segment.id).where(Segment.workspace_id == workspace_id)
            ).scalars():
                count_contacts(session, workspace_id, ContactQuery(segment_id=segment_id))
            page = list_contacts(session, workspace_id, ContactQuery(search="gmail"))
            assert page.total > 0
            # Ids were assigned by the seeder: the sequences must have moved past them.
            contact = Contact(workspace_id=workspace_id, name="After the seed")
            session.add(contact)
            session.flush()
            assert contact.id == 251
            session.rollback()
            for contact in session.execute(sa.select(Contact)).scalars():
                assert contact.created_at.tzinfo is not None
                assert isinstance(contact.custom_fields, dict)
                assert isinstance(contact.campaign_opt_in, bool)
            conversation = session.execute(sa.select(Conversation).limit(1)).scalar_one()
            assert isinstance(conversation.custom_fields, dict)
    finally:
        engine.dispose()
