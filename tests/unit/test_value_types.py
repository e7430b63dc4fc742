"""Values of the wrong kind reach the services from the browser as JSON (event handlers
pass them on as they come): each is refused with a sentence and nothing is stored — never
a Python repr in the table, never an OverflowError. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from cloodot_app.errors import FieldValueError
from cloodot_app.models import Contact
from cloodot_app.services.contact_edits import update_contact_field
from cloodot_app.services.custom_fields import create_field


@pytest.fixture
def contact_id(session, workspace_id) -> int:
    for label, type_, options in (
        ("Score", "number", None),
        ("Renewal", "date", None),
        ("Plan", "select", ["Free", "Pro"]),
        ("Tags", "multi_select", ["a", "b"]),
        ("Company", "text", None),
    ):
        create_field(session, workspace_id, "contact", label, type_, options)
    contact = Contact(workspace_id=workspace_id, name="Ana", custom_fields={"score": 1})
    session.add(contact)
    session.commit()
    return contact.id


CASES = [
    ("name", {"first": "Ana"}, "not an object"),
    ("name", ["Ana"], "not a list"),
    ("name", True, "not true or false"),
    ("name", "Ana\x00", "NUL"),
    ("email", {"a": 1}, "not an object"),
    ("phone", 34612345678 * 10**30, "not that number"),
    ("image_url", ["https://x.com"], "not a list"),
    ("cf.score", 10**400, r"between -10\^15 and 10\^15"),
    ("cf.score", "1e400", "finite"),
    ("cf.score", {"value": 1}, "Enter a number"),
    ("cf.renewal", "0001-01-01", "between the years 1900 and 2999"),
    ("cf.renewal", "9999-12-31", "between the years 1900 and 2999"),
    ("cf.renewal", 20260101, "Pick a date"),
    ("cf.plan", {"Pro": True}, "not an object"),
    ("cf.plan", ["Pro"], "not a list"),
    ("cf.tags", {"a": 1}, "Choose from the options"),
    ("cf.tags", [["a"]], "is not one of the options"),
    ("cf.company", {"name": "Acme"}, "not an object"),
    ("cf.company", "Acme\x00", "NUL"),
]


@pytest.mark.parametrize(
    ("field", "raw", "needle"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_a_value_of_the_wrong_kind_is_refused_and_nothing_stored(
    session, workspace_id, contact_id, field, raw, needle
):
    with pytest.raises(FieldValueError, match=needle):
        update_contact_field(session, workspace_id, contact_id, field, raw)
    session.rollback()
    contact = session.get(Contact, contact_id)
    session.refresh(contact)
    assert contact.name == "Ana"
    assert contact.email is None and contact.phone is None and contact.image_url is None
    assert contact.custom_fields == {"score": 1}


def test_values_of_the_right_kind_are_still_stored(session, workspace_id, contact_id):
    assert update_contact_field(session, workspace_id, contact_id, "cf.score", 999_999_999) == (
        999_999_999
    )
    assert update_contact_field(session, workspace_id, contact_id, "cf.renewal", "2999-12-31")
    assert update_contact_field(session, workspace_id, contact_id, "name", "  Ana B ") == "Ana B"
    session.commit()
    contact = session.get(Contact, contact_id)
    session.refresh(contact)
    assert contact.name == "Ana B"
    assert contact.custom_fields == {"score": 999_999_999, "renewal": "2999-12-31"}
