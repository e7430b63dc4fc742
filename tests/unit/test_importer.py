"""CSV import: reading files, guessing the mapping, preview, and the import itself.

Everything that touches the database runs on SQLite and on PostgreSQL (the `engine` /
`session` fixtures of tests/conftest.py).
"""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import db
from cloodot_app.models import Contact, ContactLabel, CustomFieldDefinition, Label, Workspace
from cloodot_app.services import importer
from cloodot_app.services.contacts import ContactQuery, list_contacts
from cloodot_app.services.importer import (
    NO_IDENTITY_MESSAGE,
    CsvImportError,
    ImportInterrupted,
    ImportReport,
    RowError,
    avatar_color,
    guess_mapping,
    import_targets,
    parse_opt_in,
    preview,
    read_csv,
    run_import,
    validate_mapping,
)

FORMULA = "=cmd|' /C calc'!A0"


# --------------------------------------------------------------------------- helpers


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def definition(key: str, label: str, type_: str, options: list[str] | None = None, **kw):
    return CustomFieldDefinition(
        workspace_id=kw.get("workspace_id", 0),
        entity=kw.get("entity", "contact"),
        key=key,
        label=label,
        type=type_,
        options=options or [],
    )


@pytest.fixture
def factory(engine: sa.Engine):
    return partial(db.session_scope, engine)


@pytest.fixture
def setup(session: Session, workspace_id: int) -> dict[str, int]:
    """Custom fields (plan: select, score: number, birthday: date, tags: multi_select)
    and two labels (VIP, Newsletter). Returns the label ids by name."""
    for key, label, type_, options in (
        ("plan", "Plan", "select", ["Free", "Pro"]),
        ("score", "Score", "number", []),
        ("birthday", "Birthday", "date", []),
        ("interests", "Interests", "multi_select", ["Shoes", "Bags", "Hats"]),
        ("company", "Company", "text", []),
    ):
        session.add(
            CustomFieldDefinition(
                workspace_id=workspace_id,
                entity="contact",
                key=key,
                label=label,
                type=type_,
                options=options,
            )
        )
    labels = {}
    for name in ("VIP", "Newsletter"):
        label = Label(workspace_id=workspace_id, name=name)
        session.add(label)
        session.flush()
        labels[name] = label.id
    session.commit()
    return labels


def contacts(engine: sa.Engine, workspace_id: int) -> list[Contact]:
    with Session(engine) as fresh:
        return list(
            fresh.execute(
                sa.select(Contact).where(Contact.workspace_id == workspace_id).order_by(Contact.id)
            ).scalars()
        )


def by_email(engine: sa.Engine, workspace_id: int) -> dict[str, Contact]:
    return {c.email: c for c in contacts(engine, workspace_id) if c.email}


def label_names(engine: sa.Engine, contact_id: int) -> list[str]:
    with Session(engine) as fresh:
        return sorted(
            fresh.execute(
                sa.select(Label.name)
                .join(ContactLabel, ContactLabel.label_id == Label.id)
                .where(ContactLabel.contact_id == contact_id)
            ).scalars()
        )


def identity(headers: list[str]) -> dict[str, str]:
    """Map each header to the built-in of the same (lower-case) name."""
    return {h: h.lower().replace(" ", "_") for h in headers}


def do_import(factory, workspace_id: int, data: bytes, mapping=None, **kwargs) -> ImportReport:
    parsed = read_csv(data)
    return run_import(factory, workspace_id, parsed, mapping or identity(parsed.headers), **kwargs)


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# --------------------------------------------------------------------------- reading


def test_read_csv_basic():
    parsed = read_csv(csv_bytes(" Name , Email", "Ana,ana@example.com", "Bob,bob@example.com"))
    assert parsed.headers == ["Name", "Email"]
    assert parsed.total_rows == 2
    assert parsed.delimiter == ","
    assert parsed.encoding == "utf-8"
    assert [rows for rows in parsed.chunks(1)] == [
        [(2, ["Ana", "ana@example.com"])],
        [(3, ["Bob", "bob@example.com"])],
    ]
    assert parsed.sample_values("Name") == ["Ana", "Bob"]


def test_read_csv_keeps_every_cell_a_string():
    parsed = read_csv(csv_bytes("Name,Zip,Score,Flag", "Ana,007,1.50,NA", "Bob,,NULL,TRUE"))
    rows = [cells for chunk in parsed.chunks() for _, cells in chunk]
    assert rows == [["Ana", "007", "1.50", "NA"], ["Bob", "", "NULL", "TRUE"]]


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolon"), ("\t", "tab"), (",", "comma")])
def test_read_csv_detects_the_delimiter(delimiter, name):
    lines = [
        delimiter.join(["Name", "Email", "Notes"]),
        delimiter.join(["Ana", "ana@example.com", '"likes red, blue; green"']),
        delimiter.join(["Bob", "bob@example.com", "x"]),
    ]
    parsed = read_csv(csv_bytes(*lines))
    assert parsed.delimiter == delimiter
    assert parsed.delimiter_name == name
    assert parsed.headers == ["Name", "Email", "Notes"]
    first = next(parsed.chunks())[0]
    assert first == (2, ["Ana", "ana@example.com", "likes red, blue; green"])


def test_read_csv_single_column():
    parsed = read_csv(csv_bytes("Email", "ana@example.com", "bob@example.com"))
    assert parsed.headers == ["Email"]
    assert parsed.total_rows == 2


def test_read_csv_cp1252_with_accents():
    data = csv_bytes("Name;Email", "José Müller;jose@example.com", encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    parsed = read_csv(data)
    assert parsed.encoding == "cp1252"
    assert next(parsed.chunks())[0][1] == ["José Müller", "jose@example.com"]


def test_read_csv_utf8_with_bom():
    data = b"\xef\xbb\xbf" + csv_bytes("Name,Email", "José,jose@example.com")
    parsed = read_csv(data)
    assert parsed.encoding == "utf-8-sig"
    assert parsed.headers == ["Name", "Email"]  # no "\ufeffName"
    assert next(parsed.chunks())[0][1] == ["José", "jose@example.com"]


def test_read_csv_utf16_with_bom():
    data = "Name\tEmail\r\nJosé\tjose@example.com\r\n".encode("utf-16")
    parsed = read_csv(data)
    assert (parsed.encoding, parsed.delimiter) == ("utf-16", "\t")
    assert next(parsed.chunks())[0][1] == ["José", "jose@example.com"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"  \r\n\r\n", "The file is empty."),
        (csv_bytes("Name,Email"), "The file has a header row but no contacts."),
        (csv_bytes("Name,Email", "", " , "), "The file has a header row but no contacts."),
        (csv_bytes(",,"), "The file has no header row."),
        (csv_bytes("Ana,ana@example.com"), "it looks like a contact"),
        (csv_bytes("Name,+44 20 7946 0958"), "it looks like a contact"),
        (
            csv_bytes("Name,Email, Email ,Phone", "a,b,c,d"),
            "Two columns have the same name (“Email”)",
        ),
        (b"PK\x03\x04\x00\x00binary", "does not look like a CSV file"),
        (csv_bytes("Name,Email", "Ana,a@x.com,extra"), "Row 2 has 3 values but the header has 2"),
        (csv_bytes("Name,Email", 'Ana,"a@x.com'), 'a quote (") is not closed'),
    ],
)
def test_read_csv_refuses(data, message):
    with pytest.raises(CsvImportError) as error:
        read_csv(data)
    assert message in str(error.value)


def test_read_csv_case_differing_headers_are_not_duplicates():
    # Only exact (stripped) duplicates are refused; "Email" and "email " are two names.
    parsed = read_csv(csv_bytes("Name,Email,email2", "a,b,c"))
    assert parsed.headers == ["Name", "Email", "email2"]


def test_read_csv_limits(monkeypatch):
    monkeypatch.setattr(importer.parse, "MAX_ROWS", 3)
    read_csv(csv_bytes("Name", "a", "b", "c"))
    with pytest.raises(CsvImportError, match="at most 3 at a time"):
        read_csv(csv_bytes("Name", "a", "b", "c", "d"))
    monkeypatch.setattr(importer.parse, "MAX_BYTES", 20)
    with pytest.raises(CsvImportError, match="larger than"):
        read_csv(b"Name\r\n" + b"a\r\n" * 10)


def test_read_csv_row_numbers_count_blank_and_multiline_rows():
    data = csv_bytes("", "Name,Notes", "Ana,one", "", 'Bob,"two', 'lines"', "Cy,three")
    parsed = read_csv(data)
    # Line 1 blank, header on 2; Ana 3; blank 4; Bob 5 (one spreadsheet row); Cy 6.
    assert [number for chunk in parsed.chunks() for number, _ in chunk] == [3, 5, 6]
    assert parsed.total_rows == 3


def test_read_csv_names_unnamed_columns():
    parsed = read_csv(csv_bytes("Name,Email,", "Ana,ana@example.com,"))
    assert parsed.headers == ["Name", "Email", "Column 3"]


# --------------------------------------------------------------------------- mapping


def test_guess_mapping_typical_headers():
    definitions = [
        definition("plan", "Plan", "select", ["Free", "Pro"]),
        definition("company_size", "Company size", "number"),
        definition("topic", "Topic", "text", entity="conversation"),
    ]
    headers = [
        "Full name",
        "E-mail",
        "Phone number",
        "Mobile",
        "Opt-in",
        "Tags",
        "PLAN",
        "company_size",
        "Topic",
        "Notes",
    ]
    assert guess_mapping(headers, definitions) == {
        "Full name": "name",
        "E-mail": "email",
        "Phone number": "phone",
        "Mobile": "",  # phone is taken by the first column that matches
        "Opt-in": "campaign_opt_in",
        "Tags": "labels",
        "PLAN": "cf.plan",
        "company_size": "cf.company_size",
        "Topic": "",  # a conversation field is not an import target
        "Notes": "",
    }


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Name", "name"),
        ("Contact name", "name"),
        ("First Name", "first_name"),
        ("first_name", "first_name"),
        ("Given name", "first_name"),
        ("Surname", "last_name"),
        ("Last-Name", "last_name"),
        ("Email Address", "email"),
        ("Mail", "email"),
        ("Customer e-mail", "email"),
        ("WhatsApp", "phone"),
        ("Mobile phone", "phone"),
        ("Tel.", "phone"),
        ("Work phone", "phone"),
        ("Campaign opt-in", "campaign_opt_in"),
        ("Subscribed", "campaign_opt_in"),
        ("Labels", "labels"),
        ("Tag", "labels"),
        ("Prénom", "first_name"),
        ("Address", ""),
        ("Company", ""),
    ],
)
def test_guess_mapping_synonyms(header, target):
    assert guess_mapping([header], []) == {header: target}


def test_guess_mapping_prefers_builtin_names_then_custom_fields():
    definitions = [definition("whatsapp", "WhatsApp", "phone")]
    mapping = guess_mapping(["WhatsApp", "Phone", "Email"], definitions)
    assert mapping == {"WhatsApp": "cf.whatsapp", "Phone": "phone", "Email": "email"}


def test_import_targets():
    targets = import_targets([definition("plan", "Plan", "select")])
    assert targets[0] == ("", "Don't import")
    assert ("email", "Email") in targets
    assert targets[-1] == ("cf.plan", "Plan")


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"Nope": "name"}, "The file has no column “Nope”."),
        ({"Name": "cf.missing"}, "cannot be imported into “cf.missing”"),
        ({"Name": "email", "Email": "email"}, "Both “Name” and “Email” are set to Email"),
        ({"Name": "", "Email": "labels"}, "Choose the column that holds the name"),
    ],
)
def test_validate_mapping_refuses(mapping, message):
    with pytest.raises(CsvImportError) as error:
        validate_mapping(["Name", "Email"], mapping, [])
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", True),
        ("Y", True),
        ("TRUE", True),
        ("1", True),
        ("Opted in", True),
        ("opt-in", True),
        ("no", False),
        ("False", False),
        ("0", False),
        ("unsubscribed", False),
        ("", None),
    ],
)
def test_parse_opt_in(raw, expected):
    assert parse_opt_in(raw) == expected


def test_avatar_color_is_deterministic():
    assert avatar_color("Ana Lima") == avatar_color("Ana Lima")
    assert len({avatar_color(name) for name in ("Ana", "Bob", "Cy", "Dee", "Eve", "Fay")}) > 1


# --------------------------------------------------------------------------- importing


GOOD = csv_bytes(
    "Name,Email,Phone,Opt-in,Plan,Score,Birthday,Interests,Company",
    'Ana Lima,Ana@Example.COM,+44 20 7946 0958,yes,Pro,"1,200",1990-05-01,"shoes, Bags",Acme',
    "Bob Ray,bob@example.com,,no,,,,,",
    ",,0044 20 7946 0959,,,,,,",
)
GOOD_MAPPING = {
    "Name": "name",
    "Email": "email",
    "Phone": "phone",
    "Opt-in": "campaign_opt_in",
    "Plan": "cf.plan",
    "Score": "cf.score",
    "Birthday": "cf.birthday",
    "Interests": "cf.interests",
    "Company": "cf.company",
}


def test_import_good_rows(engine, factory, workspace_id, setup):
    report = do_import(factory, workspace_id, GOOD, GOOD_MAPPING)
    assert (report.created, report.updated, report.skipped, report.failed) == (3, 0, 0, 0)
    assert report.total_rows == 3 and report.errors == [] and report.warnings == []
    ana, bob, third = contacts(engine, workspace_id)
    assert ana.name == "Ana Lima"
    assert ana.email == "ana@example.com"
    assert ana.phone == "+442079460958"
    assert ana.phone_digits == "442079460958"
    assert ana.channel == "imported"
    assert ana.campaign_opt_in is True
    assert ana.avatar_color == avatar_color("Ana Lima")
    assert ana.created_at is not None and ana.updated_at is not None
    assert ana.custom_fields == {
        "plan": "Pro",
        "score": 1200,
        "birthday": "1990-05-01",
        "interests": ["Shoes", "Bags"],
        "company": "Acme",
    }
    assert (bob.name, bob.phone, bob.phone_digits, bob.campaign_opt_in) == (
        "Bob Ray",
        None,
        None,
        False,
    )
    assert bob.custom_fields == {}
    # No name: named after the phone (or the email when there is one).
    assert (third.name, third.phone, third.email) == ("+442079460959", "+442079460959", None)


def test_import_bumps_data_version_once_per_chunk(engine, factory, workspace_id):
    rows = [f"P{i},p{i}@example.com" for i in range(5)]
    report = do_import(factory, workspace_id, csv_bytes("Name,Email", *rows), chunk_size=2)
    assert report.created == 5
    with Session(engine) as fresh:
        assert fresh.get(Workspace, workspace_id).data_version == 3


def test_import_bad_values_per_row(engine, factory, workspace_id, setup):
    data = csv_bytes(
        "Name,Email,Phone,Plan,Score,Birthday,Opt-in",
        "Good,good@example.com,,Free,3,2020-01-31,yes",
        "Bad email,not-an-email,,,,,",
        "Bad phone,,12345,,,,",
        "Bad plan,,,Gold,,,",
        "",
        "Bad score,,,,lots,,",
        "Bad date,,,,,31/01/2020,",
        ",,,Pro,,,",
        "Bad opt-in,,,,,,maybe",
        "Two errors,x@,+1,,,,",
    )
    mapping = {
        "Name": "name",
        "Email": "email",
        "Phone": "phone",
        "Plan": "cf.plan",
        "Score": "cf.score",
        "Birthday": "cf.birthday",
        "Opt-in": "campaign_opt_in",
    }
    report = do_import(factory, workspace_id, data, mapping)
    assert (report.created, report.failed) == (1, 8)
    found = [(e.row_number, e.column, e.value) for e in report.errors]
    assert found == [
        (3, "Email", "not-an-email"),
        (4, "Phone", "12345"),
        (5, "Plan", "Gold"),
        (7, "Score", "lots"),  # row 6 is blank: skipped, but counted
        (8, "Birthday", "31/01/2020"),
        (9, "", ""),
        (10, "Opt-in", "maybe"),
        (11, "Email", "x@"),
        (11, "Phone", "+1"),
    ]
    messages = {e.row_number: e.message for e in report.errors}
    assert messages[3].startswith("That is not a valid email address")
    assert messages[5] == "“Gold” is not one of the options: Free, Pro."
    assert messages[7] == "“lots” is not a number."
    assert messages[8] == "Pick a date (YYYY-MM-DD)."
    assert messages[9] == NO_IDENTITY_MESSAGE
    assert messages[10] == "“maybe” is not yes or no."
    # Failed rows are not written at all.
    assert [c.name for c in contacts(engine, workspace_id)] == ["Good"]


def test_import_first_and_last_name(engine, factory, workspace_id):
    data = csv_bytes(
        "First name,Last name,Email",
        "Ana,Lima,ana@example.com",
        "Bob,,bob@example.com",
        ",Ray,ray@example.com",
        ",,cy@example.com",
    )
    mapping = {"First name": "first_name", "Last name": "last_name", "Email": "email"}
    report = do_import(factory, workspace_id, data, mapping)
    assert report.created == 4
    assert [c.name for c in contacts(engine, workspace_id)] == [
        "Ana Lima",
        "Bob",
        "Ray",
        "cy@example.com",
    ]


def test_import_name_column_wins_over_first_and_last(engine, factory, workspace_id):
    data = csv_bytes("Name,First,Last,Email", "Ana L.,Ana,Lima,a@example.com", ",Bob,Ray,b@x.com")
    mapping = {"Name": "name", "First": "first_name", "Last": "last_name", "Email": "email"}
    do_import(factory, workspace_id, data, mapping)
    assert [c.name for c in contacts(engine, workspace_id)] == ["Ana L.", "Bob Ray"]


def test_import_too_long_name_fails(engine, factory, workspace_id):
    report = do_import(factory, workspace_id, csv_bytes("Name", "x" * 201, "ok"))
    assert report.failed == 1 and report.created == 1
    assert report.errors[0].message == "Keep the name under 200 characters."


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_import_other_delimiters(engine, factory, workspace_id, delimiter):
    data = csv_bytes(
        delimiter.join(["Name", "Email"]),
        delimiter.join(["Ana, the first", "ana@example.com"]),
    )
    report = do_import(factory, workspace_id, data)
    assert report.created == 1
    assert contacts(engine, workspace_id)[0].name == "Ana, the first"


def test_import_cp1252_file(engine, factory, workspace_id):
    data = csv_bytes("Name;Email", "José Núñez;jose@example.com", encoding="cp1252")
    do_import(factory, workspace_id, data)
    assert contacts(engine, workspace_id)[0].name == "José Núñez"


def test_import_utf8_bom_file(engine, factory, workspace_id):
    data = b"\xef\xbb\xbf" + csv_bytes("Name,Email", "José,jose@example.com")
    report = do_import(factory, workspace_id, data)
    assert report.created == 1
    assert contacts(engine, workspace_id)[0].name == "José"


def existing(session: Session, workspace_id: int, **values: Any) -> int:
    contact = Contact(workspace_id=workspace_id, channel="whatsapp", **values)
    session.add(contact)
    session.commit()
    assert contact.id is not None
    return contact.id


def test_duplicates_skip(engine, factory, session, workspace_id, setup):
    ana = existing(
        session, workspace_id, name="Ana", email="ana@example.com", custom_fields={"plan": "Free"}
    )
    bob = existing(session, workspace_id, name="Bob", phone="+442079460958")
    data = csv_bytes(
        "Name,Email,Phone,Plan",
        "Ana New,ANA@example.com,,Pro",  # same email
        "Bob New,,+44 20 7946 0958,Pro",  # same phone
        "Cy,cy@example.com,,",
        "Cy again,Cy@Example.com,,Pro",  # same email as the row before
        "Dee,,+44 20 7946 0111,",
        "Dee again,dee@example.com,0044 20 7946 0111,",  # same phone as an earlier row
    )
    mapping = {"Name": "name", "Email": "email", "Phone": "phone", "Plan": "cf.plan"}
    report = do_import(factory, workspace_id, data, mapping, on_duplicate="skip")
    assert (report.created, report.updated, report.skipped, report.failed) == (2, 0, 4, 0)
    rows = contacts(engine, workspace_id)
    assert [(c.id, c.name, c.email) for c in rows[:2]] == [
        (ana, "Ana", "ana@example.com"),
        (bob, "Bob", None),
    ]
    assert rows[0].custom_fields == {"plan": "Free"}
    assert [(c.name, c.email, c.phone) for c in rows[2:]] == [
        ("Cy", "cy@example.com", None),
        ("Dee", None, "+442079460111"),
    ]


def test_duplicates_within_the_file_across_chunks(engine, factory, workspace_id):
    data = csv_bytes("Name,Email", "A,a@example.com", "B,b@example.com", "A2,A@example.com")
    report = do_import(factory, workspace_id, data, chunk_size=1)
    assert (report.created, report.skipped) == (2, 1)
    report = do_import(factory, workspace_id, data, on_duplicate="update", chunk_size=2)
    assert (report.created, report.updated) == (0, 3)
    assert [c.name for c in contacts(engine, workspace_id)] == ["A2", "B"]


def test_duplicates_update(engine, factory, session, workspace_id, setup):
    ana = existing(
        session,
        workspace_id,
        name="Ana",
        email="ana@example.com",
        phone="+442079460000",
        phone_digits="442079460000",
        campaign_opt_in=True,
        custom_fields={"plan": "Free", "company": "Old Co"},
    )
    bob = existing(session, workspace_id, name="Bob", phone="+442079460958")
    session.add(ContactLabel(contact_id=ana, label_id=setup["VIP"]))
    session.commit()
    data = csv_bytes(
        "Name,Email,Phone,Opt-in,Plan,Score,Labels",
        # Empty cells leave the stored values alone; labels are only ever added.
        ",ANA@example.com,,,Pro,,newsletter",
        "Bob Ray,bob@example.com,+44 20 7946 0958,yes,,7,",
        "Cy,cy@example.com,,,,,",
        "Cy Again,cy@example.com,+44 20 7946 0333,,Free,,VIP",
        # Matches Bob through the email the second row just gave him.
        "Robert,BOB@example.com,,,,,",
    )
    mapping = {
        "Name": "name",
        "Email": "email",
        "Phone": "phone",
        "Opt-in": "campaign_opt_in",
        "Plan": "cf.plan",
        "Score": "cf.score",
        "Labels": "labels",
    }
    report = do_import(factory, workspace_id, data, mapping, on_duplicate="update")
    assert (report.created, report.updated, report.skipped, report.failed) == (1, 4, 0, 0)
    rows = {c.id: c for c in contacts(engine, workspace_id)}
    assert len(rows) == 3
    a = rows[ana]
    assert (a.name, a.email, a.phone, a.campaign_opt_in) == (
        "Ana",
        "ana@example.com",
        "+442079460000",
        True,
    )
    assert a.custom_fields == {"plan": "Pro", "company": "Old Co"}
    assert label_names(engine, ana) == ["Newsletter", "VIP"]
    b = rows[bob]
    assert (b.name, b.email, b.phone, b.channel, b.campaign_opt_in) == (
        "Robert",
        "bob@example.com",
        "+442079460958",
        "whatsapp",  # an update does not change where the contact came from
        True,
    )
    assert b.custom_fields == {"score": 7}
    (cy,) = (c for c in rows.values() if c.id not in (ana, bob))
    assert (cy.name, cy.phone, cy.phone_digits, cy.channel) == (
        "Cy Again",
        "+442079460333",
        "442079460333",
        "imported",
    )
    assert cy.custom_fields == {"plan": "Free"}
    assert label_names(engine, cy.id) == ["VIP"]


def test_workspace_isolation(engine, factory, session, make_workspace, workspace_id):
    other = make_workspace("other", "Other")
    theirs = existing(session, other, name="Theirs", email="ana@example.com")
    data = csv_bytes("Name,Email", "Ana,ana@example.com")
    report = do_import(factory, workspace_id, data, on_duplicate="update")
    assert (report.created, report.updated) == (1, 0)
    assert [c.name for c in contacts(engine, other)] == ["Theirs"]
    assert contacts(engine, other)[0].id == theirs
    assert [c.name for c in contacts(engine, workspace_id)] == ["Ana"]


def test_labels_by_name(engine, factory, workspace_id, setup, make_workspace, session):
    other = make_workspace("other", "Other")
    session.add(Label(workspace_id=other, name="Elsewhere"))
    session.commit()
    data = csv_bytes(
        "Name,Tags",
        'Ana,"vip, Newsletter"',
        "Bob,VIP; Unknown; vip",
        "Cy,Elsewhere",
        "Dee,",
    )
    report = do_import(factory, workspace_id, data, {"Name": "name", "Tags": "labels"})
    assert report.created == 4 and report.failed == 0
    assert [(w.row_number, w.column, w.value, w.message) for w in report.warnings] == [
        (3, "Tags", "Unknown", "Unknown label “Unknown”: the contact was imported without it."),
        (4, "Tags", "Elsewhere", "Unknown label “Elsewhere”: the contact was imported without it."),
    ]
    ana, bob, cy, dee = contacts(engine, workspace_id)
    assert label_names(engine, ana.id) == ["Newsletter", "VIP"]
    assert label_names(engine, bob.id) == ["VIP"]
    assert label_names(engine, cy.id) == []
    assert label_names(engine, dee.id) == []
    with Session(engine) as fresh:
        assert fresh.execute(sa.select(sa.func.count()).select_from(Label)).scalar_one() == 3


def test_progress_is_reported(factory, workspace_id):
    rows = [f"P{i},p{i}@example.com" for i in range(7)]
    calls: list[tuple[int, int]] = []
    report = do_import(
        factory,
        workspace_id,
        csv_bytes("Name,Email", *rows),
        chunk_size=3,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert report.created == 7
    assert calls == [(0, 7), (3, 7), (6, 7), (7, 7)]


def test_progress_can_stop_the_import(engine, factory, workspace_id):
    rows = [f"P{i},p{i}@example.com" for i in range(6)]

    def stop(done: int, total: int) -> None:
        if done >= 2:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        do_import(
            factory, workspace_id, csv_bytes("Name,Email", *rows), chunk_size=2, progress=stop
        )
    assert len(contacts(engine, workspace_id)) == 2  # the committed chunk stays


def test_invalid_mapping_or_mode_writes_nothing(engine, factory, workspace_id):
    parsed = read_csv(csv_bytes("Name,Email", "Ana,a@example.com"))
    with pytest.raises(CsvImportError):
        run_import(factory, workspace_id, parsed, {"Name": "bogus"})
    with pytest.raises(CsvImportError):
        run_import(factory, workspace_id, parsed, {"Name": "name"}, on_duplicate="merge")
    assert contacts(engine, workspace_id) == []


def test_imported_contact_is_found_by_search(engine, factory, session, workspace_id):
    data = csv_bytes("Name,Email,Phone", "Zoltán Kovács,zk@example.com,+36 1 234 5678")
    do_import(factory, workspace_id, data)
    session.rollback()
    for term in ("Kovács", "zk@exa", "2345678", "Zo"):
        page = list_contacts(session, workspace_id, ContactQuery(search=term))
        assert [row.name for row in page.rows] == ["Zoltán Kovács"], term


def test_formula_values_round_trip_as_text(engine, factory, workspace_id, setup):
    data = csv_bytes(
        "Name,Email,Company",
        f'"{FORMULA}",safe@example.com,@SUM(A1)',
        '"=HYPERLINK(""http://x"")",=1+2,',
    )
    mapping = {"Name": "name", "Email": "email", "Company": "cf.company"}
    report = do_import(factory, workspace_id, data, mapping)
    assert (report.created, report.failed) == (1, 1)
    (contact,) = contacts(engine, workspace_id)
    assert contact.name == FORMULA
    assert contact.custom_fields == {"company": "@SUM(A1)"}
    assert report.errors[0].value == "=1+2"


# --------------------------------------------------------------------------- errors file


def test_errors_csv():
    report = ImportReport(
        total_rows=4,
        failed=2,
        errors=[
            RowError(5, "Email", "=1+2", "That is not a valid email address."),
            RowError(2, "Phone", "12,3", 'Say "hi"'),
        ],
        warnings=[RowError(3, "-Tags", FORMULA, "Unknown label “x”")],
    )
    text = report.errors_csv()
    assert text.startswith("Row,Column,Value,Message\r\n")
    assert text.endswith("\r\n")
    assert csv_rows(text) == [
        ["Row", "Column", "Value", "Message"],
        ["2", "Phone", "12,3", 'Say "hi"'],
        ["3", "'-Tags", "'" + FORMULA, "Unknown label “x”"],
        ["5", "Email", "'=1+2", "That is not a valid email address."],
    ]


def test_errors_csv_from_an_import(factory, workspace_id):
    data = csv_bytes("Name,Email", f'"{FORMULA}",{FORMULA}', ",")
    # The second data row is blank: not a contact, and not a problem either.
    data += csv_bytes(",ok@example.com")
    report = do_import(factory, workspace_id, data)
    rows = csv_rows(report.errors_csv())
    assert rows[1][:3] == ["2", "Email", "'" + FORMULA]
    assert rows[1][3].startswith("That is not a valid email address")
    assert len(rows) == 2
    assert report.created == 1


def test_errors_csv_empty():
    assert ImportReport().errors_csv() == "Row,Column,Value,Message\r\n"


# --------------------------------------------------------------------------- preview


def test_preview(engine, session, workspace_id, setup):
    existing(session, workspace_id, name="Ana", email="ana@example.com")
    data = csv_bytes(
        "Name,Email,Plan,Tags,Opt-in",
        "Ana,ANA@example.com,pro,VIP,yes",
        "Bob,bob@example.com,Gold,Nope,",
        ",,,,",
        "Bob again,bob@example.com,,,",
        "Cy,,,,",
        "Dee,,,,",
    )
    parsed = read_csv(data)
    mapping = guess_mapping(
        parsed.headers, importer.contact_field_definitions(session, workspace_id)
    )
    assert mapping == {
        "Name": "name",
        "Email": "email",
        "Plan": "cf.plan",
        "Tags": "labels",
        "Opt-in": "campaign_opt_in",
    }
    checks = preview(parsed, mapping, session, workspace_id, rows=4)
    assert [c.row_number for c in checks] == [2, 3, 5, 6]  # row 4 is blank
    ana, bob, bob_again, cy = checks
    assert ana.values == {
        "name": "Ana",
        "email": "ana@example.com",
        "cf.plan": "Pro",
        "labels": ["VIP"],
        "campaign_opt_in": True,
    }
    assert ana.ok and ana.duplicate
    assert not bob.ok and not bob.duplicate
    assert [(e.column, e.value) for e in bob.errors] == [("Plan", "Gold")]
    assert [w.value for w in bob.warnings] == ["Nope"]
    assert bob_again.duplicate is False  # Bob's row fails, so it creates nobody
    assert cy.values == {"name": "Cy"} and cy.ok and not cy.duplicate
    session.rollback()
    assert len(contacts(engine, workspace_id)) == 1  # preview writes nothing


def test_duplicate_emails_with_quotes_are_matched(engine, factory, session, workspace_id):
    # The prefetch writes the keys into the SQL: a quote in an email must stay harmless.
    existing(session, workspace_id, name="Old", email="o'brien@example.com")
    data = csv_bytes(
        "Name,Email", "New,O'Brien@example.com", "Other,x'); drop table contact;--@example.com"
    )
    report = do_import(factory, workspace_id, data, on_duplicate="update")
    assert (report.updated, report.failed) == (1, 1)
    assert [c.name for c in contacts(engine, workspace_id)] == ["New"]


def test_a_database_failure_reports_what_was_imported(engine, workspace_id):
    calls = 0

    @contextmanager
    def failing_factory():
        nonlocal calls
        calls += 1
        if calls == 3:  # 1: definitions and labels, 2: first chunk, 3: second chunk
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))
        with db.session_scope(engine) as scoped:
            yield scoped

    rows = [f"P{i},p{i}@example.com" for i in range(5)]
    parsed = read_csv(csv_bytes("Name,Email", *rows))
    with pytest.raises(ImportInterrupted) as error:
        run_import(failing_factory, workspace_id, parsed, identity(parsed.headers), chunk_size=2)
    assert "stopped at row 4" in str(error.value)
    assert error.value.report.created == 2
    assert [c.name for c in contacts(engine, workspace_id)] == ["P0", "P1"]


def test_a_value_a_validator_chokes_on_fails_that_cell_only(engine, factory, session, workspace_id):
    """Found by the property tests: urlparse raises a plain ValueError for "http://[x"."""
    session.add(
        CustomFieldDefinition(
            workspace_id=workspace_id, entity="contact", key="site", label="Site", type="url"
        )
    )
    session.commit()
    data = csv_bytes("Name,Site", "Ana,http://[x", "Bob,example.com")
    report = do_import(factory, workspace_id, data, {"Name": "name", "Site": "cf.site"})
    assert (report.created, report.failed) == (1, 1)
    assert [(e.row_number, e.column, e.value) for e in report.errors] == [(2, "Site", "http://[x")]
    assert report.errors[0].message
    assert [c.name for c in contacts(engine, workspace_id)] == ["Bob"]


def test_a_plain_value_error_becomes_a_message_for_the_user():
    from cloodot_app.services.importer.check import _cell_message

    assert _cell_message(ValueError("Invalid IPv6 URL"), "http://[x") == (
        "“http://[x” cannot be stored in this field."
    )
    assert _cell_message(importer.check.FieldValueError("Pick a date."), "x") == "Pick a date."
