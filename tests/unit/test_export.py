"""CSV export: row counts, order, columns, formula neutralisation, tickets and the route.

Runs on SQLite and on PostgreSQL (the `session` / `engine` fixtures of tests/conftest.py).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import db
from cloodot_app.api import build_api
from cloodot_app.filters import FilterSpec
from cloodot_app.models import (
    Contact,
    ContactLabel,
    Conversation,
    ConversationLabel,
    CustomFieldDefinition,
    Label,
    Segment,
)
from cloodot_app.routes import API_CONTACTS_EXPORT
from cloodot_app.services.contact_rows import latest_conversation_values
from cloodot_app.services.contacts import ContactQuery
from cloodot_app.services.export import (
    BUILTIN_HEADERS,
    CONVERSATION_LABELS_HEADER,
    ExportError,
    ExportOptions,
    TicketError,
    export_filename,
    export_rows,
    make_ticket,
    neutralize,
    read_ticket,
    ticket_secret,
    validate_export,
)
from cloodot_app.settings import settings
from tests.conftest import member_session, session_cookie

T0 = datetime(2026, 1, 10, 9, 30, 15, tzinfo=UTC)
SECRET = "test-secret"
MAX = 100_000


# --------------------------------------------------------------------------- helpers


def add_contact(session: Session, workspace_id: int, name: str, **values) -> int:
    values.setdefault("created_at", T0)
    contact = Contact(workspace_id=workspace_id, name=name, **values)
    session.add(contact)
    session.flush()
    assert contact.id is not None
    return contact.id


def add_label(session: Session, workspace_id: int, name: str) -> int:
    label = Label(workspace_id=workspace_id, name=name)
    session.add(label)
    session.flush()
    assert label.id is not None
    return label.id


def add_field(
    session: Session,
    workspace_id: int,
    key: str,
    label: str,
    type_: str,
    entity: str = "contact",
    options: list[str] | None = None,
    position: int = 0,
) -> None:
    session.add(
        CustomFieldDefinition(
            workspace_id=workspace_id,
            entity=entity,
            key=key,
            label=label,
            type=type_,
            options=options or [],
            position=position,
        )
    )
    session.flush()


def add_conversation(
    session: Session, workspace_id: int, contact_id: int, updated_at: datetime, **fields
) -> int:
    conversation = Conversation(
        workspace_id=workspace_id,
        contact_id=contact_id,
        channel="whatsapp",
        created_at=updated_at,
        updated_at=updated_at,
        custom_fields=fields,
    )
    session.add(conversation)
    session.flush()
    assert conversation.id is not None
    return conversation.id


def export_text(engine: sa.Engine, workspace_id: int, options: ExportOptions, **kwargs) -> str:
    return "".join(export_rows(partial(db.session_scope, engine), workspace_id, options, **kwargs))


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def as_dicts(text: str) -> list[dict[str, str]]:
    header, *rows = parse(text)
    return [dict(zip(header, row, strict=True)) for row in rows]


def names(text: str) -> list[str]:
    return [row[0] for row in parse(text)[1:]]


def options(limit: int = 1000, sort: str = "created_at", **kwargs) -> ExportOptions:
    query = kwargs.pop("query", ContactQuery())
    return ExportOptions(query=query, limit=limit, sort=sort, **kwargs)


# --------------------------------------------------------------------------- columns


def test_columns_values_and_labels(session, engine, workspace_id):
    add_field(session, workspace_id, "city", "City", "text", position=0)
    add_field(session, workspace_id, "ltv", "Lifetime value", "number", position=1)
    add_field(
        session, workspace_id, "interests", "Interests", "multi_select",
        options=["Books", "Travel", "Sports"], position=2,
    )  # fmt: skip
    add_field(session, workspace_id, "plan", "Plan", "select", options=["Pro"], position=3)
    add_field(session, workspace_id, "renewal", "Renewal date", "date", position=4)
    add_field(session, workspace_id, "topic", "Topic", "text", entity="conversation")
    vip, lead = add_label(session, workspace_id, "VIP"), add_label(session, workspace_id, "Lead")
    first = add_contact(
        session,
        workspace_id,
        "Ada Lovelace",
        email="ada@example.com",
        phone="+442079460958",
        channel="whatsapp",
        created_at=T0,
        last_interaction_at=T0 + timedelta(days=1, microseconds=123),
        campaign_opt_in=True,
        custom_fields={
            "city": "London",
            "ltv": 1200,
            "interests": ["Books", "Travel"],
            "plan": "Pro",
            "renewal": "2026-12-31",
        },
    )
    add_contact(
        session, workspace_id, "Bob", created_at=T0 - timedelta(days=1), custom_fields={"ltv": 12.5}
    )
    session.add_all(
        [
            ContactLabel(contact_id=first, label_id=vip),
            ContactLabel(contact_id=first, label_id=lead),
        ]
    )
    add_conversation(session, workspace_id, first, T0, topic="Billing")
    session.commit()

    text = export_text(engine, workspace_id, options())
    header = parse(text)[0]
    assert header == [
        *BUILTIN_HEADERS,
        "City",
        "Lifetime value",
        "Interests",
        "Plan",
        "Renewal date",
    ]
    assert "Topic (conversation)" not in header and CONVERSATION_LABELS_HEADER not in header
    ada, bob = as_dicts(text)
    assert ada == {
        "Name": "Ada Lovelace",
        "Email": "ada@example.com",
        "Phone": "'+442079460958",  # E.164 starts with "+": neutralised on purpose
        "Channel": "whatsapp",
        "Created At": "2026-01-10T09:30:15Z",
        "Last Interaction": "2026-01-11T09:30:15Z",
        "Campaign Opt-in": "yes",
        "Labels": "Lead, VIP",
        "City": "London",
        "Lifetime value": "1200",
        "Interests": "Books, Travel",
        "Plan": "Pro",
        "Renewal date": "2026-12-31",
    }
    assert bob["Last Interaction"] == "" and bob["Campaign Opt-in"] == "no"
    assert bob["Lifetime value"] == "12.5" and bob["Labels"] == "" and bob["City"] == ""
    assert not text.startswith("\ufeff")


def test_conversation_columns_only_when_asked(session, engine, workspace_id):
    add_field(
        session, workspace_id, "topic", "Topic", "select", "conversation", ["Returns", "Billing"]
    )
    add_field(session, workspace_id, "order", "Order value", "number", "conversation", position=1)
    hot, old, billing = (add_label(session, workspace_id, n) for n in ("Hot", "Old", "Billing"))
    contact = add_contact(session, workspace_id, "Chats a lot")
    quiet = add_contact(session, workspace_id, "Quiet", created_at=T0 - timedelta(days=1))
    # Seven conversations, oldest first: only the five most recent count for labels.
    conversations = [
        add_conversation(session, workspace_id, contact, T0 + timedelta(hours=hour), **fields)
        for hour, fields in enumerate(
            [
                {"topic": "Billing", "order": 5},  # 7th most recent
                {},  # 6th
                {"topic": "Billing"},  # 5th
                {"order": 99},  # 4th
                {"topic": "Returns", "order": ""},  # 3rd
                {},  # 2nd
                {"topic": None},  # most recent: no value, so the 3rd's value wins
            ]
        )
    ]
    links = [(0, old), (1, old), (2, billing), (5, hot), (6, hot), (6, billing)]
    session.add_all(
        ConversationLabel(conversation_id=conversations[i], label_id=label) for i, label in links
    )
    session.commit()

    plain = export_text(engine, workspace_id, options())
    assert parse(plain)[0] == list(BUILTIN_HEADERS)

    only_labels = as_dicts(
        export_text(engine, workspace_id, options(include_conversation_labels=True))
    )
    assert list(only_labels[0]) == [*BUILTIN_HEADERS, CONVERSATION_LABELS_HEADER]
    # Newest conversation first (Billing, Hot), then the 5th most recent's Billing again.
    assert only_labels[0][CONVERSATION_LABELS_HEADER] == "Billing, Hot"
    assert only_labels[1][CONVERSATION_LABELS_HEADER] == ""

    both = as_dicts(
        export_text(
            engine,
            workspace_id,
            options(include_conversation_labels=True, include_conversation_fields=True),
        )
    )
    assert list(both[0])[-3:] == [
        CONVERSATION_LABELS_HEADER,
        "Topic (conversation)",
        "Order value (conversation)",
    ]
    assert both[0]["Topic (conversation)"] == "Returns"
    assert both[0]["Order value (conversation)"] == "99"
    assert both[1]["Topic (conversation)"] == "" and both[1]["Name"] == "Quiet"
    assert quiet


# --------------------------------------------------------------------------- rows


@pytest.fixture
def people(session, workspace_id):
    """30 contacts; every third one "Anna …", every fifth opted in, a segment of opt-ins."""
    for number in range(30):
        add_contact(
            session,
            workspace_id,
            f"Anna {number}" if number % 3 == 0 else f"Person {number}",
            email=f"p{number}@example.com",
            created_at=T0 + timedelta(minutes=number),
            campaign_opt_in=number % 5 == 0,
        )
    segment = Segment(
        workspace_id=workspace_id,
        name="Opted in",
        filter_spec={"conditions": [{"field": "campaign_opt_in", "operator": "is", "value": True}]},
    )
    session.add(segment)
    session.commit()
    return segment.id


OPTED_IN = FilterSpec.parse(
    {"conditions": [{"field": "campaign_opt_in", "operator": "is", "value": True}]}
)


@pytest.mark.parametrize(
    ("query", "limit", "expected"),
    [
        (ContactQuery(), 1000, 30),
        (ContactQuery(), 12, 12),
        (ContactQuery(search="anna"), 1000, 10),
        (ContactQuery(search="anna"), 4, 4),
        (ContactQuery(filter=OPTED_IN), 1000, 6),
        (ContactQuery(search="anna", filter=OPTED_IN), 1000, 2),  # 0 and 15
        ("segment", 1000, 6),
        ("segment", 5, 5),
    ],
)
def test_row_count_is_exactly_min_of_limit_and_matches(
    session, engine, workspace_id, people, query, limit, expected
):
    if query == "segment":
        query = ContactQuery(segment_id=people)
    # The table's page and sort never narrow an export.
    query = replace(query, page=3, page_size=10, sort="name")
    chosen = options(limit, query=query)
    assert validate_export(session, workspace_id, chosen, MAX) == expected
    text = export_text(engine, workspace_id, chosen)
    assert len(parse(text)) == expected + 1
    if query.search:
        assert all(name.startswith("Anna") for name in names(text))


def test_sort_by_last_interaction_puts_never_contacted_last(session, engine, workspace_id):
    add_contact(session, workspace_id, "never A", created_at=T0 + timedelta(days=9))
    add_contact(session, workspace_id, "old", created_at=T0, last_interaction_at=T0)
    add_contact(session, workspace_id, "never B", created_at=T0 + timedelta(days=8))
    add_contact(
        session, workspace_id, "recent", created_at=T0, last_interaction_at=T0 + timedelta(days=3)
    )
    add_contact(
        session, workspace_id, "middle", created_at=T0, last_interaction_at=T0 + timedelta(days=1)
    )
    session.commit()
    by_interaction = names(export_text(engine, workspace_id, options(sort="last_interaction_at")))
    # Never contacted last; among equals, the newest contact (highest id) first.
    assert by_interaction == ["recent", "middle", "old", "never B", "never A"]
    assert names(export_text(engine, workspace_id, options(2, sort="last_interaction_at"))) == [
        "recent",
        "middle",
    ]
    by_created = names(export_text(engine, workspace_id, options(sort="created_at")))
    assert by_created == ["never A", "never B", "middle", "recent", "old"]


def test_limit_and_view_are_validated(session, engine, workspace_id, make_workspace):
    add_contact(session, workspace_id, "Someone")
    session.commit()
    for bad in (0, -1):
        with pytest.raises(ExportError, match="at least one"):
            validate_export(session, workspace_id, options(bad), MAX)
    with pytest.raises(ExportError, match=r"^You can export at most 100,000 contacts at a time\.$"):
        validate_export(session, workspace_id, options(100_001), MAX)
    assert validate_export(session, workspace_id, options(100_000), MAX) == 1
    with pytest.raises(ExportError, match="last interaction or by created date"):
        validate_export(session, workspace_id, options(sort="name"), MAX)
    gone_field = FilterSpec.parse({"conditions": [{"field": "cf.gone", "operator": "is_empty"}]})
    with pytest.raises(ExportError, match="no longer exists"):
        validate_export(session, workspace_id, options(query=ContactQuery(filter=gone_field)), MAX)
    other = make_workspace("other")
    foreign = Segment(workspace_id=other, name="Theirs", filter_spec={})
    session.add(foreign)
    session.commit()
    foreign_segment = options(query=ContactQuery(segment_id=foreign.id))
    with pytest.raises(ExportError, match="segment no longer exists"):
        validate_export(session, workspace_id, foreign_segment, MAX)
    with pytest.raises(ExportError, match="segment no longer exists"):
        export_text(engine, workspace_id, foreign_segment)
    with pytest.raises(ExportError):
        export_text(engine, workspace_id, options(0))


def test_zero_matches_gives_a_header_only_file(session, engine, workspace_id):
    add_contact(session, workspace_id, "Someone")
    session.commit()
    nobody = options(query=ContactQuery(search="zzzz-nobody"))
    assert validate_export(session, workspace_id, nobody, MAX) == 0
    assert parse(export_text(engine, workspace_id, nobody)) == [list(BUILTIN_HEADERS)]


# --------------------------------------------------------------------------- formulas


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://evil.example","click")',
        "+1+2",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
    ],
)
def test_formulas_are_neutralised(session, engine, workspace_id, name):
    add_contact(session, workspace_id, name)
    session.commit()
    row = as_dicts(export_text(engine, workspace_id, options()))[0]
    assert row["Name"] == "'" + name


@pytest.mark.parametrize(
    "name",
    [
        '＝HYPERLINK("http://evil.example")',  # full-width equals sign
        "＋1＋2",
        "－2＋3",
        "＠SUM(1)",
        ";=1+1",
        ";;+cmd",
        "; @SUM(1)",
        "；＝1",  # full-width semicolon, then full-width equals
    ],
)
def test_full_width_and_separated_formulas_are_neutralised(session, engine, workspace_id, name):
    add_contact(session, workspace_id, name)
    session.commit()
    row = as_dicts(export_text(engine, workspace_id, options()))[0]
    assert row["Name"] == "'" + name


@pytest.mark.parametrize(
    "text",
    ["Ana; Ben", "; hello", ";", "a=b", "Ｆull width", "50％ off", "mail@example.com"],
)
def test_text_that_is_not_a_formula_is_left_alone(text):
    assert neutralize(text) == text


def test_every_text_cell_and_user_header_is_neutralised(session, engine, workspace_id):
    add_field(session, workspace_id, "cmd", "=cmd()", "text")
    add_field(session, workspace_id, "n", "Score", "number", position=1)
    add_field(
        session, workspace_id, "tags", "@tags", "multi_select", options=["-x", "y"], position=2
    )
    add_field(session, workspace_id, "c", "+conv", "text", "conversation")
    evil = add_label(session, workspace_id, "=label")
    contact = add_contact(
        session,
        workspace_id,
        "Safe name",
        email="@mail",
        phone="+15551234567",
        custom_fields={"cmd": "=1+1", "n": -5, "tags": ["-x", "y"]},
    )
    session.add(ContactLabel(contact_id=contact, label_id=evil))
    conversation = add_conversation(session, workspace_id, contact, T0, c="-1")
    session.add(ConversationLabel(conversation_id=conversation, label_id=evil))
    session.commit()
    text = export_text(
        engine,
        workspace_id,
        options(include_conversation_labels=True, include_conversation_fields=True),
    )
    header, row = parse(text)
    assert header[len(BUILTIN_HEADERS) :] == [
        "'=cmd()",
        "Score",
        "'@tags",
        CONVERSATION_LABELS_HEADER,
        "'+conv (conversation)",
    ]
    assert row == [
        "Safe name",
        "'@mail",
        "'+15551234567",
        "imported",
        "2026-01-10T09:30:15Z",
        "",
        "no",
        "'=label",
        "'=1+1",
        "-5",  # a stored number is not text: written as stored
        "'-x, y",
        "'=label",
        "'-1",
    ]


# --------------------------------------------------------------------------- round trip


TRICKY = [
    "Doe, Jane",
    'Say "hi"',
    "two\nlines",
    "carriage\rreturn",
    "crlf\r\ninside",
    "Zoë Ñúñez 東京 😀",
    "  spaced  ",
    "',quoted",
]


def test_csv_parses_back_to_the_same_values(session, engine, workspace_id):
    add_field(session, workspace_id, "note", "Note, with comma", "text")
    for offset, name in enumerate(TRICKY):
        add_contact(
            session,
            workspace_id,
            name,
            email=f"{offset}@exämple.com",
            created_at=T0 + timedelta(minutes=offset),
            custom_fields={"note": name},
        )
    session.commit()
    text = export_text(engine, workspace_id, options())
    expected = list(reversed(TRICKY))  # newest first
    assert [row["Name"] for row in as_dicts(text)] == expected
    assert [row["Note, with comma"] for row in as_dicts(text)] == expected
    frame = pd.read_csv(io.BytesIO(text.encode("utf-8")), dtype=str, keep_default_na=False)
    assert list(frame.columns) == [*BUILTIN_HEADERS, "Note, with comma"]
    assert frame["Name"].tolist() == expected
    assert frame["Email"].tolist() == [f"{n}@exämple.com" for n in reversed(range(len(TRICKY)))]


# --------------------------------------------------------------------------- streaming


def bulk_contacts(session: Session, workspace_id: int, count: int, prefix: str = "Bulk") -> None:
    session.execute(
        sa.insert(Contact),
        [
            {
                "workspace_id": workspace_id,
                "name": f"{prefix} {number:05d}",
                "email": f"{prefix.lower()}{number}@example.com",
                "phone": None,
                "phone_digits": None,
                "avatar_color": "indigo",
                "channel": "imported",
                "created_at": T0 + timedelta(seconds=number),
                "updated_at": T0,
                "last_interaction_at": None,
                "campaign_opt_in": False,
                "custom_fields": {},
            }
            for number in range(count)
        ],
    )
    session.commit()


def test_5000_contacts_stream_in_several_chunks_without_holding_a_session(
    session, engine, workspace_id
):
    bulk_contacts(session, workspace_id, 5000)
    open_sessions = []

    @contextmanager
    def factory() -> Iterator[Session]:
        open_sessions.append(1)
        try:
            with db.session_scope(engine) as scoped:
                yield scoped
        finally:
            open_sessions.pop()

    chunks = []
    for chunk in export_rows(factory, workspace_id, options(10_000), chunk_size=1000):
        assert not open_sessions  # nothing open while a chunk waits to be sent
        chunks.append(chunk)
    assert len(chunks) == 1 + 5  # header, then five chunks of 1,000 rows
    rows = parse("".join(chunks))[1:]
    assert len(rows) == 5000
    assert rows[0][0] == "Bulk 04999" and rows[-1][0] == "Bulk 00000"
    assert len({row[0] for row in rows}) == 5000


def test_rows_are_fixed_when_the_export_starts(session, engine, workspace_id):
    bulk_contacts(session, workspace_id, 50)
    stream = export_rows(partial(db.session_scope, engine), workspace_id, options(), chunk_size=10)
    header, first = next(stream), next(stream)
    # Meanwhile: one contact from a later chunk is deleted, one newer contact arrives.
    gone = session.execute(sa.select(Contact.id).where(Contact.name == "Bulk 00005")).scalar_one()
    session.execute(sa.delete(Contact).where(Contact.id == gone))
    add_contact(session, workspace_id, "Latecomer", created_at=T0 + timedelta(days=30))
    session.commit()
    rows = parse(header + first + "".join(stream))[1:]
    assert len(rows) == 49
    assert "Latecomer" not in {row[0] for row in rows}
    assert "Bulk 00005" not in {row[0] for row in rows}


def test_promised_rows_caps_the_file(session, engine, workspace_id):
    bulk_contacts(session, workspace_id, 20)
    promised = validate_export(session, workspace_id, options(), MAX)
    add_contact(session, workspace_id, "Latecomer", created_at=T0 + timedelta(days=30))
    session.commit()
    text = export_text(engine, workspace_id, options(), promised_rows=promised)
    assert len(parse(text)) == promised + 1 == 21


def test_export_filename():
    assert export_filename(date(2026, 3, 7)) == "contacts-2026-03-07.csv"


# --------------------------------------------------------------------------- the chunk reader
# export_rows reads each chunk with its own queries (ids bound as one parameter, conversation
# labels picked in Python, SQLite's stored text decoded by hand). These tests hold them to
# the plain definitions: the window-function query the export used to run, the table's
# latest_conversation_values, and pandas' to_csv.


def reference_recent_labels(session: Session, workspace_id: int, ids: list[int]) -> dict:
    """The distinct labels of each contact's five most recent conversations (updated_at,
    then id, descending), the newest conversation's first: a window function in SQL."""
    ranked = (
        sa.select(
            Conversation.id.label("conversation_id"),
            Conversation.contact_id.label("contact_id"),
            sa.func.row_number()
            .over(
                partition_by=Conversation.contact_id,
                order_by=(Conversation.updated_at.desc(), Conversation.id.desc()),
            )
            .label("recency"),
        )
        .where(Conversation.workspace_id == workspace_id, Conversation.contact_id.in_(ids))
        .subquery()
    )
    names: dict[int, dict[str, None]] = {}
    for contact_id, name in session.execute(
        sa.select(ranked.c.contact_id, Label.name)
        .select_from(ranked)
        .join(ConversationLabel, ConversationLabel.conversation_id == ranked.c.conversation_id)
        .join(Label, Label.id == ConversationLabel.label_id)
        .where(ranked.c.recency <= 5, Label.workspace_id == workspace_id)
        .order_by(ranked.c.contact_id, ranked.c.recency, Label.name)
    ):
        names.setdefault(contact_id, {})[name] = None
    return {contact_id: ", ".join(labels) for contact_id, labels in names.items()}


def test_conversation_columns_match_their_definitions_across_chunks(
    session, engine, workspace_id, make_workspace
):
    """40 contacts with 0–11 conversations each (ties in updated_at included), labels and
    values spread over them, exported 7 contacts a chunk: every cell as defined."""
    add_field(session, workspace_id, "topic", "Topic", "select", "conversation", ["A", "B"])
    add_field(session, workspace_id, "order", "Order", "number", "conversation", position=1)
    add_field(session, workspace_id, "tags", "Tags", "multi_select", "conversation", position=2)
    labels = [add_label(session, workspace_id, name) for name in ("Zeta", "alpha", "Mid", "Ω")]
    other = make_workspace("other")
    stranger = add_contact(session, other, "Stranger")
    foreign = add_conversation(session, other, stranger, T0)
    session.add(ConversationLabel(conversation_id=foreign, label_id=add_label(session, other, "X")))
    ids = []
    for number in range(40):
        contact = add_contact(
            session, workspace_id, f"C{number:02d}", created_at=T0 - timedelta(minutes=number)
        )
        ids.append(contact)
        for turn in range(number % 12):
            # Every third conversation shares its updated_at with the previous one: the id
            # breaks the tie.
            when = T0 + timedelta(hours=(number * 7 + turn * 5) % 13 - (turn % 3 == 2))
            fields = [
                {"topic": "A", "order": turn},
                {},
                {"topic": "", "tags": ["x", "y"]},
                {"order": 0, "topic": None},
                {"tags": []},
            ][(number + turn) % 5]
            conversation = add_conversation(session, workspace_id, contact, when, **fields)
            for index, label in enumerate(labels):
                if (number + turn + index) % 3 == 0:
                    session.add(ConversationLabel(conversation_id=conversation, label_id=label))
    session.commit()

    chosen = options(include_conversation_labels=True, include_conversation_fields=True)
    rows = as_dicts(export_text(engine, workspace_id, chosen, chunk_size=7))
    assert [row["Name"] for row in rows] == [f"C{number:02d}" for number in range(40)]
    recent = reference_recent_labels(session, workspace_id, ids)
    assert any(label.count(",") >= 2 for label in recent.values())
    latest = latest_conversation_values(session, workspace_id, ids, {"topic", "order", "tags"})
    for contact, row in zip(ids, rows, strict=True):
        values = latest.get(contact, {})
        assert row[CONVERSATION_LABELS_HEADER] == recent.get(contact, "")
        assert row["Topic (conversation)"] == values.get("topic", "")
        assert row["Order (conversation)"] == str(values.get("order", ""))
        assert row["Tags (conversation)"] == ", ".join(values.get("tags", []))


def test_timestamps_are_utc_whatever_the_connections_time_zone(
    session, engine, workspace_id, dialect
):
    add_contact(
        session, workspace_id, "Ada", last_interaction_at=T0 + timedelta(microseconds=999_999)
    )
    session.commit()

    @contextmanager
    def in_kolkata() -> Iterator[Session]:
        with db.session_scope(engine) as scoped:
            if dialect == "postgresql":  # the export formats timestamps in SQL there
                scoped.execute(sa.text("SET TIME ZONE 'Asia/Kolkata'"))
            yield scoped

    (row,) = as_dicts("".join(export_rows(in_kolkata, workspace_id, options())))
    assert row["Created At"] == "2026-01-10T09:30:15Z"
    assert row["Last Interaction"] == "2026-01-10T09:30:15Z"  # truncated, not rounded


@pytest.mark.parametrize(
    "row",
    [
        ["plain", 'a "quoted" word', "comma, inside", "line\nbreak", "carriage\rreturn"],
        ["", " ", "'", '"', "\r\n", "trailing space "],
        [0, -5, 12.5, 1e16, 2**70, 0.1 + 0.2, float("inf")],
        ["ünïcødé ✓", "tab\there", "🙂", "﻿bom", "x" * 300],
    ],
)
def test_rows_are_written_as_pandas_wrote_them(row):
    from cloodot_app.services.export import _csv

    expected = pd.DataFrame([row, row], dtype=object).to_csv(
        index=False, header=False, lineterminator="\r\n"
    )
    assert _csv([row, row]) == expected


def test_an_empty_or_nan_number_is_an_empty_cell():
    from cloodot_app.services.export import _field_cell

    assert _field_cell("number", float("nan")) == ""
    assert _field_cell("number", None) == ""
    assert _field_cell("number", -5) == -5


@pytest.mark.parametrize(
    ("stored", "cell"),
    [
        ("2026-01-10 09:30:15.000123", "2026-01-10T09:30:15Z"),  # SQLAlchemy's format
        ("2026-01-10 09:30:15", "2026-01-10T09:30:15Z"),
        ("2026-01-10T09:30:15.5+02:00", "2026-01-10T07:30:15Z"),
        (None, ""),
    ],
)
def test_sqlite_timestamps_are_written_as_their_datetimes_would_be(stored, cell):
    from cloodot_app.services.export import _stored_timestamp

    assert _stored_timestamp(stored) == cell


# --------------------------------------------------------------------------- isolation


def test_workspaces_are_isolated(session, engine, workspace_id, make_workspace):
    other = make_workspace("other")
    shared = add_label(session, other, "Theirs")
    add_field(session, other, "secret", "Their field", "text")
    add_contact(session, workspace_id, "Ours")
    theirs = add_contact(session, other, "Theirs", custom_fields={"secret": "x"})
    session.add(ContactLabel(contact_id=theirs, label_id=shared))
    session.commit()
    assert validate_export(session, workspace_id, options(), MAX) == 1
    text = export_text(engine, workspace_id, options())
    assert names(text) == ["Ours"]
    assert "Their field" not in parse(text)[0]
    ticket = make_ticket(workspace_id, options(), SECRET)
    assert read_ticket(ticket, SECRET)[0] == workspace_id


# --------------------------------------------------------------------------- tickets


def test_ticket_round_trip():
    spec = FilterSpec.parse(
        {
            "match": "any",
            "conditions": [
                {"field": "label", "operator": "has_any_of", "value": [3, 4]},
                {"field": "created_at", "operator": "within_last_days", "value": 30},
            ],
        }
    )
    chosen = ExportOptions(
        query=ContactQuery(search='zoë, "x"', filter=spec, segment_id=7, page=4),
        limit=2500,
        sort="created_at",
        include_conversation_labels=True,
        include_conversation_fields=False,
    )
    workspace, read = read_ticket(make_ticket(42, chosen, SECRET), SECRET)
    assert workspace == 42
    assert read.to_json() == chosen.to_json()
    assert read.query.filter == spec and read.query.segment_id == 7
    assert read.query.page == 1  # page is not part of an export


def _altered(text: str) -> str:
    """`text` with its last two characters changed (tickets carry a random nonce, so
    their ends are not fixed)."""
    return text[:-2] + ("xx" if not text.endswith("xx") else "yy")


def test_tampered_or_foreign_tickets_are_refused():
    ticket = make_ticket(1, options(), SECRET)
    body, signature = ticket.split(".")
    forged_body = make_ticket(2, options(), SECRET).split(".")[0]
    for bad in (
        f"{forged_body}.{signature}",  # another workspace, old signature
        f"{body}.{_altered(signature)}",
        f"{_altered(body)}.{signature}",
        body,
        "",
        "not.a-ticket",
        "....",
    ):
        with pytest.raises(TicketError):
            read_ticket(bad, SECRET)
    with pytest.raises(TicketError):
        read_ticket(ticket, "another-secret")


def test_expired_tickets_are_refused():
    issued = 1_800_000_000.0
    ticket = make_ticket(1, options(), SECRET, ttl_seconds=300, now=issued)
    assert read_ticket(ticket, SECRET, now=issued + 299)[0] == 1
    with pytest.raises(TicketError, match="expired"):
        read_ticket(ticket, SECRET, now=issued + 300)
    with pytest.raises(TicketError, match="expired"):
        read_ticket(make_ticket(1, options(), SECRET, ttl_seconds=0), SECRET)
    with pytest.raises(TicketError, match="expired"):
        read_ticket(
            make_ticket(1, options(), SECRET, ttl_seconds=300), SECRET, now=time.time() + 301
        )


def test_ticket_secret_is_stable_and_overridable(monkeypatch):
    monkeypatch.delenv("CLOODOT_SECRET_KEY", raising=False)
    assert ticket_secret() == ticket_secret() and len(ticket_secret()) >= 32
    monkeypatch.setenv("CLOODOT_SECRET_KEY", "from-env")
    assert ticket_secret() == "from-env"


# --------------------------------------------------------------------------- HTTP route


@pytest.fixture
def client(database_url, monkeypatch):
    from starlette.testclient import TestClient

    monkeypatch.setattr(db, "settings", replace(settings, database_url=database_url))
    db.get_engine.cache_clear()
    with TestClient(build_api()) as test_client:
        yield test_client
    db.get_engine().dispose()
    db.get_engine.cache_clear()


@pytest.fixture
def manager(client, session, workspace_id):
    """The client, signed in as a manager of the workspace (managers may export)."""
    client.headers.update(session_cookie(member_session(session, workspace_id, "manager")))
    return client


def test_route_streams_the_csv(manager, session, workspace_id, make_workspace):
    client = manager
    bulk_contacts(session, workspace_id, 2500)
    bulk_contacts(session, make_workspace("other"), 10, prefix="Other")
    ticket = make_ticket(workspace_id, options(3000), ticket_secret())
    with client.stream("GET", API_CONTACTS_EXPORT, params={"ticket": ticket}) as response:
        assert response.status_code == 200, response.read()
        body = b"".join(response.iter_bytes())
    today = datetime.now(UTC).date().isoformat()
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="contacts-{today}.csv"'
    )
    assert response.headers["x-export-rows"] == "2500"
    rows = parse(body.decode("utf-8"))
    assert rows[0] == list(BUILTIN_HEADERS) and len(rows) == 2501
    assert not any(row[0].startswith("Other") for row in rows)


def test_route_refuses_bad_tickets_and_invalid_exports(manager, session, workspace_id):
    client = manager
    add_contact(session, workspace_id, "Someone")
    session.commit()
    for params in ({}, {"ticket": "forged.ticket"}, {"workspace_id": str(workspace_id)}):
        response = client.get(API_CONTACTS_EXPORT, params=params)
        assert response.status_code == 403
        assert "not valid" in response.json()["error"]
    expired = make_ticket(workspace_id, options(), ticket_secret(), ttl_seconds=0)
    assert client.get(API_CONTACTS_EXPORT, params={"ticket": expired}).status_code == 403
    too_many = make_ticket(workspace_id, options(settings.export_max_rows + 1), ticket_secret())
    response = client.get(API_CONTACTS_EXPORT, params={"ticket": too_many})
    assert response.status_code == 400
    assert response.json()["error"] == (
        f"You can export at most {settings.export_max_rows:,} contacts at a time."
    )
    gone = FilterSpec.parse({"conditions": [{"field": "cf.gone", "operator": "is_empty"}]})
    broken = make_ticket(workspace_id, options(query=ContactQuery(filter=gone)), ticket_secret())
    response = client.get(API_CONTACTS_EXPORT, params={"ticket": broken})
    assert response.status_code == 400 and "no longer exists" in response.json()["error"]


def test_route_is_for_members_who_may_export_in_the_tickets_workspace(
    client, session, workspace_id, make_workspace
):
    add_contact(session, workspace_id, "Someone")
    session.commit()

    def download(token: str | None):
        ticket = make_ticket(workspace_id, options(), ticket_secret())
        headers = session_cookie(token) if token else {}
        return client.get(API_CONTACTS_EXPORT, params={"ticket": ticket}, headers=headers)

    response = download(None)
    assert (response.status_code, response.json()["error"]) == (401, "Sign in to continue.")
    response = download(member_session(session, workspace_id, "agent"))
    assert response.status_code == 403
    assert response.json()["error"] == "Your role (Agent) cannot download contacts. Ask an admin."
    stranger = member_session(session, make_workspace("other"), "admin", "boss@other.example")
    response = download(stranger)
    assert (response.status_code, response.json()["error"]) == (
        403,
        "This download link is for another workspace.",
    )
    assert download(member_session(session, workspace_id, "manager")).status_code == 200


def test_a_download_ticket_works_once(client, session, workspace_id):
    add_contact(session, workspace_id, "Someone")
    session.commit()
    client.headers.update(session_cookie(member_session(session, workspace_id, "admin")))
    ticket = make_ticket(workspace_id, options(), ticket_secret())
    assert client.get(API_CONTACTS_EXPORT, params={"ticket": ticket}).status_code == 200
    again = client.get(API_CONTACTS_EXPORT, params={"ticket": ticket})
    assert again.status_code == 403 and "already used" in again.json()["error"]
