"""Contact services on SQLite and PostgreSQL: the page query (paging, sorting, search,
filters, segments), edits, labels, deletion and one contact's details.

Each test builds the few rows it needs; expected results are worked out by hand."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.db import make_engine
from cloodot_app.errors import SelectionChanged
from cloodot_app.fieldtypes import FieldValueError, digits_only
from cloodot_app.filters import FilterError, FilterSpec
from cloodot_app.models import (
    Contact,
    ContactLabel,
    Conversation,
    ConversationLabel,
    CustomFieldDefinition,
    Label,
    Message,
    Segment,
    utcnow,
)
from cloodot_app.services.contact_deletes import Selection, delete_contacts, delete_preview
from cloodot_app.services.contact_edits import set_contact_labels, update_contact_field
from cloodot_app.services.contacts import (
    PAGE_SIZES,
    SORTABLE,
    ContactQuery,
    NotFound,
    count_contacts,
    get_contact,
    list_contacts,
)
from cloodot_app.services.workspaces import data_version, ensure_workspace

# SQLAlchemy's deprecations become errors in its next release: fail on them now.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SADeprecationWarning")

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def add_contact(session: Session, ws: int, name: str, **values: Any) -> Contact:
    values.setdefault("created_at", T0)
    values.setdefault("updated_at", values["created_at"])
    contact = Contact(workspace_id=ws, name=name, **values)
    contact.phone_digits = digits_only(contact.phone) or None
    session.add(contact)
    session.flush()
    return contact


def names(page) -> list[str]:
    return [row.name for row in page.rows]


def spec(*conditions: dict, match: str = "all") -> FilterSpec:
    return FilterSpec.parse({"match": match, "conditions": list(conditions)})


def c(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


# --------------------------------------------------------------------------- paging


@pytest.fixture
def twenty_three(session: Session, workspace_id: int) -> int:
    for number in range(1, 24):
        add_contact(
            session,
            workspace_id,
            f"Contact {number:02d}",
            created_at=T0 + timedelta(minutes=number),
        )
    session.commit()
    return workspace_id


def _numbers(page) -> list[int]:
    return [int(name.split()[1]) for name in names(page)]


def test_paging_with_page_size_10(session, twenty_three):
    ws = twenty_three
    by_name = {"sort": "name", "descending": False, "page_size": 10}
    first = list_contacts(session, ws, ContactQuery(page=1, **by_name))
    assert (first.total, first.page, first.page_size, first.page_count) == (23, 1, 10, 3)
    assert _numbers(first) == list(range(1, 11))
    assert _numbers(list_contacts(session, ws, ContactQuery(page=2, **by_name))) == list(
        range(11, 21)
    )
    last = list_contacts(session, ws, ContactQuery(page=3, **by_name))
    assert (last.page, _numbers(last)) == (3, [21, 22, 23])
    # Beyond the last page: the last page. Before the first: the first.
    for beyond in (4, 99):
        page = list_contacts(session, ws, ContactQuery(page=beyond, **by_name))
        assert (page.page, _numbers(page), page.total) == (3, [21, 22, 23], 23)
    for before in (0, -5):
        page = list_contacts(session, ws, ContactQuery(page=before, **by_name))
        assert (page.page, _numbers(page)) == (1, list(range(1, 11)))


def test_paging_with_page_size_25_and_others(session, twenty_three):
    ws = twenty_three
    page = list_contacts(session, ws, ContactQuery(page_size=25, page=2))
    assert (page.total, page.page, page.page_size, page.page_count) == (23, 1, 25, 1)
    # Newest first by default.
    assert _numbers(page) == list(range(23, 0, -1))
    for size in PAGE_SIZES:
        page = list_contacts(session, ws, ContactQuery(page_size=size))
        assert len(page.rows) == min(size, 23)
    # A page size the table does not offer falls back to the smallest.
    for odd in (7, 0, -1, 1000):
        page = list_contacts(session, ws, ContactQuery(page_size=odd))
        assert (page.page_size, len(page.rows)) == (10, 10)


def test_paging_an_empty_view(session, workspace_id):
    page = list_contacts(session, workspace_id, ContactQuery(page=3))
    assert (page.total, page.page, page.page_count, page.rows) == (0, 1, 1, [])
    assert count_contacts(session, workspace_id, ContactQuery()) == 0


def test_rows_are_plain_data(session, workspace_id):
    add_contact(
        session,
        workspace_id,
        "Ann de la Cruz",
        email="ann@example.com",
        phone="+442079460958",
        last_message_text="Hi!",
        last_message_direction="incoming",
        last_interaction_at=T0,
    )
    session.commit()
    (row,) = list_contacts(session, workspace_id, ContactQuery()).rows
    assert {k: getattr(row, k) for k in ("name", "initials", "email", "phone", "channel")} == {
        "name": "Ann de la Cruz",
        "initials": "AC",
        "email": "ann@example.com",
        "phone": "+442079460958",
        "channel": "imported",
    }
    assert row.last_message_text == "Hi!" and row.last_message_direction == "incoming"
    assert datetime.fromisoformat(row.created_at) == T0
    assert datetime.fromisoformat(row.last_interaction_at) == T0
    assert row.image_url == "" and row.labels == [] and row.custom_fields == {}


# --------------------------------------------------------------------------- sorting

# key: name, email, phone, created_at, last_interaction_at (None sorts first ascending)
SORT_WORLD = {
    "k1": ("Cara", "c@x.io", "+15550000003", T0 + timedelta(days=2), T0 + timedelta(hours=1)),
    "k2": ("Abe", None, "+15550000001", T0 + timedelta(days=1), None),
    "k3": ("Bea", "a@x.io", None, T0 + timedelta(days=2), T0 + timedelta(hours=3)),
    "k4": ("Abe", "b@x.io", "+15550000001", T0, T0 + timedelta(hours=1)),
    "k5": ("Dee", "a@x.io", "+15550000002", T0 + timedelta(days=3), None),
}
# Worked out by hand; ties are broken by id, in the same direction as the sort.
SORTED = {
    ("name", False): ["k2", "k4", "k3", "k1", "k5"],
    ("name", True): ["k5", "k1", "k3", "k4", "k2"],
    ("email", False): ["k2", "k3", "k5", "k4", "k1"],
    ("email", True): ["k1", "k4", "k5", "k3", "k2"],
    ("phone", False): ["k3", "k2", "k4", "k5", "k1"],
    ("phone", True): ["k1", "k5", "k4", "k2", "k3"],
    ("created_at", False): ["k4", "k2", "k1", "k3", "k5"],
    ("created_at", True): ["k5", "k3", "k1", "k2", "k4"],
    ("last_interaction_at", False): ["k2", "k5", "k1", "k4", "k3"],
    ("last_interaction_at", True): ["k3", "k4", "k1", "k5", "k2"],
}


def test_sorted_covers_every_sortable_key():
    assert {key for key, _ in SORTED} == set(SORTABLE)


@pytest.mark.parametrize(
    ("sort", "descending"),
    [pytest.param(s, d, id=f"{s}-{'desc' if d else 'asc'}") for s, d in SORTED],
)
def test_sorting(session, workspace_id, sort, descending):
    ids = {}
    for key, (name, email, phone, created, last) in SORT_WORLD.items():
        contact = add_contact(
            session,
            workspace_id,
            name,
            email=email,
            phone=phone,
            created_at=created,
            last_interaction_at=last,
        )
        ids[contact.id] = key
    session.commit()
    query = ContactQuery(sort=sort, descending=descending)
    rows = list_contacts(session, workspace_id, query).rows
    assert [ids[row.id] for row in rows] == SORTED[(sort, descending)]


@pytest.mark.parametrize("descending", [False, True])
def test_ties_across_pages_are_deterministic(session, workspace_id, descending):
    """Twelve contacts created at the same instant: page 1 and page 2 split them by id."""
    ids = [add_contact(session, workspace_id, "Same").id for _ in range(12)]
    session.commit()
    query = {"sort": "created_at", "descending": descending, "page_size": 10}
    first = list_contacts(session, workspace_id, ContactQuery(page=1, **query))
    second = list_contacts(session, workspace_id, ContactQuery(page=2, **query))
    seen = [row.id for row in first.rows + second.rows]
    assert seen == sorted(ids, reverse=descending)


@pytest.mark.parametrize("sort", ["custom_fields", "id; DROP TABLE contact", "workspace_id", ""])
def test_unknown_sort_is_refused(session, workspace_id, sort):
    with pytest.raises(FilterError, match="Contacts cannot be sorted by"):
        list_contacts(session, workspace_id, ContactQuery(sort=sort))


# --------------------------------------------------------------------------- search

ALICE, BOB, ZOE, PERCY, ANN, XAVIER = (
    "Alice Archer",
    "Bob Baker",
    "Zoë Zhang",
    "Percy 100% Pure",
    "Ann Li",
    "Xavier",
)
SEARCH_WORLD = [
    (ALICE, "alice@example.com", "+442079460958", "whatsapp"),
    (BOB, "bob@sample.org", "+14155550199", "instagram"),
    (ZOE, "zoe@example.net", None, "whatsapp"),
    (PERCY, "percy_p@mail.test", "+33123456789", "facebook"),
    (ANN, "ann.li@other.io", "+4930123456", "whatsapp"),
    (XAVIER, None, None, "webchat"),
]
EVERYONE = {name for name, *_ in SEARCH_WORLD}
NOBODY: set[str] = set()


@pytest.fixture
def people(session: Session, workspace_id: int) -> dict[str, int]:
    ids = {}
    for minute, (name, email, phone, channel) in enumerate(SEARCH_WORLD):
        ids[name] = add_contact(
            session,
            workspace_id,
            name,
            email=email,
            phone=phone,
            channel=channel,
            created_at=T0 + timedelta(minutes=minute),
        ).id
    # The same people elsewhere: never found from acme.
    other = ensure_workspace(session, "globex").id
    for name, email, phone, channel in SEARCH_WORLD:
        add_contact(session, other, name, email=email, phone=phone, channel=channel)
    session.commit()
    return ids


def found(session: Session, ws: int, search: str, **query: Any) -> set[str]:
    page = list_contacts(session, ws, ContactQuery(search=search, page_size=100, **query))
    result = set(names(page))
    assert (
        page.total
        == len(result)
        == count_contacts(session, ws, ContactQuery(search=search, **query))
    )
    return result


SEARCHES = [
    # name and email substrings, any case
    ("arch", {ALICE}),
    ("ARCHER", {ALICE}),
    ("  alice   archer ", {ALICE}),
    ("example", {ALICE, ZOE}),
    ("EXAMPLE.NET", {ZOE}),
    ("sample.org", {BOB}),
    ("mail.test", {PERCY}),
    ("zoë", {ZOE}),
    ("ZHANG", {ZOE}),
    # phones, whatever punctuation is typed
    ("+44 (20) 7946", {ALICE}),
    ("(415) 555-0199", {BOB}),
    ("415-555", {BOB}),
    ("7946", {ALICE}),
    ("+49 30 123", {ANN}),
    # one and two characters
    ("1", {BOB, PERCY, ANN}),
    ("li", {ALICE, ANN}),
    ("LI", {ALICE, ANN}),
    ("x", {ALICE, ZOE, XAVIER}),
    ("o", {ALICE, BOB, ZOE, ANN}),
    # digits in a longer text search for the text, not for any phone with that digit
    ("y 1", {PERCY}),
    ("y 100", {PERCY}),
    # % and _ are literal characters
    ("%", {PERCY}),
    ("_", {PERCY}),
    ("100%", {PERCY}),
    ("%%%", NOBODY),
    ("a%e", NOBODY),
    ("i_e", NOBODY),
    ("y_p", {PERCY}),
    # no search: everyone
    ("", EVERYONE),
    ("   ", EVERYONE),
    # search syntax of the index is literal text too
    ('"', NOBODY),
    ('"bob"', NOBODY),
    ('alice" OR "bob', NOBODY),
    ("bob OR alice", NOBODY),
    ("bob*", NOBODY),
    ("NEAR(alice bob)", NOBODY),
    ("{name}: bob", NOBODY),
    ("name: bob", NOBODY),
    ("^ali", NOBODY),
    ("ali -bob", NOBODY),
    ("'; DROP TABLE contact; --", NOBODY),
    ("\\", NOBODY),
]


@pytest.mark.parametrize(("search", "expected"), SEARCHES, ids=[s for s, _ in SEARCHES])
def test_search(session, workspace_id, people, search, expected):
    assert found(session, workspace_id, search) == expected


def test_search_with_filter_and_segment(session, workspace_id, people):
    ws = workspace_id
    whatsapp = spec(c("channel", "is", "whatsapp"))
    assert found(session, ws, "example", filter=whatsapp) == {ALICE, ZOE}
    assert found(session, ws, "example", filter=spec(c("channel", "is", "instagram"))) == set()
    assert found(session, ws, "a", filter=whatsapp) == {ALICE, ZOE, ANN}

    segment = Segment(
        workspace_id=ws,
        name="WhatsApp or Xavier",
        filter_spec={
            "match": "any",
            "conditions": [c("channel", "is", "whatsapp"), c("name", "equals", "xavier")],
        },
    )
    session.add(segment)
    session.commit()
    assert found(session, ws, "", segment_id=segment.id) == {ALICE, ZOE, ANN, XAVIER}
    assert found(session, ws, "li", segment_id=segment.id) == {ALICE, ANN}
    assert found(session, ws, "xav", segment_id=segment.id) == {XAVIER}
    starts_ann = spec(c("name", "starts_with", "ann"))
    assert found(session, ws, "li", segment_id=segment.id, filter=starts_ann) == {ANN}
    assert found(session, ws, "bob", segment_id=segment.id) == set()
    # The quick filter and the segment are ANDed, whatever each one's own match is.
    either = spec(c("name", "contains", "zoë"), c("name", "contains", "bob"), match="any")
    assert found(session, ws, "", segment_id=segment.id, filter=either) == {ZOE}
    # A filter given as stored JSON works the same.
    as_json = {"conditions": [c("channel", "is", "whatsapp")]}
    assert found(session, ws, "example", filter=as_json) == {ALICE, ZOE}

    with pytest.raises(NotFound, match="That segment no longer exists."):
        list_contacts(session, ws, ContactQuery(segment_id=segment.id + 1000))


def test_sqlite_search_is_served_by_the_fts_index(sqlite_template, tmp_path):
    """EXPLAIN QUERY PLAN of the page and count queries: the FTS5 trigram table is searched,
    and `contact` is never scanned with LIKE."""
    path = tmp_path / "plan.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    statements: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            ws = ensure_workspace(session, "acme").id
            for name, email, phone, _ in SEARCH_WORLD:
                add_contact(session, ws, name, email=email, phone=phone)
            session.commit()
            for search in ("archer", "+44 (20) 7946", "EXAMPLE.NET"):
                statements.clear()
                page = list_contacts(session, ws, ContactQuery(search=search))
                assert len(page.rows) == 1
                # The count and the page's ids (the other statements fetch the rows by
                # id, their labels and fields).
                queries = [
                    (statement, parameters)
                    for statement, parameters in statements
                    if statement.startswith(("SELECT count(*)", "SELECT contact.id \nFROM"))
                ]
                assert len(queries) == 2
                for statement, parameters in queries:
                    assert "LIKE" not in statement.upper()
                    plan = [
                        row[3]
                        for row in session.connection().exec_driver_sql(
                            "EXPLAIN QUERY PLAN " + statement, parameters
                        )
                    ]
                    assert any("SCAN contact_search VIRTUAL TABLE" in step for step in plan), plan
                    full_scans = [step for step in plan if step.split()[:2] == ["SCAN", "contact"]]
                    assert full_scans == [], plan
    finally:
        engine.dispose()


def _fts_consistent(session: Session, dialect: str) -> None:
    """SQLite only: the external-content FTS table agrees with `contact`, row for row."""
    if dialect == "sqlite":
        session.execute(
            sa.text(
                "INSERT INTO contact_search(contact_search, rank) VALUES ('integrity-check', 1)"
            )
        )


def test_search_follows_updates_and_deletes(session, workspace_id, people, dialect):
    ws, alice = workspace_id, people[ALICE]
    update_contact_field(session, ws, alice, "name", "Alicia Keys")
    update_contact_field(session, ws, alice, "email", "keys@piano.example")
    update_contact_field(session, ws, alice, "phone", "+1 212 555 0147")
    session.commit()
    _fts_consistent(session, dialect)
    assert found(session, ws, "archer") == set()
    assert found(session, ws, "alice@") == set()
    assert found(session, ws, "+44 (20) 7946") == set()
    assert found(session, ws, "alicia") == {"Alicia Keys"}
    assert found(session, ws, "piano.example") == {"Alicia Keys"}
    assert found(session, ws, "212-555") == {"Alicia Keys"}

    update_contact_field(session, ws, people[BOB], "phone", "")
    session.commit()
    assert found(session, ws, "415-555") == set()

    assert delete_contacts(session, ws, Selection(ids=[alice, people[PERCY]])) == 2
    session.commit()
    _fts_consistent(session, dialect)
    assert found(session, ws, "alicia") == set()
    assert found(session, ws, "%") == set()
    assert found(session, ws, "example") == {ZOE}


# --------------------------------------------------------------------------- editing

CONTACT_FIELDS = [
    ("company", "text", []),
    ("website", "url", []),
    ("mobile", "phone", []),
    ("work_email", "email", []),
    ("score", "number", []),
    ("plan", "select", ["Free", "Pro", "Enterprise"]),
    ("interests", "multi_select", ["Shoes", "Bags", "Hats"]),
    ("birthday", "date", []),
]


@pytest.fixture
def editable(session: Session, workspace_id: int) -> int:
    for position, (key, type_name, options) in enumerate(CONTACT_FIELDS):
        session.add(
            CustomFieldDefinition(
                workspace_id=workspace_id,
                entity="contact",
                key=key,
                label=key.replace("_", " ").title(),
                type=type_name,
                options=options,
                position=position,
            )
        )
    session.add(
        CustomFieldDefinition(
            workspace_id=workspace_id,
            entity="conversation",
            key="topic",
            label="Topic",
            type="select",
            options=["Billing"],
        )
    )
    contact = add_contact(
        session,
        workspace_id,
        "Alice Archer",
        email="alice@example.com",
        phone="+442079460958",
        image_url="https://img.example.com/alice.png",
        campaign_opt_in=False,
        created_at=datetime(2001, 1, 1, tzinfo=UTC),
        custom_fields={"company": "Acme Ltd", "score": 120, "plan": "Pro"},
    )
    session.commit()
    return contact.id


def _snapshot(contact: Contact) -> dict[str, Any]:
    return {
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "phone_digits": contact.phone_digits,
        "image_url": contact.image_url,
        "campaign_opt_in": contact.campaign_opt_in,
        "custom_fields": dict(contact.custom_fields),
        "updated_at": contact.updated_at,
    }


def _stored(session: Session, contact_id: int) -> dict[str, Any]:
    """The row as the database has it (not as the session remembers it)."""
    session.expire_all()
    return _snapshot(session.get(Contact, contact_id))


GOOD_EDITS = [
    # field, typed, stored, {column: value} the row must then hold
    ("name", "  Alicia Keys ", "Alicia Keys", {"name": "Alicia Keys"}),
    ("email", "Alice@EXAMPLE.ORG", "alice@example.org", {"email": "alice@example.org"}),
    ("email", "", None, {"email": None}),
    (
        "phone",
        "+44 (20) 7946-0000",
        "+442079460000",
        {"phone": "+442079460000", "phone_digits": "442079460000"},
    ),
    ("phone", "  ", None, {"phone": None, "phone_digits": None}),
    (
        "image_url",
        "cdn.example.com/a.png",
        "https://cdn.example.com/a.png",
        {"image_url": "https://cdn.example.com/a.png"},
    ),
    ("image_url", None, None, {"image_url": None}),
    ("campaign_opt_in", True, True, {"campaign_opt_in": True}),
    ("cf.company", "  Initech  ", "Initech", {"company": "Initech"}),
    ("cf.company", "", None, {"company": None}),
    ("cf.website", "acme.example", "https://acme.example", {"website": "https://acme.example"}),
    ("cf.mobile", "0044 20 7946 0958", "+442079460958", {"mobile": "+442079460958"}),
    ("cf.work_email", "Bob@Work.DE", "bob@work.de", {"work_email": "bob@work.de"}),
    ("cf.score", "1,200.50", 1200.5, {"score": 1200.5}),
    ("cf.score", "7", 7, {"score": 7}),
    ("cf.score", "", None, {"score": None}),
    ("cf.plan", "Enterprise", "Enterprise", {"plan": "Enterprise"}),
    ("cf.plan", None, None, {"plan": None}),
    ("cf.interests", "Hats, Shoes", ["Hats", "Shoes"], {"interests": ["Hats", "Shoes"]}),
    ("cf.interests", ["Bags"], ["Bags"], {"interests": ["Bags"]}),
    ("cf.birthday", "1990-03-14T00:00:00", "1990-03-14", {"birthday": "1990-03-14"}),
]


@pytest.mark.parametrize(
    ("field", "raw", "stored", "row"),
    GOOD_EDITS,
    ids=[f"{field}-{raw!r}" for field, raw, *_ in GOOD_EDITS],
)
def test_update_contact_field(session, workspace_id, editable, field, raw, stored, row):
    before = _stored(session, editable)
    version = data_version(session, workspace_id)

    assert update_contact_field(session, workspace_id, editable, field, raw) == stored
    session.commit()

    after = _stored(session, editable)
    assert data_version(session, workspace_id) == version + 1
    assert after["updated_at"] > before["updated_at"]
    for column, value in row.items():
        if field.startswith("cf."):
            assert after["custom_fields"].get(column) == value
            # A cleared custom value is removed, not stored as null.
            assert (column in after["custom_fields"]) == (value is not None)
        else:
            assert after[column] == value
    # Nothing else moved.
    untouched = {
        k: v for k, v in before.items() if k not in row and k not in ("updated_at", "custom_fields")
    }
    assert {k: after[k] for k in untouched} == untouched
    others = {k: v for k, v in before["custom_fields"].items() if k not in row}
    assert {k: after["custom_fields"][k] for k in others} == others
    # What the table shows next.
    shown = get_contact(session, workspace_id, editable)
    if field.startswith("cf."):
        assert shown.custom_values[field[3:]] == stored


BAD_EDITS = [
    ("name", "", "A contact needs a name."),
    ("name", "   ", "A contact needs a name."),
    ("name", None, "A contact needs a name."),
    ("name", "x" * 201, "Keep the name under 200 characters."),
    ("email", "not-an-email", "That is not a valid email address"),
    ("email", "alice@", "That is not a valid email address"),
    ("phone", "12", "Enter the phone number with its country code"),
    ("phone", "call me", "Enter the phone number with its country code"),
    ("image_url", "javascript:alert(1)", "Enter a web address such as https://example.com."),
    ("image_url", "ftp://files.example.com/a.png", "Enter a web address"),
    ("campaign_opt_in", "yes", "Campaign opt-in is either on or off."),
    ("campaign_opt_in", None, "Campaign opt-in is either on or off."),
    ("campaign_opt_in", 1, "Campaign opt-in is either on or off."),
    ("cf.company", "x" * 501, "Keep it under 500 characters."),
    ("cf.website", "not a url", "Enter a web address such as https://example.com."),
    ("cf.mobile", "call me", "Enter the phone number with its country code"),
    ("cf.work_email", "bob@", "That is not a valid email address"),
    ("cf.score", "abc", "“abc” is not a number."),
    ("cf.score", "nan", "Enter a finite number."),
    ("cf.plan", "Gold", "“Gold” is not one of the options: Free, Pro, Enterprise."),
    ("cf.interests", ["Socks"], "“Socks” is not one of the options: Shoes, Bags, Hats."),
    ("cf.interests", 5, "Shoes, Bags, Hats"),
    ("cf.birthday", "31/02/2026", "Pick a date (YYYY-MM-DD)."),
    ("cf.nope", "x", "That field no longer exists."),
    ("cf.topic", "Billing", "That field no longer exists."),
    ("cf.", "x", "That field no longer exists."),
    ("created_at", "2026-01-01", "“created_at” cannot be edited."),
    ("workspace_id", 2, "“workspace_id” cannot be edited."),
    ("id", 99, "“id” cannot be edited."),
    ("phone_digits", "123", "“phone_digits” cannot be edited."),
    ("custom_fields", {}, "“custom_fields” cannot be edited."),
    ("label", [1], "“label” cannot be edited."),
]


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    BAD_EDITS,
    ids=[f"{field}-{raw!r}"[:40] for field, raw, _ in BAD_EDITS],
)
def test_rejected_edit_changes_nothing(session, workspace_id, editable, field, raw, message):
    before = _stored(session, editable)
    version = data_version(session, workspace_id)

    with pytest.raises(FieldValueError) as caught:
        update_contact_field(session, workspace_id, editable, field, raw)
    assert message in str(caught.value)
    # Not even the session's copy was touched before the value was refused...
    assert _snapshot(session.get(Contact, editable)) == before
    # ...and after the rollback the caller does (db.session_scope), neither is the row.
    session.rollback()
    assert _stored(session, editable) == before
    assert data_version(session, workspace_id) == version


def test_update_of_a_missing_contact(session, workspace_id, editable):
    with pytest.raises(NotFound, match="That contact no longer exists."):
        update_contact_field(session, workspace_id, editable + 1000, "name", "X")


def test_each_edit_bumps_the_data_version_once(session, workspace_id, editable):
    start = data_version(session, workspace_id)
    update_contact_field(session, workspace_id, editable, "name", "One")
    update_contact_field(session, workspace_id, editable, "cf.score", "2")
    session.commit()
    assert data_version(session, workspace_id) == start + 2


# --------------------------------------------------------------------------- labels


@pytest.fixture
def labelled(session: Session, workspace_id: int) -> dict[str, int]:
    labels = [Label(workspace_id=workspace_id, name=n) for n in ("VIP", "Lead", "Churned")]
    other = ensure_workspace(session, "globex").id
    foreign = Label(workspace_id=other, name="VIP")
    session.add_all([*labels, foreign])
    contact = add_contact(session, workspace_id, "Alice Archer")
    session.commit()
    return {
        **{label.name: label.id for label in labels},
        "foreign": foreign.id,
        "alice": contact.id,
    }


def _label_names(session: Session, ws: int, contact_id: int) -> list[str]:
    return [label.name for label in get_contact(session, ws, contact_id).labels]


def test_set_contact_labels(session, workspace_id, labelled):
    ws, alice = workspace_id, labelled["alice"]
    version = data_version(session, ws)
    vip, lead = labelled["VIP"], labelled["Lead"]

    assert set_contact_labels(session, ws, alice, [vip, lead, vip]) == sorted([vip, lead])
    session.commit()
    assert _label_names(session, ws, alice) == ["Lead", "VIP"]
    assert data_version(session, ws) == version + 1

    assert set_contact_labels(session, ws, alice, [lead]) == [lead]
    session.commit()
    assert _label_names(session, ws, alice) == ["Lead"]

    for refused in ([vip, labelled["foreign"]], [99999]):
        with pytest.raises(NotFound, match="A label you chose no longer exists."):
            set_contact_labels(session, ws, alice, refused)
        session.rollback()
        assert _label_names(session, ws, alice) == ["Lead"]
    assert data_version(session, ws) == version + 2

    assert set_contact_labels(session, ws, alice, []) == []
    session.commit()
    assert _label_names(session, ws, alice) == []
    assert data_version(session, ws) == version + 3
    # The label list shows in the table's rows too.
    set_contact_labels(session, ws, alice, [vip])
    session.commit()
    (row,) = list_contacts(session, ws, ContactQuery()).rows
    assert [label.name for label in row.labels] == ["VIP"]


# --------------------------------------------------------------------------- deleting


@pytest.fixture
def inbox(session: Session, workspace_id: int) -> dict[str, int]:
    """Ann (two conversations), Ben (one), Cat and Dov (none); Mo in another workspace."""
    ws = workspace_id
    other = ensure_workspace(session, "globex").id
    vip, foreign_vip = Label(workspace_id=ws, name="VIP"), Label(workspace_id=other, name="VIP")
    session.add_all([vip, foreign_vip])
    ids = {
        "ann": add_contact(session, ws, "Ann", email="ann@example.com").id,
        "ben": add_contact(session, ws, "Ben", email="ben@example.com").id,
        "cat": add_contact(session, ws, "Cat").id,
        "dov": add_contact(session, ws, "Dov").id,
        "mo": add_contact(session, other, "Mo").id,
    }
    owners = [("ann", ws, vip), ("ann", ws, None), ("ben", ws, None), ("mo", other, foreign_vip)]
    for number, (who, workspace, label) in enumerate(owners):
        conversation = Conversation(
            workspace_id=workspace,
            contact_id=ids[who],
            channel="whatsapp",
            updated_at=T0 + timedelta(days=number),
        )
        session.add(conversation)
        session.flush()
        ids[f"{who}_conversation_{number}"] = conversation.id
        session.add_all(
            Message(
                conversation_id=conversation.id,
                direction="incoming" if m % 2 == 0 else "outgoing",
                text=f"{who} message {m}",
                sent_at=T0 + timedelta(days=number, minutes=m),
            )
            for m in range(5)
        )
        if label is not None:
            session.add(ConversationLabel(conversation_id=conversation.id, label_id=label.id))
    for who, label in (("ann", vip), ("cat", vip), ("mo", foreign_vip)):
        session.add(ContactLabel(contact_id=ids[who], label_id=label.id))
    session.commit()
    return ids


def _counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {
        model.__tablename__: session.execute(
            sa.select(sa.func.count()).select_from(model)
        ).scalar_one()
        for model in (Contact, Conversation, Message, ContactLabel, ConversationLabel, Label)
    }


def test_delete_preview(session, workspace_id, inbox):
    ws = workspace_id

    def preview(selection: Selection) -> tuple[int, int, int]:
        result = delete_preview(session, ws, selection)
        return result.selected, result.with_conversations, result.without_conversations

    assert preview(Selection(ids=[inbox["ann"], inbox["ben"], inbox["cat"]])) == (3, 2, 1)
    assert preview(Selection(ids=[inbox["cat"], inbox["dov"]])) == (2, 0, 2)
    assert preview(Selection(ids=[inbox["ann"], inbox["mo"], 123456])) == (1, 1, 0)
    assert preview(Selection(ids=[])) == (0, 0, 0)
    assert preview(Selection(query=ContactQuery())) == (4, 2, 2)
    assert preview(Selection(query=ContactQuery(search="example"))) == (2, 2, 0)
    has_none = spec(c("has_conversations", "is", False))
    assert preview(Selection(query=ContactQuery(filter=has_none))) == (2, 0, 2)
    # The page a query is on does not limit what it selects.
    assert preview(Selection(query=ContactQuery(page=3, page_size=10))) == (4, 2, 2)


def test_delete_by_ids_removes_conversations_messages_and_labels(session, workspace_id, inbox):
    ws = workspace_id
    before = _counts(session)
    assert before == {
        "contact": 5,
        "conversation": 4,
        "message": 20,
        "contact_label": 3,
        "conversation_label": 2,
        "label": 2,
    }
    version = data_version(session, ws)

    assert delete_contacts(session, ws, Selection(ids=[inbox["ann"], inbox["cat"]])) == 2
    session.commit()

    assert _counts(session) == {
        "contact": 3,
        "conversation": 2,
        "message": 10,
        "contact_label": 1,
        "conversation_label": 1,
        "label": 2,
    }
    assert data_version(session, ws) == version + 1
    left = session.execute(sa.select(Contact.name).order_by(Contact.name)).scalars().all()
    assert left == ["Ben", "Dov", "Mo"]
    owners = session.execute(
        sa.select(Contact.name).join(Conversation, Conversation.contact_id == Contact.id)
    ).scalars()
    assert sorted(owners) == ["Ben", "Mo"]
    for gone in ("ann", "cat"):
        with pytest.raises(NotFound):
            get_contact(session, ws, inbox[gone])

    # Nothing selected: nothing deleted, nothing bumped.
    assert delete_contacts(session, ws, Selection(ids=[inbox["ann"], inbox["mo"]])) == 0
    session.commit()
    assert data_version(session, ws) == version + 1
    assert _counts(session)["contact"] == 3


def test_delete_by_query(session, workspace_id, inbox):
    ws = workspace_id
    by_search = Selection(query=ContactQuery(search="ben@"))
    assert delete_contacts(session, ws, by_search) == 1
    session.commit()
    assert _counts(session) == {
        "contact": 4,
        "conversation": 3,
        "message": 15,
        "contact_label": 3,
        "conversation_label": 2,
        "label": 2,
    }
    labelled_vip = session.execute(
        sa.select(Label.id).where(Label.workspace_id == ws, Label.name == "VIP")
    ).scalar_one()
    by_filter = Selection(query=ContactQuery(filter=spec(c("label", "has_any_of", [labelled_vip]))))
    assert delete_preview(session, ws, by_filter).selected == 2
    assert delete_contacts(session, ws, by_filter) == 2
    session.commit()
    assert _counts(session) == {
        "contact": 2,
        "conversation": 1,
        "message": 5,
        "contact_label": 1,
        "conversation_label": 1,
        "label": 2,
    }
    assert delete_contacts(session, ws, Selection(query=ContactQuery())) == 1
    session.commit()
    assert session.execute(sa.select(Contact.name)).scalars().all() == ["Mo"]


def test_delete_all_that_match_deletes_only_what_the_confirmation_counted(
    session, workspace_id, inbox
):
    """ "Delete all N that match" means the N the dialog showed: contacts that arrive or
    change while it is open are kept (issue 8: the dialog said 2, "Deleted 5" happened)."""
    ws = workspace_id
    preview = delete_preview(session, ws, Selection(query=ContactQuery()))
    assert preview.selected == 4
    # While the dialog is open: a new contact (now), an imported one with an old
    # timestamp, and an edit of Ben.
    add_contact(session, ws, "Newcomer", created_at=utcnow())
    add_contact(session, ws, "Old import")
    update_contact_field(session, ws, inbox["ben"], "name", "Ben Edited")
    session.commit()

    assert delete_contacts(session, ws, preview.selection) == 3
    session.commit()
    left = session.execute(
        sa.select(Contact.name).where(Contact.workspace_id == ws).order_by(Contact.name)
    ).scalars()
    assert list(left) == ["Ben Edited", "Newcomer", "Old import"]


def test_a_frozen_selection_never_deletes_more_than_it_promised(session, workspace_id, inbox):
    loose = Selection(query=ContactQuery(), as_of=utcnow(), max_id=2**31 - 1, promised=1)
    before = _counts(session)
    with pytest.raises(SelectionChanged, match="Nothing was deleted"):
        delete_contacts(session, workspace_id, loose)
    session.rollback()
    assert _counts(session) == before


def test_delete_is_all_or_nothing(session, workspace_id, inbox):
    """The deletion runs in the caller's transaction: a rollback brings everything back."""
    before = _counts(session)
    assert delete_contacts(session, workspace_id, Selection(query=ContactQuery())) == 4
    session.rollback()
    assert _counts(session) == before


# --------------------------------------------------------------------------- one contact


def test_get_contact_with_conversations_and_last_messages(session, workspace_id, inbox):
    ws = workspace_id
    session.add(
        CustomFieldDefinition(
            workspace_id=ws,
            entity="conversation",
            key="topic",
            label="Topic",
            type="select",
            options=["Billing", "Shipping"],
        )
    )
    first, second = inbox["ann_conversation_0"], inbox["ann_conversation_1"]
    session.get(Conversation, first).custom_fields = {"topic": "Billing"}
    session.get(Conversation, second).custom_fields = {"topic": "Shipping", "unknown": "x"}
    session.commit()

    contact = get_contact(session, ws, inbox["ann"])
    assert contact.name == "Ann" and contact.email == "ann@example.com"
    assert [label.name for label in contact.labels] == ["VIP"]
    assert datetime.fromisoformat(contact.updated_at) == T0
    # Most recently updated conversation first; its value is what the column shows.
    assert [conversation.id for conversation in contact.conversations] == [second, first]
    assert contact.conversation_fields == {"topic": "Shipping"}
    latest, earlier = contact.conversations
    assert [asdict(f) for f in latest.fields] == [{"label": "Topic", "value": "Shipping"}]
    assert [asdict(f) for f in earlier.fields] == [{"label": "Topic", "value": "Billing"}]
    assert [label.name for label in earlier.labels] == ["VIP"] and latest.labels == []
    # The last three messages of each, oldest of them first.
    assert [m.text for m in latest.messages] == [
        "ann message 2",
        "ann message 3",
        "ann message 4",
    ]
    assert [m.direction for m in latest.messages] == ["incoming", "outgoing", "incoming"]
    assert datetime.fromisoformat(latest.messages[-1].sent_at) == T0 + timedelta(days=1, minutes=4)

    assert get_contact(session, ws, inbox["dov"]).conversations == []
    with pytest.raises(NotFound):
        get_contact(session, ws, inbox["mo"])
