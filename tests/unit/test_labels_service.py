"""Label services on SQLite and PostgreSQL: the settings list (counts, segments using each
label), create / rename / recolour with their rules, usage, deletion, and isolation
between workspaces.

The world (acme), worked out by hand:

| label        | colour  | contacts  | conversations     | segments using it       |
|--------------|---------|-----------|-------------------|-------------------------|
| VIP          | crimson | Ann, Ben  | Ann's, Cat's      | VIPs, VIP leads         |
| Lead         | green   | Ann       | Cat's             | VIP leads, Not leads    |
| beta testers | gray    | -         | -                 | -                       |

acme's segments, in list order: VIPs (Label has any of VIP), VIP leads (Label has all of
VIP, Lead), Not leads (Label has none of Lead), WhatsApp (Channel is whatsapp).

globex has its own "VIP" label on Mara, on her conversation and in a segment: it must
never count in acme, and acme cannot see, edit or delete it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.errors import NotFound
from cloodot_app.models import (
    Contact,
    ContactLabel,
    Conversation,
    ConversationLabel,
    Label,
    Segment,
)
from cloodot_app.services.labels import (
    LABEL_COLORS,
    LabelError,
    create_label,
    delete_label,
    label_usage,
    list_labels,
    update_label,
)
from cloodot_app.services.segments import list_segments
from cloodot_app.services.workspaces import data_version, ensure_workspace

# SQLAlchemy's deprecations become errors in its next release: fail on them now.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SADeprecationWarning")


def c(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def spec(*conditions: dict, match: str = "all") -> dict[str, Any]:
    return {"match": match, "conditions": list(conditions)}


@dataclass
class World:
    ws: int
    other_ws: int
    labels: dict[str, int]  # name -> id (acme)
    other_vip: int  # globex's VIP
    contacts: dict[str, int]  # first name -> id
    conversations: dict[str, int]  # first name of the contact -> conversation id


@pytest.fixture
def world(session: Session, workspace_id: int) -> World:
    ws = workspace_id
    other = ensure_workspace(session, "globex").id
    labels = {
        "VIP": Label(workspace_id=ws, name="VIP", color="crimson"),
        "Lead": Label(workspace_id=ws, name="Lead", color="green"),
        "beta testers": Label(workspace_id=ws, name="beta testers", color="gray"),
    }
    other_vip = Label(workspace_id=other, name="VIP", color="blue")
    session.add_all([*labels.values(), other_vip])
    session.flush()
    ids = {name: label.id for name, label in labels.items()}
    vip, lead = ids["VIP"], ids["Lead"]

    contacts, conversations = {}, {}
    for name, workspace, contact_labels, conversation_labels in [
        ("Ann", ws, [vip, lead], [vip]),
        ("Ben", ws, [vip], None),
        ("Cat", ws, [], [vip, lead]),
        ("Dov", ws, [], []),
        ("Mara", other, [other_vip.id], [other_vip.id]),
    ]:
        contact = Contact(workspace_id=workspace, name=name, channel="whatsapp")
        session.add(contact)
        session.flush()
        contacts[name] = contact.id
        session.add_all(ContactLabel(contact_id=contact.id, label_id=i) for i in contact_labels)
        if conversation_labels is not None:
            conversation = Conversation(
                workspace_id=workspace, contact_id=contact.id, channel="whatsapp"
            )
            session.add(conversation)
            session.flush()
            conversations[name] = conversation.id
            session.add_all(
                ConversationLabel(conversation_id=conversation.id, label_id=i)
                for i in conversation_labels
            )
    for position, (workspace, name, rules) in enumerate(
        [
            (ws, "VIPs", spec(c("label", "has_any_of", [vip]))),
            (ws, "VIP leads", spec(c("label", "has_all_of", [vip, lead]))),
            (ws, "Not leads", spec(c("label", "has_none_of", [lead]))),
            (ws, "WhatsApp", spec(c("channel", "is", "whatsapp"))),
            (other, "Globex VIPs", spec(c("label", "has_any_of", [other_vip.id]))),
        ]
    ):
        session.add(
            Segment(workspace_id=workspace, name=name, filter_spec=rules, position=position)
        )
    session.commit()
    return World(
        ws=ws,
        other_ws=other,
        labels=ids,
        other_vip=other_vip.id,
        contacts=contacts,
        conversations=conversations,
    )


def contact_links(session: Session) -> set[tuple[str, str]]:
    """(contact name, label name) for every contact_label row, any workspace."""
    return set(
        session.execute(
            sa.select(Contact.name, Label.name)
            .join(ContactLabel, ContactLabel.contact_id == Contact.id)
            .join(Label, Label.id == ContactLabel.label_id)
        ).all()
    )


def conversation_links(session: Session) -> set[tuple[str, str]]:
    """(contact name, label name) for every conversation_label row, any workspace."""
    return set(
        session.execute(
            sa.select(Contact.name, Label.name)
            .join(Conversation, Conversation.contact_id == Contact.id)
            .join(ConversationLabel, ConversationLabel.conversation_id == Conversation.id)
            .join(Label, Label.id == ConversationLabel.label_id)
        ).all()
    )


@contextmanager
def counting_statements(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


# --------------------------------------------------------------------------- the list


def test_label_colors_are_the_radix_palette():
    assert LABEL_COLORS == (
        "gray",
        "tomato",
        "red",
        "crimson",
        "pink",
        "plum",
        "purple",
        "violet",
        "indigo",
        "blue",
        "cyan",
        "teal",
        "green",
        "grass",
        "orange",
        "amber",
        "brown",
    )


def test_list_labels_counts_usage_and_orders_by_name_ignoring_case(session, world):
    ids = world.labels
    assert [asdict(row) for row in list_labels(session, world.ws)] == [
        {
            "id": ids["beta testers"],
            "name": "beta testers",
            "color": "gray",
            "contacts": 0,
            "conversations": 0,
            "segments": [],
        },
        {
            "id": ids["Lead"],
            "name": "Lead",
            "color": "green",
            "contacts": 1,
            "conversations": 1,
            "segments": ["VIP leads", "Not leads"],
        },
        {
            "id": ids["VIP"],
            "name": "VIP",
            "color": "crimson",
            "contacts": 2,
            "conversations": 2,
            "segments": ["VIPs", "VIP leads"],
        },
    ]
    (globex_vip,) = list_labels(session, world.other_ws)
    assert asdict(globex_vip) == {
        "id": world.other_vip,
        "name": "VIP",
        "color": "blue",
        "contacts": 1,
        "conversations": 1,
        "segments": ["Globex VIPs"],
    }
    assert list_labels(session, ensure_workspace(session, "empty").id) == []


def test_list_labels_costs_the_same_few_queries_for_any_number_of_labels(session, world):
    with counting_statements(session) as few:
        list_labels(session, world.ws)
    for number in range(30):
        create_label(session, world.ws, f"Extra {number}", "blue")
    session.commit()
    with counting_statements(session) as many:
        assert len(list_labels(session, world.ws)) == 33
    # The labels, one GROUP BY per link table, the segments.
    assert len(few) == len(many) == 4


def test_segments_with_unreadable_or_odd_label_values_are_skipped(session, world):
    vip = world.labels["VIP"]
    session.add_all(
        [
            Segment(workspace_id=world.ws, name="Broken", filter_spec={"match": "sometimes"}),
            Segment(
                workspace_id=world.ws,
                name="Odd values",
                filter_spec=spec(c("label", "has_any_of", ["x", None, True, str(vip)])),
                position=9,
            ),
            Segment(
                workspace_id=world.ws,
                name="Scalar",
                filter_spec=spec(c("label", "has_any_of", vip)),
                position=10,
            ),
        ]
    )
    session.commit()
    assert label_usage(session, world.ws, vip).segments == [
        "VIPs",
        "VIP leads",
        "Odd values",
        "Scalar",
    ]


# --------------------------------------------------------------------------- create


def test_create_label_trims_and_collapses_the_name(session, world):
    before = data_version(session, world.ws)
    label = create_label(session, world.ws, "  Big \t  spender  ", "amber")
    session.commit()
    assert (label.workspace_id, label.name, label.color) == (world.ws, "Big spender", "amber")
    assert data_version(session, world.ws) == before + 1
    assert [row.name for row in list_labels(session, world.ws)] == [
        "beta testers",
        "Big spender",
        "Lead",
        "VIP",
    ]


@pytest.mark.parametrize(
    ("name", "color", "message"),
    [
        ("", "gray", "Give the label a name."),
        ("   \t ", "gray", "Give the label a name."),
        (None, "gray", "Give the label a name."),
        ("x" * 81, "gray", "Keep the label name to 80 characters or fewer."),
        ("vip", "gray", "A label called “VIP” already exists."),
        ("  BETA   Testers ", "gray", "A label called “beta testers” already exists."),
        ("Fresh", "magenta", "Choose one of the colours: " + ", ".join(LABEL_COLORS) + "."),
        ("Fresh", "", "Choose one of the colours: " + ", ".join(LABEL_COLORS) + "."),
        ("Fresh", "Blue", "Choose one of the colours: " + ", ".join(LABEL_COLORS) + "."),
    ],
)
def test_create_label_refuses(session, world, name, color, message):
    before = data_version(session, world.ws)
    with pytest.raises(LabelError) as error:
        create_label(session, world.ws, name, color)
    assert str(error.value) == message
    assert isinstance(error.value, ValueError)
    session.rollback()
    assert len(list_labels(session, world.ws)) == 3
    assert data_version(session, world.ws) == before


def test_create_label_limits_and_non_ascii_case(session, world):
    assert create_label(session, world.ws, "x" * 80, "gray").name == "x" * 80
    assert create_label(session, world.ws, "Équipe", "teal").name == "Équipe"
    with pytest.raises(LabelError, match="^A label called “Équipe” already exists.$"):
        create_label(session, world.ws, "équipe", "teal")
    # Another workspace's names do not count.
    assert create_label(session, world.other_ws, "Lead", "green").workspace_id == world.other_ws
    session.commit()
    assert [row.name for row in list_labels(session, world.other_ws)] == ["Lead", "VIP"]


# --------------------------------------------------------------------------- update


def test_update_label_renames_and_recolours(session, world):
    vip = world.labels["VIP"]
    before = data_version(session, world.ws)
    label = update_label(session, world.ws, vip, "  Very   important ", "purple")
    session.commit()
    assert (label.id, label.name, label.color) == (vip, "Very important", "purple")
    assert data_version(session, world.ws) == before + 1
    # Same id, so the contacts, conversations and segments still have it.
    row = next(r for r in list_labels(session, world.ws) if r.id == vip)
    assert (row.name, row.contacts, row.conversations, row.segments) == (
        "Very important",
        2,
        2,
        ["VIPs", "VIP leads"],
    )
    # Its own name in another case is not a clash.
    assert update_label(session, world.ws, vip, "VERY IMPORTANT", "purple").name == (
        "VERY IMPORTANT"
    )


@pytest.mark.parametrize(
    ("name", "color", "message"),
    [
        ("", "green", "Give the label a name."),
        ("y" * 81, "green", "Keep the label name to 80 characters or fewer."),
        ("VIP", "green", "A label called “VIP” already exists."),
        ("Beta testers", "green", "A label called “beta testers” already exists."),
        ("Lead", "lime", "Choose one of the colours: " + ", ".join(LABEL_COLORS) + "."),
    ],
)
def test_update_label_refuses(session, world, name, color, message):
    lead = world.labels["Lead"]
    with pytest.raises(LabelError) as error:
        update_label(session, world.ws, lead, name, color)
    assert str(error.value) == message
    session.rollback()
    label = session.get(Label, lead)
    session.refresh(label)
    assert (label.name, label.color) == ("Lead", "green")


# --------------------------------------------------------------------------- usage / delete


def test_label_usage(session, world):
    ids = world.labels
    assert asdict(label_usage(session, world.ws, ids["VIP"])) == {
        "contacts": 2,
        "conversations": 2,
        "segments": ["VIPs", "VIP leads"],
    }
    assert asdict(label_usage(session, world.ws, ids["Lead"])) == {
        "contacts": 1,
        "conversations": 1,
        "segments": ["VIP leads", "Not leads"],
    }
    assert asdict(label_usage(session, world.ws, ids["beta testers"])) == {
        "contacts": 0,
        "conversations": 0,
        "segments": [],
    }
    assert asdict(label_usage(session, world.other_ws, world.other_vip)) == {
        "contacts": 1,
        "conversations": 1,
        "segments": ["Globex VIPs"],
    }


def test_delete_label_removes_links_and_breaks_its_segments(session, world):
    vip = world.labels["VIP"]
    before = data_version(session, world.ws)
    stored_specs = dict(session.execute(sa.select(Segment.name, Segment.filter_spec)).all())
    delete_label(session, world.ws, vip)
    session.commit()

    assert session.execute(sa.select(Label.id).where(Label.id == vip)).first() is None
    assert contact_links(session) == {("Ann", "Lead"), ("Mara", "VIP")}
    assert conversation_links(session) == {("Cat", "Lead"), ("Mara", "VIP")}
    assert data_version(session, world.ws) == before + 1
    assert [row.name for row in list_labels(session, world.ws)] == ["beta testers", "Lead"]
    # Segments are not edited; the ones that used it say why they are broken.
    assert dict(session.execute(sa.select(Segment.name, Segment.filter_spec)).all()) == stored_specs
    problems = {s.name: s.problem for s in list_segments(session, world.ws)}
    assert problems == {
        "VIPs": f"Condition 1: A label used here (#{vip}) has been deleted.",
        "VIP leads": f"Condition 1: A label used here (#{vip}) has been deleted.",
        "Not leads": "",
        "WhatsApp": "",
    }
    assert [s.problem for s in list_segments(session, world.other_ws)] == [""]


def test_delete_an_unused_label(session, world):
    delete_label(session, world.ws, world.labels["beta testers"])
    session.commit()
    assert [row.name for row in list_labels(session, world.ws)] == ["Lead", "VIP"]
    assert len(contact_links(session)) == 4
    assert len(conversation_links(session)) == 4


# --------------------------------------------------------------------------- isolation


def test_another_workspaces_label_is_not_found_by_any_function(session, world):
    foreign = world.other_vip
    before = data_version(session, world.ws), data_version(session, world.other_ws)
    for call in (
        lambda: update_label(session, world.ws, foreign, "Mine now", "red"),
        lambda: label_usage(session, world.ws, foreign),
        lambda: delete_label(session, world.ws, foreign),
        lambda: update_label(session, world.ws, 999_999, "Nobody's", "red"),
        lambda: label_usage(session, world.ws, 999_999),
        lambda: delete_label(session, world.ws, 999_999),
    ):
        with pytest.raises(NotFound, match="^That label no longer exists.$"):
            call()
    session.commit()
    label = session.get(Label, foreign)
    session.refresh(label)
    assert (label.workspace_id, label.name, label.color) == (world.other_ws, "VIP", "blue")
    assert ("Mara", "VIP") in contact_links(session)
    assert ("Mara", "VIP") in conversation_links(session)
    assert (data_version(session, world.ws), data_version(session, world.other_ws)) == before
    # And acme's list never shows globex's label.
    assert foreign not in {row.id for row in list_labels(session, world.ws)}
