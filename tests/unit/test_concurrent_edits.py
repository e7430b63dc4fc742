"""Edits that meet: two people (or a person and a channel) changing one contact at once.

Issue 8: two edits at once to two custom fields of one contact lost one of them (69/200
rounds on SQLite, 197/200 on PostgreSQL) because the whole JSON column was rewritten; and
a value someone else changed after this tab read it was silently overwritten.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.db import session_scope
from cloodot_app.errors import EditConflict
from cloodot_app.models import Contact, CustomFieldDefinition
from cloodot_app.services.contact_edits import update_contact_field

ROUNDS = 200


@pytest.fixture
def contact_id(session: Session, workspace_id: int) -> int:
    for position, key in enumerate(("plan_note", "city")):
        session.add(
            CustomFieldDefinition(
                workspace_id=workspace_id,
                entity="contact",
                key=key,
                label=key.title(),
                type="text",
                position=position,
            )
        )
    contact = Contact(workspace_id=workspace_id, name="Ann", custom_fields={"kept": "x"})
    session.add(contact)
    session.commit()
    return contact.id


def _in_threads(*calls) -> list[BaseException]:
    """Run the calls at the same moment, each in its own thread and transaction."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        barrier.wait()
        try:
            call()
        except BaseException as error:  # collected, asserted by the caller
            errors.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _edit(engine, workspace_id, contact_id, field, value, expected=None):
    def call():
        with session_scope(engine) as session:
            update_contact_field(session, workspace_id, contact_id, field, value, expected)

    return call


def _values(engine, contact_id) -> dict:
    with session_scope(engine) as session:
        return session.execute(
            sa.select(Contact.custom_fields).where(Contact.id == contact_id)
        ).scalar_one()


def test_edits_of_different_fields_at_once_lose_nothing(engine, workspace_id, contact_id):
    for round_number in range(ROUNDS):
        errors = _in_threads(
            _edit(engine, workspace_id, contact_id, "cf.plan_note", f"note {round_number}"),
            _edit(engine, workspace_id, contact_id, "cf.city", f"city {round_number}"),
        )
        assert errors == []
        assert _values(engine, contact_id) == {
            "kept": "x",
            "plan_note": f"note {round_number}",
            "city": f"city {round_number}",
        }, f"round {round_number}"


def test_an_edit_of_a_value_changed_since_it_was_shown_is_refused(
    session, engine, workspace_id, contact_id
):
    update_contact_field(session, workspace_id, contact_id, "cf.city", "Lisbon")
    session.commit()
    # A colleague changes it while this editor still shows "Lisbon".
    update_contact_field(session, workspace_id, contact_id, "cf.city", "Porto", "Lisbon")
    session.commit()
    with pytest.raises(EditConflict, match="Changed by someone else since you opened it") as caught:
        update_contact_field(session, workspace_id, contact_id, "cf.city", "Faro", "Lisbon")
    assert caught.value.current == "Porto"
    session.rollback()
    assert _values(engine, contact_id)["city"] == "Porto"
    # "Use mine": saving again against what is there now succeeds.
    update_contact_field(session, workspace_id, contact_id, "cf.city", "Faro", "Porto")
    session.commit()
    assert _values(engine, contact_id)["city"] == "Faro"


@pytest.mark.parametrize(
    ("field", "start", "mine", "theirs"),
    [
        ("name", "Ann Lee", "Ann Park", "Ann Moss"),
        ("email", "ann@example.com", "ann@example.org", "ann@example.net"),
        ("cf.plan_note", "gold", "silver", "bronze"),
    ],
)
def test_two_saves_from_the_same_starting_value_one_wins(
    engine, workspace_id, contact_id, field, start, mine, theirs
):
    """Two tabs showed the same value and both save at the same moment: exactly one
    write lands, the other is told, and the stored value is the winner's."""
    for _ in range(20):
        _edit(engine, workspace_id, contact_id, field, start)()
        errors = _in_threads(
            _edit(engine, workspace_id, contact_id, field, mine, start),
            _edit(engine, workspace_id, contact_id, field, theirs, start),
        )
        assert len(errors) == 1 and isinstance(errors[0], EditConflict)
        assert errors[0].current in (mine, theirs)
        with session_scope(engine) as session:
            row = session.get(Contact, contact_id)
            stored = (
                row.custom_fields.get("plan_note")
                if field.startswith("cf.")
                else getattr(row, field)
            )
        # The loser was shown the winner's value, which is what is stored.
        assert stored == errors[0].current
