"""contact.has_conversations (revision e5b7c9d1f3a2), on SQLite and PostgreSQL.

The "Has conversations" filter reads this column instead of probing `conversation` once
per contact, so it must be true exactly when a conversation of the contact exists,
whoever writes: the revision fills it for existing data and its triggers keep it so
through inserts (one row or many in one statement), deletes, a conversation moved to
another contact (a merge), a contact deleted with its conversations, and the services."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from alembic import command
from cloodot_app import db
from cloodot_app.db import alembic_config, make_engine
from cloodot_app.models import Contact, Conversation
from cloodot_app.services.contact_merges import merge_contacts
from cloodot_app.services.ingestion import IncomingMessage, ingest_message
from tests.conftest import DIALECTS
from tests.unit.migration_helpers import (
    assert_nothing_lost,
    build_at,
    fill_representative,
    fresh_database,
    snapshot,
    upgrade_to,
)

BEFORE = "3f9c2d1a8b7e"  # last_interaction_nulls_first_pg
REVISION = "e5b7c9d1f3a2"
INDEX = "ix_contact_ws_conversations_last_interaction"

TRUTH = """SELECT contact.id, contact.has_conversations,
    EXISTS (SELECT 1 FROM conversation WHERE conversation.contact_id = contact.id)
    FROM contact ORDER BY contact.id"""


def flags_and_truth(connection: sa.Connection) -> list[tuple[int, bool, bool]]:
    return [(i, bool(flag), bool(truth)) for i, flag, truth in connection.execute(sa.text(TRUTH))]


def assert_flags_true(engine: sa.Engine) -> list[tuple[int, bool, bool]]:
    with engine.connect() as connection:
        rows = flags_and_truth(connection)
    wrong = [row for row in rows if row[1] != row[2]]
    assert not wrong, f"(id, flag, has a conversation) disagree: {wrong[:5]}"
    return rows


# --------------------------------------------------------------------------- the revision


@pytest.fixture(params=DIALECTS)
def empty_database_url(request, tmp_path):
    yield from fresh_database(request, tmp_path)


def _indexes(engine: sa.Engine) -> set[str]:
    return {index["name"] for index in sa.inspect(engine).get_indexes("contact")}


def test_the_revision_fills_the_flag_and_keeps_every_row(empty_database_url):
    url = empty_database_url
    build_at(url, BEFORE)
    fill_representative(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:  # a contact with no conversation at all
            workspace = connection.execute(sa.text("SELECT min(id) FROM workspace")).scalar()
            connection.execute(
                sa.text(
                    "INSERT INTO contact (workspace_id, name, avatar_color, channel, created_at,"
                    " updated_at, campaign_opt_in, custom_fields)"
                    " VALUES (:w, 'Quiet Quinn', 'indigo', 'imported', CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP, false, '{}')"
                ),
                {"w": workspace},
            )
        before = snapshot(url)
        upgrade_to(url, REVISION)
        assert_nothing_lost(before, snapshot(url))
        rows = assert_flags_true(engine)
        assert {flag for _, flag, _ in rows} == {True, False}
        assert INDEX in _indexes(engine)
        # The triggers came with it.
        with engine.begin() as connection:
            quiet = connection.execute(
                sa.text("SELECT id FROM contact WHERE name = 'Quiet Quinn'")
            ).scalar_one()
            connection.execute(
                sa.text(
                    "INSERT INTO conversation (workspace_id, contact_id, channel, status,"
                    " created_at, updated_at, custom_fields)"
                    " VALUES (:w, :c, 'whatsapp', 'open', CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP, '{}')"
                ),
                {"w": workspace, "c": quiet},
            )
        assert_flags_true(engine)

        command.downgrade(alembic_config(url), BEFORE)
        assert "has_conversations" not in {
            column["name"] for column in sa.inspect(engine).get_columns("contact")
        }
        assert INDEX not in _indexes(engine)
        assert_nothing_lost(before, snapshot(url), removed={}, changed={})
        with engine.begin() as connection:  # no trigger left naming the dropped column
            connection.execute(
                sa.text("DELETE FROM conversation WHERE contact_id = :c"), {"c": quiet}
            )
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- the triggers


def add_contact(session, workspace_id: int, name: str) -> int:
    contact = Contact(workspace_id=workspace_id, name=name)
    session.add(contact)
    session.flush()
    return contact.id or 0


def add_conversation(session, workspace_id: int, contact_id: int) -> int:
    conversation = Conversation(
        workspace_id=workspace_id, contact_id=contact_id, channel="whatsapp"
    )
    session.add(conversation)
    session.flush()
    return conversation.id or 0


def flag(engine: sa.Engine, contact_id: int) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.execute(
                sa.select(Contact.has_conversations).where(Contact.id == contact_id)
            ).scalar_one()
        )


def test_inserts_deletes_and_moves_keep_the_flag(engine, workspace_id):
    with db.session_scope(engine) as session:
        ann = add_contact(session, workspace_id, "Ann")
        ben = add_contact(session, workspace_id, "Ben")
    assert (flag(engine, ann), flag(engine, ben)) == (False, False)

    with db.session_scope(engine) as session:
        first = add_conversation(session, workspace_id, ann)
        second = add_conversation(session, workspace_id, ann)
    assert (flag(engine, ann), flag(engine, ben)) == (True, False)

    with engine.begin() as connection:  # one of two gone: still has one
        connection.execute(sa.delete(Conversation).where(Conversation.id == first))
    assert flag(engine, ann) is True

    with engine.begin() as connection:  # moved to Ben (what a merge does)
        connection.execute(
            sa.update(Conversation).where(Conversation.id == second).values(contact_id=ben)
        )
    assert (flag(engine, ann), flag(engine, ben)) == (False, True)

    with engine.begin() as connection:  # an update that does not move it changes nothing
        connection.execute(
            sa.update(Conversation).where(Conversation.id == second).values(status="closed")
        )
    assert (flag(engine, ann), flag(engine, ben)) == (False, True)

    with engine.begin() as connection:
        connection.execute(sa.delete(Conversation).where(Conversation.id == second))
    assert (flag(engine, ann), flag(engine, ben)) == (False, False)
    assert_flags_true(engine)


def test_many_rows_in_one_statement_and_a_contact_deleted_with_them(engine, workspace_id):
    with db.session_scope(engine) as session:
        ids = [add_contact(session, workspace_id, f"Person {n}") for n in range(6)]
    with engine.begin() as connection:  # one INSERT of several rows (PostgreSQL: one trigger)
        connection.execute(
            sa.insert(Conversation),
            [
                {
                    "workspace_id": workspace_id,
                    "contact_id": contact_id,
                    "channel": "whatsapp",
                    "custom_fields": {},
                }
                for contact_id in (ids[0], ids[0], ids[1], ids[2])
            ],
        )
    assert [flag(engine, i) for i in ids] == [True, True, True, False, False, False]
    with engine.begin() as connection:  # one DELETE of several rows
        connection.execute(sa.delete(Conversation).where(Conversation.contact_id.in_(ids[:2])))
        connection.execute(sa.delete(Contact).where(Contact.id == ids[2]))  # cascades
    assert [flag(engine, i) for i in (ids[0], ids[1])] == [False, False]
    assert_flags_true(engine)


def test_the_services_get_it_right_without_a_line_of_their_own(engine, workspace_id):
    with db.session_scope(engine) as session:
        ingest_message(
            session,
            workspace_id,
            "whatsapp",
            IncomingMessage(external_id="+15550001", text="Hello", name="Dan Dale"),
        )
        quiet = add_contact(session, workspace_id, "Dan Dale")
    with db.session_scope(engine) as session:
        dan = session.execute(
            sa.select(Contact.id).where(Contact.external_id == "+15550001")
        ).scalar_one()
    assert (flag(engine, dan), flag(engine, quiet)) == (True, False)
    with db.session_scope(engine) as session:  # the quiet one is kept, Dan merged into it
        merge_contacts(session, workspace_id, quiet, [dan])
    assert flag(engine, quiet) is True
    assert_flags_true(engine)
