"""Segment services on SQLite and PostgreSQL: the list (rules in words, broken rules),
counts, create / update / duplicate / delete, ordering, the board flag, usage and the
editor's live preview.

The world (acme) has five people and eight segments, worked out by hand below. A second
workspace (globex) has look-alike people, labels, fields and segments that must never leak
into acme's lists or counts.

| name       | channel   | labels    | plan       | last interaction     | conversation topic |
|------------|-----------|-----------|------------|----------------------|--------------------|
| Ann Archer | whatsapp  | VIP       | Pro        | T0 + 3 h             | -                  |
| Ben Baker  | instagram | VIP, Lead | Free       | T0 + 1 h             | -                  |
| Cat Chen   | whatsapp  | Lead      | -          | -                    | Billing            |
| Dov Dahl   | webchat   | -         | Enterprise | T0 + 2 h             | -                  |
| Eve Egan   | imported  | -         | -          | T0 + 1 h (tie, later)| Shipping           |

globex: Mara Moss (whatsapp, globex's VIP, plan Pro, a Billing conversation, last
interaction T0 + 9 h) and Zack Zane (whatsapp, T0 + 8 h).

| position | acme segment      | rules                                         | members        |
|----------|-------------------|-----------------------------------------------|----------------|
| 0        | VIP               | Label has any of VIP                          | Ann, Ben       |
| 1        | WhatsApp          | Channel is whatsapp                           | Ann, Cat       |
| 2        | VIP on WhatsApp   | Channel is whatsapp · Label has any of VIP    | Ann            |
| 3        | VIP or WhatsApp   | Label has any of VIP or Channel is whatsapp   | Ann, Ben, Cat  |
| 4        | Paying            | Plan is any of Pro, Enterprise                | Ann, Dov       |
| 5        | Billing talks     | Topic (conversation) is Billing               | Cat            |
| 6        | Unlabelled        | Label has none of VIP, Lead                   | Dov, Eve       |
| 7        | Nobody            | Name equals Nobody                            | (none)         |

globex's segments: VIP (Mara) and WhatsApp (Mara, Zack).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.filters import CompileContext, FieldCatalog, FilterError, FilterSpec, compile_spec
from cloodot_app.models import (
    Contact,
    ContactLabel,
    Conversation,
    CustomFieldDefinition,
    Label,
    Segment,
)
from cloodot_app.services import count_cache
from cloodot_app.services.contacts import (
    ContactQuery,
    NotFound,
    contacts_view,
    count_contacts,
    list_contacts,
)
from cloodot_app.services.leads import board_segments
from cloodot_app.services.segments import (
    SEGMENT_COLORS,
    SegmentPreview,
    SegmentSummary,
    create_segment,
    delete_segment,
    duplicate_segment,
    get_segment,
    list_segments,
    move_segment,
    preview_spec,
    segment_counts,
    segment_usage,
    segments_with_counts,
    set_on_board,
    update_segment,
)
from cloodot_app.services.workspaces import ensure_workspace, field_catalog

# SQLAlchemy's deprecations become errors in its next release: fail on them now.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SADeprecationWarning")

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def c(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def spec(*conditions: dict, match: str = "all") -> dict[str, Any]:
    return {"match": match, "conditions": list(conditions)}


def add_contact(session: Session, ws: int, name: str, **values: Any) -> Contact:
    values.setdefault("created_at", T0)
    values.setdefault("updated_at", values["created_at"])
    contact = Contact(workspace_id=ws, name=name, **values)
    session.add(contact)
    session.flush()
    return contact


def add_select_field(session: Session, ws: int, entity: str, key: str, options: list[str]):
    definition = CustomFieldDefinition(
        workspace_id=ws, entity=entity, key=key, label=key.title(), type="select", options=options
    )
    session.add(definition)
    return definition


@dataclass
class World:
    ws: int
    other_ws: int
    labels: dict[str, int]  # name -> id (acme)
    other_labels: dict[str, int]  # name -> id (globex)
    contacts: dict[str, int]  # first name -> id (acme)
    segments: dict[str, int]  # name -> id (acme)
    other_segments: dict[str, int]  # name -> id (globex)


@pytest.fixture
def world(session: Session, workspace_id: int) -> World:
    ws = workspace_id
    other = ensure_workspace(session, "globex").id
    labels = {name: Label(workspace_id=ws, name=name) for name in ("VIP", "Lead")}
    other_vip = Label(workspace_id=other, name="VIP")
    session.add_all([*labels.values(), other_vip])
    for workspace in (ws, other):
        add_select_field(session, workspace, "contact", "plan", ["Free", "Pro", "Enterprise"])
        add_select_field(session, workspace, "conversation", "topic", ["Billing", "Shipping"])
    session.flush()
    vip, lead = labels["VIP"].id, labels["Lead"].id

    people = [
        # name, channel, labels, plan, last interaction, conversation topic
        ("Ann Archer", "whatsapp", [vip], "Pro", T0 + timedelta(hours=3), None),
        ("Ben Baker", "instagram", [vip, lead], "Free", T0 + timedelta(hours=1), None),
        ("Cat Chen", "whatsapp", [lead], None, None, "Billing"),
        ("Dov Dahl", "webchat", [], "Enterprise", T0 + timedelta(hours=2), None),
        ("Eve Egan", "imported", [], None, T0 + timedelta(hours=1), "Shipping"),
        ("Mara Moss", "whatsapp", [other_vip.id], "Pro", T0 + timedelta(hours=9), "Billing"),
        ("Zack Zane", "whatsapp", [], None, T0 + timedelta(hours=8), None),
    ]
    contacts = {}
    for name, channel, label_ids, plan, last, topic in people:
        workspace = other if name in ("Mara Moss", "Zack Zane") else ws
        contact = add_contact(
            session,
            workspace,
            name,
            channel=channel,
            last_interaction_at=last,
            custom_fields={"plan": plan} if plan else {},
        )
        session.add_all(ContactLabel(contact_id=contact.id, label_id=i) for i in label_ids)
        if topic:
            session.add(
                Conversation(
                    workspace_id=workspace,
                    contact_id=contact.id,
                    channel=channel,
                    custom_fields={"topic": topic},
                )
            )
        contacts[name.split()[0]] = contact.id
    session.commit()

    segments = {}
    for name, rules in [
        ("VIP", spec(c("label", "has_any_of", [vip]))),
        ("WhatsApp", spec(c("channel", "is", "whatsapp"))),
        (
            "VIP on WhatsApp",
            spec(c("channel", "is", "whatsapp"), c("label", "has_any_of", [vip])),
        ),
        (
            "VIP or WhatsApp",
            spec(c("label", "has_any_of", [vip]), c("channel", "is", "whatsapp"), match="any"),
        ),
        ("Paying", spec(c("cf.plan", "is_any_of", ["Pro", "Enterprise"]))),
        ("Billing talks", spec(c("conv.topic", "is", "Billing"))),
        ("Unlabelled", spec(c("label", "has_none_of", [vip, lead]))),
        ("Nobody", spec(c("name", "equals", "Nobody"))),
    ]:
        segments[name] = create_segment(session, ws, name, rules).id
    other_segments = {
        "VIP": create_segment(
            session, other, "VIP", spec(c("label", "has_any_of", [other_vip.id]))
        ).id,
        "WhatsApp": create_segment(
            session, other, "WhatsApp", spec(c("channel", "is", "whatsapp"))
        ).id,
    }
    session.commit()
    return World(
        ws=ws,
        other_ws=other,
        labels={"VIP": vip, "Lead": lead},
        other_labels={"VIP": other_vip.id},
        contacts={k: v for k, v in contacts.items() if k not in ("Mara", "Zack")},
        segments=segments,
        other_segments=other_segments,
    )


ORDER = [
    "VIP",
    "WhatsApp",
    "VIP on WhatsApp",
    "VIP or WhatsApp",
    "Paying",
    "Billing talks",
    "Unlabelled",
    "Nobody",
]
RULES = {
    "VIP": "Label has any of VIP",
    "WhatsApp": "Channel is whatsapp",
    "VIP on WhatsApp": "Channel is whatsapp · Label has any of VIP",
    "VIP or WhatsApp": "Label has any of VIP or Channel is whatsapp",
    "Paying": "Plan is any of Pro, Enterprise",
    "Billing talks": "Topic (conversation) is Billing",
    "Unlabelled": "Label has none of VIP, Lead",
    "Nobody": "Name equals Nobody",
}
COUNTS = {
    "VIP": 2,
    "WhatsApp": 2,
    "VIP on WhatsApp": 1,
    "VIP or WhatsApp": 3,
    "Paying": 2,
    "Billing talks": 1,
    "Unlabelled": 2,
    "Nobody": 0,
}


def listed(session: Session, ws: int) -> list[str]:
    return [segment.name for segment in list_segments(session, ws)]


def counts_by_name(session: Session, world: World) -> dict[str, int | None]:
    counts = segment_counts(session, world.ws)
    assert set(counts) == set(world.segments.values())
    return {name: counts[segment_id] for name, segment_id in world.segments.items()}


def stored(session: Session, segment_id: int) -> Segment:
    """The row as the database has it (not as the session remembers it)."""
    session.expire_all()
    segment = session.get(Segment, segment_id)
    assert segment is not None
    return segment


def segment_total(session: Session, ws: int) -> int:
    return session.execute(
        sa.select(sa.func.count()).select_from(Segment).where(Segment.workspace_id == ws)
    ).scalar_one()


@contextmanager
def recorded_statements(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def reads_contacts(statement: str) -> bool:
    return re.search(r'\bFROM "?contact"?(\s|$)', statement) is not None


# --------------------------------------------------------------------------- the list


def test_list_segments_in_position_order_with_rules_in_words(session, world):
    segments = list_segments(session, world.ws)
    assert [s.name for s in segments] == ORDER
    assert [s.position for s in segments] == list(range(8))
    assert {s.name: s.rules for s in segments} == RULES
    assert all(s.problem == "" for s in segments)
    assert all(s.on_board is True for s in segments)
    first = segments[0]
    assert first.id == world.segments["VIP"]
    assert first.filter_spec == spec(c("label", "has_any_of", [world.labels["VIP"]]))
    assert first.color == SEGMENT_COLORS[0] and first.description == ""
    assert datetime.fromisoformat(first.updated_at).tzinfo is not None
    # globex sees only its own two.
    assert listed(session, world.other_ws) == ["VIP", "WhatsApp"]


def test_list_follows_positions_not_creation_order(session, world):
    # Positions as a drag-and-drop might leave them: out of id order, with a tie (-> by id).
    new_positions = {"Nobody": 0, "Paying": 1, "VIP": 1, "WhatsApp": 7}
    for name, position in new_positions.items():
        session.get(Segment, world.segments[name]).position = position
    for name in ("VIP on WhatsApp", "VIP or WhatsApp", "Billing talks", "Unlabelled"):
        session.get(Segment, world.segments[name]).position = 9
    session.commit()
    assert listed(session, world.ws) == [
        "Nobody",
        "VIP",  # position 1, created before Paying
        "Paying",
        "WhatsApp",
        "VIP on WhatsApp",
        "VIP or WhatsApp",
        "Billing talks",
        "Unlabelled",
    ]


def test_deleted_label_is_a_problem_not_a_silent_match(session, world):
    vip = world.labels["VIP"]
    session.execute(sa.delete(Label).where(Label.id == vip))
    session.commit()

    segments = {s.name: s for s in list_segments(session, world.ws)}
    deleted = f"A label used here (#{vip}) has been deleted."
    expected_problems = {
        "VIP": f"Condition 1: {deleted}",
        "VIP on WhatsApp": f"Condition 2: {deleted}",
        "VIP or WhatsApp": f"Condition 1: {deleted}",
        "Unlabelled": f"Condition 1: {deleted}",
    }
    assert {n: s.problem for n, s in segments.items() if s.problem} == expected_problems
    for name in expected_problems:
        assert segments[name].rules == ""
    assert segments["WhatsApp"].rules == "Channel is whatsapp"
    # Neither "everyone" (the broken condition dropped) nor 0 (nothing has the label):
    # no count at all. "VIP or WhatsApp" would silently read as "WhatsApp" (2).
    assert counts_by_name(session, world) == {
        **COUNTS,
        "VIP": None,
        "VIP on WhatsApp": None,
        "VIP or WhatsApp": None,
        "Unlabelled": None,
    }
    # The segment's rows are an error too, not a list.
    with pytest.raises(FilterError, match=re.escape(deleted)):
        list_contacts(session, world.ws, ContactQuery(segment_id=world.segments["VIP"]))
    # globex's VIP (a different label) is fine.
    assert segment_counts(session, world.other_ws) == {
        world.other_segments["VIP"]: 1,
        world.other_segments["WhatsApp"]: 2,
    }
    assert all(s.problem == "" for s in list_segments(session, world.other_ws))


def test_deleted_custom_field_definitions_are_problems(session, world):
    session.execute(
        sa.delete(CustomFieldDefinition).where(CustomFieldDefinition.workspace_id == world.ws)
    )
    session.commit()

    segments = {s.name: s for s in list_segments(session, world.ws)}
    assert {n: s.problem for n, s in segments.items() if s.problem} == {
        "Paying": "Condition 1: The field “plan” no longer exists.",
        "Billing talks": "Condition 1: The field “topic” no longer exists.",
    }
    assert segments["Paying"].rules == segments["Billing talks"].rules == ""
    assert counts_by_name(session, world) == {**COUNTS, "Paying": None, "Billing talks": None}
    # globex still has its own plan and topic fields.
    assert all(s.problem == "" for s in list_segments(session, world.other_ws))


def test_a_label_of_another_workspace_is_a_problem(session, world):
    """A stored rule naming globex's label (not created through the service) counts for
    nobody in acme: it reads as a deleted label."""
    foreign = world.other_labels["VIP"]
    session.add(
        Segment(
            workspace_id=world.ws,
            name="Foreign VIP",
            position=8,
            filter_spec=spec(c("label", "has_any_of", [foreign])),
        )
    )
    session.commit()
    (broken,) = [s for s in list_segments(session, world.ws) if s.problem]
    assert broken.name == "Foreign VIP"
    assert broken.problem == f"Condition 1: A label used here (#{foreign}) has been deleted."
    assert segment_counts(session, world.ws)[broken.id] is None


# --------------------------------------------------------------------------- counts


def test_segment_counts_by_hand(session, world):
    assert counts_by_name(session, world) == COUNTS
    assert segment_counts(session, world.other_ws) == {
        world.other_segments["VIP"]: 1,
        world.other_segments["WhatsApp"]: 2,
    }


def test_segment_counts_agree_with_the_segment_views(session, world):
    counts = segment_counts(session, world.ws)
    for segment_id, count in counts.items():
        assert count == count_contacts(session, world.ws, ContactQuery(segment_id=segment_id))


def test_segment_counts_count_each_segment_once_then_from_the_cache(session, world):
    """One count per segment (each can use its own index: a single pass with a SUM(CASE)
    per segment read every contact), and none at all when nothing changed since."""
    segments = len(segment_counts(session, world.ws))
    count_cache.clear()
    with recorded_statements(session) as statements:
        segment_counts(session, world.ws)
    counting = [s for s in statements if reads_contacts(s)]
    assert len(counting) == segments == 8
    assert all(statement.startswith("SELECT count(*)") for statement in counting)
    with recorded_statements(session) as statements:
        segment_counts(session, world.ws)
    assert not [s for s in statements if reads_contacts(s)]


def test_segment_counts_without_segments(session, workspace_id):
    add_contact(session, workspace_id, "Ann")
    session.commit()
    with recorded_statements(session) as statements:
        assert segment_counts(session, workspace_id) == {}
    assert not [s for s in statements if reads_contacts(s)]


def test_segment_counts_never_count_another_workspace(session, world):
    """Contacts that globex adds, even ones matching every acme rule, change no acme count;
    and a globex segment is never one of acme's counts."""
    other = world.other_ws
    for _ in range(3):
        contact = add_contact(
            session, other, "Nobody", channel="whatsapp", custom_fields={"plan": "Pro"}
        )
        session.add(
            Conversation(
                workspace_id=other,
                contact_id=contact.id,
                channel="whatsapp",
                custom_fields={"topic": "Billing"},
            )
        )
    session.commit()
    assert counts_by_name(session, world) == COUNTS
    assert not set(segment_counts(session, world.ws)) & set(world.other_segments.values())
    assert segment_counts(session, other) == {
        world.other_segments["VIP"]: 1,
        world.other_segments["WhatsApp"]: 5,
    }


def test_counts_follow_the_contacts(session, world):
    ann, eve = world.contacts["Ann"], world.contacts["Eve"]
    session.get(Contact, ann).channel = "instagram"
    session.add(ContactLabel(contact_id=eve, label_id=world.labels["VIP"]))
    session.commit()
    # Ann leaves WhatsApp (and VIP on WhatsApp); Eve joins VIP and leaves Unlabelled.
    assert counts_by_name(session, world) == {
        **COUNTS,
        "VIP": 3,
        "WhatsApp": 1,
        "VIP on WhatsApp": 0,
        "VIP or WhatsApp": 4,  # Ann, Ben, Cat, Eve
        "Unlabelled": 1,
    }


# --------------------------------------------------------------------------- creating


def test_create_segment_stores_what_was_asked(session, world):
    segment = create_segment(
        session,
        world.ws,
        "  Hot    leads \t",
        spec(c("label", "has_any_of", [world.labels["Lead"]])),
        description="  Leads to call back this week.  ",
        color="teal",
    )
    session.commit()
    row = stored(session, segment.id)
    assert (row.workspace_id, row.name, row.description, row.color) == (
        world.ws,
        "Hot leads",
        "Leads to call back this week.",
        "teal",
    )
    assert (row.position, row.on_board) == (8, True)
    assert abs(row.updated_at - row.created_at) < timedelta(seconds=1)
    assert abs(row.created_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert listed(session, world.ws)[-1] == "Hot leads"
    assert segment_counts(session, world.ws)[segment.id] == 2  # Ben, Cat


@pytest.mark.parametrize("name", ["", "   ", "\t\n", None])
def test_a_segment_needs_a_name(session, world, name):
    with pytest.raises(FilterError, match="^Give the segment a name.$"):
        create_segment(session, world.ws, name, spec(c("name", "contains", "a")))
    assert segment_total(session, world.ws) == 8


def test_segment_name_length(session, world):
    rules = spec(c("name", "contains", "a"))
    longest = "x" * 120
    assert create_segment(session, world.ws, f"  {longest}  ", rules).name == longest
    with pytest.raises(FilterError, match="^Keep the segment name under 120 characters.$"):
        create_segment(session, world.ws, "y" * 121, rules)
    session.commit()
    assert segment_total(session, world.ws) == 9


@pytest.mark.parametrize("name", ["VIP", "vip", "  Vip ", "WHATSAPP", "vip  on   whatsapp"])
def test_segment_names_are_unique_whatever_the_case(session, world, name):
    with pytest.raises(FilterError, match="^A segment called “.+” already exists.$"):
        create_segment(session, world.ws, name, spec(c("name", "contains", "a")))
    assert segment_total(session, world.ws) == 8


def test_the_same_name_is_free_in_another_workspace(session, world):
    rules = spec(c("channel", "is", "webchat"))
    copy = create_segment(session, world.other_ws, "Paying", rules)
    session.commit()
    assert copy.workspace_id == world.other_ws and copy.position == 2
    assert listed(session, world.other_ws) == ["VIP", "WhatsApp", "Paying"]
    assert "Paying" in listed(session, world.ws)


@pytest.mark.parametrize(
    "empty",
    [{}, None, spec(), spec(match="any"), FilterSpec()],
    ids=["dict", "none", "all", "any", "FilterSpec"],
)
def test_an_empty_spec_is_refused(session, world, empty):
    with pytest.raises(FilterError, match="^Add at least one condition before saving a segment.$"):
        create_segment(session, world.ws, "Everyone", empty)
    assert segment_total(session, world.ws) == 8


def _invalid_specs(world: World) -> list[tuple[dict, str]]:
    ok = c("name", "contains", "a")
    foreign = world.other_labels["VIP"]
    return [
        (
            spec(ok, c("channel", "contains", "whats")),
            "Condition 2: “Channel” cannot use “contains”; choose one of “is”",
        ),
        (spec(c("cf.nope", "is", "x")), "Condition 1: The field “nope” no longer exists."),
        (
            spec(ok, ok, c("label", "has_any_of", [foreign]), match="any"),
            f"Condition 3: A label used here (#{foreign}) has been deleted.",
        ),
        (spec(ok, c("cf.plan", "is", "Gold")), "Condition 2: “Plan” has no option “Gold”."),
        (spec(c("conv.topic", "is", "")), "Condition 1: Choose at least one option for “Topic"),
        (spec(c("created_at", "before", "soon")), "Condition 1: “Created at” needs a date"),
        ({"match": "some", "conditions": [ok]}, "This filter cannot be read: "),
        ({"conditions": [{"field": "name"}]}, "This filter cannot be read: "),
    ]


def test_an_invalid_spec_is_refused_with_the_condition_number(session, world):
    for rules, message in _invalid_specs(world):
        with pytest.raises(FilterError) as caught:
            create_segment(session, world.ws, "Broken", rules)
        assert str(caught.value).startswith(message), (rules, str(caught.value))
    assert segment_total(session, world.ws) == 8


def test_the_spec_is_stored_validated_and_coerced(session, world):
    vip, lead = world.labels["VIP"], world.labels["Lead"]
    typed = spec(
        c("label", "has_any_of", [str(vip), vip, lead]),
        c("campaign_opt_in", "is", "Yes"),
        c("created_at", "between", ["2026-01-01T10:00:00", " 2026-02-01 "]),
        c("name", "contains", "  ann  "),
        c("last_interaction_at", "within_last_days", "7"),
        c("email", "is_empty", "ignored"),
        c("cf.plan", "is_any_of", "Pro"),
        c("conv.topic", "is", "Billing"),
        match="any",
    )
    segment = create_segment(session, world.ws, "Typed", typed)
    session.commit()
    assert stored(session, segment.id).filter_spec == spec(
        c("label", "has_any_of", [vip, lead]),
        c("campaign_opt_in", "is", True),
        c("created_at", "between", ["2026-01-01", "2026-02-01"]),
        c("name", "contains", "ann"),
        c("last_interaction_at", "within_last_days", 7),
        c("email", "is_empty", None),
        c("cf.plan", "is_any_of", ["Pro"]),
        c("conv.topic", "is", "Billing"),
        match="any",
    )
    # A FilterSpec is accepted as well as a dict; "match" defaults to all.
    parsed = FilterSpec.parse({"conditions": [c("channel", "is", "webchat")]})
    other = create_segment(session, world.ws, "Webchat", parsed)
    session.commit()
    assert stored(session, other.id).filter_spec == spec(c("channel", "is", "webchat"))


def test_default_colours_cycle_and_positions_append(session, make_workspace):
    ws = make_workspace("initech")
    rules = spec(c("name", "contains", "a"))
    created = [create_segment(session, ws, f"S{n}", rules) for n in range(len(SEGMENT_COLORS) + 2)]
    session.commit()
    assert [s.position for s in created] == list(range(16))
    assert [s.color for s in created] == [*SEGMENT_COLORS, "blue", "green"]
    # A colour of the palette is kept; anything else takes the default of its position.
    assert create_segment(session, ws, "Chosen", rules, color="pink").color == "pink"
    assert create_segment(session, ws, "Odd", rules, color="neon").color == SEGMENT_COLORS[17 % 14]
    assert create_segment(session, ws, "Empty", rules, color="").color == SEGMENT_COLORS[18 % 14]


def test_positions_are_per_workspace(session, world, make_workspace):
    rules = spec(c("name", "contains", "a"))
    assert create_segment(session, world.ws, "Ninth", rules).position == 8
    assert create_segment(session, world.other_ws, "Third", rules).position == 2
    fresh = make_workspace("initech")
    first = create_segment(session, fresh, "First", rules)
    assert (first.position, first.color) == (0, SEGMENT_COLORS[0])


def test_description_is_trimmed_and_cut_at_500(session, world):
    rules = spec(c("name", "contains", "a"))
    segment = create_segment(session, world.ws, "Long", rules, description="  " + "d" * 600)
    assert segment.description == "d" * 500
    assert create_segment(session, world.ws, "None", rules, description=None).description == ""


# --------------------------------------------------------------------------- updating


def test_update_segment(session, world):
    segment_id = world.segments["VIP"]
    row = session.get(Segment, segment_id)
    row.created_at = row.updated_at = T0
    session.commit()

    updated = update_segment(
        session,
        world.ws,
        segment_id,
        "  Very   important ",
        spec(c("label", "has_any_of", [str(world.labels["Lead"])])),
        description=" Call first ",
    )
    session.commit()
    row = stored(session, segment_id)
    assert updated.id == segment_id
    assert (row.name, row.description, row.position, row.color) == (
        "Very important",
        "Call first",
        0,
        SEGMENT_COLORS[0],  # no colour given: kept
    )
    assert row.filter_spec == spec(c("label", "has_any_of", [world.labels["Lead"]]))
    assert row.created_at == T0
    assert row.updated_at > T0
    assert abs(row.updated_at - datetime.now(UTC)) < timedelta(minutes=1)
    listed_row = list_segments(session, world.ws)[0]
    assert (listed_row.name, listed_row.rules) == ("Very important", "Label has any of Lead")
    assert segment_counts(session, world.ws)[segment_id] == 2  # Ben, Cat

    update_segment(
        session,
        world.ws,
        segment_id,
        "Very important",
        spec(c("name", "contains", "a")),
        color="pink",
    )
    session.commit()
    assert stored(session, segment_id).color == "pink"


def test_a_segment_may_keep_its_name_in_another_case(session, world):
    segment_id = world.segments["WhatsApp"]
    rules = spec(c("channel", "is", "whatsapp"))
    assert update_segment(session, world.ws, segment_id, "WhatsApp", rules).name == "WhatsApp"
    assert update_segment(session, world.ws, segment_id, "whatsapp", rules).name == "whatsapp"
    session.commit()
    assert stored(session, segment_id).name == "whatsapp"


def _snapshot(segment: Segment) -> tuple:
    return (
        segment.name,
        segment.description,
        segment.color,
        segment.filter_spec,
        segment.position,
        segment.updated_at,
    )


@pytest.mark.parametrize(
    ("name", "rules", "message"),
    [
        ("vip", spec(c("channel", "is", "whatsapp")), "A segment called “vip” already exists."),
        (
            "Paying ",
            spec(c("channel", "is", "whatsapp")),
            "A segment called “Paying” already exists.",
        ),
        ("", spec(c("channel", "is", "whatsapp")), "Give the segment a name."),
        ("z" * 121, spec(c("channel", "is", "whatsapp")), "Keep the segment name under 120"),
        ("Renamed", spec(), "Add at least one condition before saving a segment."),
        ("Renamed", {}, "Add at least one condition before saving a segment."),
        (
            "Renamed",
            spec(c("channel", "is", "whatsapp"), c("channel", "is", "telegram")),
            "Condition 2: “Channel” has no option “telegram”.",
        ),
        (
            "Renamed",
            spec(c("cf.gone", "is_empty")),
            "Condition 1: The field “gone” no longer exists.",
        ),
    ],
    ids=[
        "taken",
        "taken-spaces",
        "blank",
        "long",
        "empty-spec",
        "no-spec",
        "bad-option",
        "no-field",
    ],
)
def test_a_refused_update_changes_nothing(session, world, name, rules, message):
    segment_id = world.segments["WhatsApp"]
    before = _snapshot(stored(session, segment_id))
    with pytest.raises(FilterError) as caught:
        update_segment(session, world.ws, segment_id, name, rules)
    assert str(caught.value).startswith(message)
    session.rollback()  # what db.session_scope does on an error
    assert _snapshot(stored(session, segment_id)) == before


def test_update_of_another_workspaces_segment_is_not_found(session, world):
    foreign = world.other_segments["VIP"]
    before = _snapshot(stored(session, foreign))
    for segment_id in (foreign, 999_999):
        with pytest.raises(NotFound, match="That segment no longer exists."):
            update_segment(session, world.ws, segment_id, "Mine", spec(c("name", "contains", "a")))
    session.rollback()
    assert _snapshot(stored(session, foreign)) == before


def test_an_update_revalidates_against_todays_labels(session, world):
    """Saving a segment whose label was deleted meanwhile is refused, with the reason."""
    vip = world.labels["VIP"]
    segment_id = world.segments["VIP"]
    session.execute(sa.delete(Label).where(Label.id == vip))
    session.commit()
    unchanged = stored(session, segment_id).filter_spec
    with pytest.raises(FilterError, match=rf"^Condition 1: A label used here \(#{vip}\)"):
        update_segment(session, world.ws, segment_id, "VIP", unchanged)
    session.rollback()
    # Fixing the rule saves it, and the problem is gone.
    update_segment(session, world.ws, segment_id, "VIP", spec(c("name", "contains", "a")))
    session.commit()
    assert list_segments(session, world.ws)[0].problem == ""


# --------------------------------------------------------------------------- duplicating


def test_duplicate_segment_names_the_copies(session, world):
    original = stored(session, world.segments["Paying"])
    original.description, original.color = "Customers who pay", "crimson"
    session.commit()

    first = duplicate_segment(session, world.ws, original.id)
    second = duplicate_segment(session, world.ws, original.id)
    third = duplicate_segment(session, world.ws, original.id)
    of_copy = duplicate_segment(session, world.ws, first.id)
    session.commit()
    assert [s.name for s in (first, second, third, of_copy)] == [
        "Paying (copy)",
        "Paying (copy 2)",
        "Paying (copy 3)",
        "Paying (copy) (copy)",
    ]
    assert [s.position for s in (first, second, third, of_copy)] == [8, 9, 10, 11]
    for copy in (first, second, third, of_copy):
        row = stored(session, copy.id)
        assert row.id != original.id and row.workspace_id == world.ws
        assert (row.filter_spec, row.description, row.color) == (
            original.filter_spec,
            "Customers who pay",
            "crimson",
        )
    counts = segment_counts(session, world.ws)
    assert counts[first.id] == counts[original.id] == 2


def test_duplicate_skips_names_taken_in_any_case(session, world):
    rules = spec(c("name", "contains", "a"))
    create_segment(session, world.ws, "whatsapp (COPY)", rules)
    create_segment(session, world.ws, "WhatsApp (copy 2)", rules)
    assert duplicate_segment(session, world.ws, world.segments["WhatsApp"]).name == (
        "WhatsApp (copy 3)"
    )
    # Names in another workspace do not count.
    assert duplicate_segment(session, world.other_ws, world.other_segments["WhatsApp"]).name == (
        "WhatsApp (copy)"
    )


def test_duplicate_of_a_segment_with_the_longest_name(session, world):
    longest = "L" * 118 + "ng"
    original = create_segment(session, world.ws, longest, spec(c("name", "contains", "a")))
    first = duplicate_segment(session, world.ws, original.id)
    second = duplicate_segment(session, world.ws, original.id)
    session.commit()
    assert first.name == "L" * 113 + " (copy)"
    assert second.name == "L" * 111 + " (copy 2)"
    assert len(first.name) == len(second.name) == 120
    # Shortened at a space: no double space before the suffix.
    spaced = create_segment(
        session, world.ws, "A" * 112 + " " + "B" * 7, spec(c("name", "contains", "a"))
    )
    assert duplicate_segment(session, world.ws, spaced.id).name == "A" * 112 + " (copy)"


def test_duplicate_of_a_broken_or_foreign_segment(session, world):
    session.execute(sa.delete(Label).where(Label.id == world.labels["VIP"]))
    session.commit()
    with pytest.raises(FilterError, match="^Condition 1: A label used here"):
        duplicate_segment(session, world.ws, world.segments["VIP"])
    with pytest.raises(NotFound, match="That segment no longer exists."):
        duplicate_segment(session, world.ws, world.other_segments["WhatsApp"])
    session.rollback()
    assert segment_total(session, world.ws) == 8
    assert segment_total(session, world.other_ws) == 2


# --------------------------------------------------------------------------- deleting


def test_delete_segment_renumbers_positions(session, world):
    delete_segment(session, world.ws, world.segments["VIP on WhatsApp"])
    session.commit()
    segments = list_segments(session, world.ws)
    assert [s.name for s in segments] == [n for n in ORDER if n != "VIP on WhatsApp"]
    assert [s.position for s in segments] == list(range(7))
    assert session.get(Segment, world.segments["VIP on WhatsApp"]) is None
    # The next one goes last; deleting the first and the last renumbers too.
    assert create_segment(session, world.ws, "New", spec(c("name", "contains", "a"))).position == 7
    delete_segment(session, world.ws, world.segments["VIP"])
    delete_segment(session, world.ws, world.segments["Nobody"])
    session.commit()
    segments = list_segments(session, world.ws)
    assert [s.name for s in segments] == [
        "WhatsApp",
        "VIP or WhatsApp",
        "Paying",
        "Billing talks",
        "Unlabelled",
        "New",
    ]
    assert [s.position for s in segments] == list(range(6))
    # Contacts are rules' subjects, not members: none is deleted.
    assert session.execute(sa.select(sa.func.count()).select_from(Contact)).scalar_one() == 7


def test_delete_of_another_workspaces_segment_is_not_found(session, world):
    for segment_id in (world.other_segments["VIP"], 999_999):
        with pytest.raises(NotFound, match="That segment no longer exists."):
            delete_segment(session, world.ws, segment_id)
    session.commit()
    assert listed(session, world.other_ws) == ["VIP", "WhatsApp"]
    assert listed(session, world.ws) == ORDER


# --------------------------------------------------------------------------- ordering


@pytest.fixture
def abcd(session: Session, make_workspace) -> tuple[int, dict[str, int]]:
    ws = make_workspace("initech")
    rules = spec(c("name", "contains", "a"))
    ids = {name: create_segment(session, ws, name, rules).id for name in "ABCD"}
    session.commit()
    return ws, ids


def order(session: Session, ws: int) -> str:
    segments = list_segments(session, ws)
    assert [s.position for s in segments] == list(range(len(segments)))
    return "".join(s.name for s in segments)


MOVES = [
    # segment, offset, order after (each move starts from ABCD)
    ("A", -1, "ABCD"),  # already first
    ("D", 1, "ABCD"),  # already last
    ("A", 0, "ABCD"),
    ("B", -1, "BACD"),
    ("A", 1, "BACD"),
    ("C", 1, "ABDC"),
    ("D", -1, "ABDC"),
    ("B", 10, "ACDB"),  # far offsets stop at the edges
    ("C", -10, "CABD"),
]


@pytest.mark.parametrize(
    ("name", "offset", "expected"), MOVES, ids=[f"{n}{o:+d}" for n, o, _ in MOVES]
)
def test_move_segment(session, abcd, name, offset, expected):
    ws, ids = abcd
    move_segment(session, ws, ids[name], offset)
    session.commit()
    assert order(session, ws) == expected


def test_moves_in_a_row_and_the_board_follows(session, abcd):
    ws, ids = abcd
    for name, offset in [("D", -1), ("D", -1), ("D", -1), ("D", -1), ("A", 1), ("B", 1)]:
        move_segment(session, ws, ids[name], offset)
    session.commit()
    # D up to the top and once more (DABC), A down (DBAC), B down (DABC).
    assert order(session, ws) == "DABC"
    assert [s.name for s in board_segments(session, ws)] == list("DABC")


def test_move_renumbers_gaps_and_ties(session, abcd):
    ws, ids = abcd
    for name, position in {"A": 5, "B": 5, "C": 0, "D": 9}.items():
        session.get(Segment, ids[name]).position = position
    session.commit()
    assert "".join(s.name for s in list_segments(session, ws)) == "CABD"
    move_segment(session, ws, ids["D"], -1)
    session.commit()
    assert order(session, ws) == "CADB"


def test_move_of_another_workspaces_segment_is_not_found(session, world, abcd):
    ws, _ = abcd
    for segment_id in (world.segments["VIP"], 999_999):
        with pytest.raises(NotFound, match="That segment no longer exists."):
            move_segment(session, ws, segment_id, -1)
    session.commit()
    assert order(session, ws) == "ABCD"
    assert listed(session, world.ws) == ORDER


# --------------------------------------------------------------------------- board & usage


def test_set_on_board_and_usage(session, world):
    vip = world.segments["VIP"]
    board_line = "a column on the Leads board"
    views_line = "views and links that filter All Contacts by it (they will show all contacts)"
    assert segment_usage(session, world.ws, vip) == [board_line, views_line]

    set_on_board(session, world.ws, vip, False)
    session.commit()
    assert stored(session, vip).on_board is False
    assert list_segments(session, world.ws)[0].on_board is False
    assert segment_usage(session, world.ws, vip) == [views_line]
    assert "VIP" not in [s.name for s in board_segments(session, world.ws)]

    set_on_board(session, world.ws, vip, True)
    session.commit()
    assert stored(session, vip).on_board is True
    assert segment_usage(session, world.ws, vip) == [board_line, views_line]
    assert [s.name for s in board_segments(session, world.ws)] == ORDER


def test_board_flag_and_usage_of_another_workspaces_segment(session, world):
    foreign = world.other_segments["VIP"]
    with pytest.raises(NotFound, match="That segment no longer exists."):
        set_on_board(session, world.ws, foreign, False)
    with pytest.raises(NotFound, match="That segment no longer exists."):
        segment_usage(session, world.ws, foreign)
    session.commit()
    assert stored(session, foreign).on_board is True


# --------------------------------------------------------------------------- preview


def preview_names(session: Session, ws: int, rules: Any, **kwargs: Any) -> tuple[int, list[str]]:
    total, rows = preview_spec(session, ws, rules, **kwargs)
    return total, [row.name for row in rows]


def test_preview_counts_and_shows_the_most_recent_first(session, world):
    everyone = spec(c("name", "contains", "a"))  # every acme name has an "a" (and globex's)
    # Last interaction, newest first; Eve ties with Ben and was added later; Cat has none.
    assert preview_names(session, world.ws, everyone) == (
        5,
        ["Ann Archer", "Dov Dahl", "Eve Egan", "Ben Baker", "Cat Chen"],
    )
    assert preview_names(session, world.ws, everyone, limit=3) == (
        5,
        ["Ann Archer", "Dov Dahl", "Eve Egan"],
    )
    whatsapp = spec(c("channel", "is", "whatsapp"))
    assert preview_names(session, world.ws, whatsapp) == (2, ["Ann Archer", "Cat Chen"])
    assert preview_names(session, world.other_ws, whatsapp) == (2, ["Mara Moss", "Zack Zane"])
    nobody = spec(c("name", "equals", "Nobody"))
    assert preview_names(session, world.ws, nobody) == (0, [])
    # While the rules are being typed, no condition yet previews everyone.
    assert preview_names(session, world.ws, spec())[0] == 5


def test_preview_rows_are_table_rows(session, world):
    _, rows = preview_spec(
        session,
        world.ws,
        spec(c("label", "has_all_of", [world.labels["VIP"], world.labels["Lead"]])),
    )
    (ben,) = rows
    assert ben.id == world.contacts["Ben"]
    assert (ben.name, ben.initials, ben.channel) == ("Ben Baker", "BB", "instagram")
    assert [label.name for label in ben.labels] == ["Lead", "VIP"]
    assert ben.custom_fields == {"plan": "Free"}


def test_preview_of_an_invalid_spec_is_an_error(session, world):
    with pytest.raises(FilterError, match="^Condition 2: “Plan” has no option “Gold”.$"):
        preview_spec(
            session,
            world.ws,
            spec(c("name", "contains", "a"), c("cf.plan", "is", "Gold")),
        )


def test_preview_beyond_ten_rows(session, workspace_id):
    for number in range(1, 13):
        add_contact(
            session,
            workspace_id,
            f"Person {number:02d}",
            last_interaction_at=None if number == 1 else T0 + timedelta(minutes=number),
        )
    session.commit()
    total, rows = preview_names(
        session, workspace_id, spec(c("name", "starts_with", "Person")), limit=12
    )
    assert total == 12
    assert rows == [f"Person {n:02d}" for n in range(12, 1, -1)] + ["Person 01"]


# --------------------------------------------------------------------------- hostile rules
# Issue 8, item 6: a stored rule that cannot run ("Created at after 9999-12-31" used to
# validate, be saved, and then raise OverflowError on every compile) breaks that segment
# only. These rules are written straight into the table, as an old version, a bug or a
# hand edit could leave them.

HOSTILE_RULES = {
    "After the end of time": spec(c("created_at", "after", "9999-12-31")),
    "Before time began": spec(c("created_at", "between", ["0001-01-01", "2026-01-01"])),
    "Huge number": spec(c("name", "contains", "a"), c("cf.plan", "is", 10**30)),
    "Huge label id": spec(c("label", "has_any_of", [2**70])),
    "Huge days": spec(c("created_at", "within_last_days", 10**20)),
    "Too many rules": spec(*[c("name", "contains", "a")] * 60, match="any"),
    "Long value": spec(c("name", "contains", "%" * 60_000)),
    "Nested value": spec(c("name", "contains", [[[[[[[[[["a"]]]]]]]]]])),
    "Dict value": spec(c("channel", "is_any_of", {"$ne": None})),
    "Bad operator": spec(c("name", "~*", ".*")),
    "Unreadable": {"match": "some", "conditions": "everything"},
    "Not even a dict": ["name", "contains", "a"],
}


@pytest.fixture
def hostile(session: Session, world: World) -> dict[str, int]:
    ids = {}
    for position, (name, rules) in enumerate(HOSTILE_RULES.items(), start=8):
        segment = Segment(workspace_id=world.ws, name=name, position=position, filter_spec=rules)
        session.add(segment)
        session.flush()
        ids[name] = segment.id
    session.commit()
    return ids


def test_hostile_rules_are_problems_of_their_segment_only(session, world, hostile):
    segments = {s.name: s for s in list_segments(session, world.ws)}
    assert list(segments) == ORDER + list(HOSTILE_RULES)
    assert {name: segments[name].rules for name in ORDER} == RULES
    problems = {name: segments[name].problem for name in HOSTILE_RULES}
    assert problems["After the end of time"] == (
        "Condition 1: “Created at” needs a date between 1900-01-01 and 2999-12-31, not 9999-12-31."
    )
    assert problems["Too many rules"] == (
        "A filter can have at most 50 conditions (this one has 60)."
    )
    assert problems["Huge number"].startswith("Condition 2: “Plan” has no option")
    assert problems["Unreadable"].startswith("This filter cannot be read: ")
    for name, problem in problems.items():
        assert problem and len(problem) < 200, name
        assert segments[name].rules == ""
        assert "Error" not in problem and "\x00" not in problem
    # Counts: the good segments are counted, each hostile one is None.
    counts = segment_counts(session, world.ws)
    assert {name: counts[world.segments[name]] for name in ORDER} == COUNTS
    assert {counts[segment_id] for segment_id in hostile.values()} == {None}


def test_a_hostile_segment_is_an_error_not_a_crash_and_can_be_mended(session, world, hostile):
    whatsapp = spec(c("channel", "is", "whatsapp"))
    for name, segment_id in hostile.items():
        with pytest.raises(FilterError):
            count_contacts(session, world.ws, ContactQuery(segment_id=segment_id))
        with pytest.raises(FilterError):
            duplicate_segment(session, world.ws, segment_id)
        session.rollback()
        update_segment(session, world.ws, segment_id, name, whatsapp)
        session.commit()
    segments = {s.name: s for s in list_segments(session, world.ws)}
    for name, segment_id in hostile.items():
        assert (segments[name].problem, segments[name].rules) == ("", RULES["WhatsApp"])
        assert stored(session, segment_id).filter_spec == whatsapp
    counts = segment_counts(session, world.ws)
    assert {counts[segment_id] for segment_id in hostile.values()} == {COUNTS["WhatsApp"]}
    # ... and deleted.
    for segment_id in hostile.values():
        delete_segment(session, world.ws, segment_id)
    session.commit()
    assert listed(session, world.ws) == ORDER


def test_a_hostile_segment_can_be_deleted(session, world, hostile):
    for segment_id in hostile.values():
        assert segment_usage(session, world.ws, segment_id)
        delete_segment(session, world.ws, segment_id)
    session.commit()
    assert listed(session, world.ws) == ORDER


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (spec(c("created_at", "after", "9999-12-31")), "needs a date between 1900-01-01"),
        (spec(c("cf.plan", "is", "Pro\x00")), "“Plan” contains a NUL character."),
        (spec(*[c("name", "contains", "a")] * 51), "at most 50 conditions"),
        (spec(c("label", "has_any_of", [2**70])), "has been deleted."),
        (spec(c("name", "contains", "x" * 201)), "to 200 characters or fewer."),
    ],
    ids=["far-date", "nul", "51-conditions", "huge-id", "long-text"],
)
def test_rules_that_could_never_run_are_refused_when_saved(session, world, rules, message):
    with pytest.raises(FilterError, match=re.escape(message)):
        create_segment(session, world.ws, "Never", rules)
    session.rollback()
    with pytest.raises(FilterError, match=re.escape(message)):
        update_segment(session, world.ws, world.segments["VIP"], "VIP", rules)
    session.rollback()
    assert segment_total(session, world.ws) == 8
    assert stored(session, world.segments["VIP"]).filter_spec == spec(
        c("label", "has_any_of", [world.labels["VIP"]])
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Null\x00byte", "A segment name can only contain text (no NUL character)."),
        ("Lone \ud800", "A segment name can only contain text (no NUL character)."),
        ({"a": 1}, "Give the segment a name."),
        (None, "Give the segment a name."),
    ],
    ids=["nul", "surrogate", "dict", "none"],
)
def test_segment_names_that_cannot_be_stored(session, world, name, message):
    with pytest.raises(FilterError, match=re.escape(message)):
        create_segment(session, world.ws, name, spec(c("channel", "is", "whatsapp")))
    session.rollback()
    assert segment_total(session, world.ws) == 8


def test_a_description_with_nul_is_stored_without_it(session, world):
    segment = create_segment(
        session, world.ws, "Described", spec(c("channel", "is", "whatsapp")), "a\x00b \ud800"
    )
    session.commit()
    assert stored(session, segment.id).description == "ab ?"


@pytest.mark.parametrize("segment_id", [0, -1, 2**63, 2**70, True])
def test_ids_out_of_range_are_not_found(session, world, segment_id):
    for call in (duplicate_segment, segment_usage, delete_segment):
        with pytest.raises(NotFound, match="That segment no longer exists."):
            call(session, world.ws, segment_id)
    with pytest.raises(NotFound):
        set_on_board(session, world.ws, segment_id, False)
    with pytest.raises(NotFound):
        update_segment(session, world.ws, segment_id, "X", spec(c("channel", "is", "whatsapp")))


def test_a_segment_the_database_refuses_is_counted_as_broken(session, world, monkeypatch):
    """Should a compiled rule still fail in the database (stored values nobody foresaw),
    the other segments are counted and the session stays usable (a savepoint on
    PostgreSQL)."""
    import cloodot_app.services.segments as segments_service

    real = segments_service.compile_spec

    def compile_spec(rules, catalog, ctx):
        compiled = real(rules, catalog, ctx)
        if compiled.words == RULES["Nobody"]:
            failing = sa.func.no_such_function(Contact.id) == 1
            return dataclasses.replace(compiled, where=failing)
        return compiled

    monkeypatch.setattr(segments_service, "compile_spec", compile_spec)
    counts = counts_by_name(session, world)
    assert counts == {**COUNTS, "Nobody": None}
    # The transaction is still usable.
    assert listed(session, world.ws) == ORDER
    assert count_contacts(session, world.ws, ContactQuery()) == 5


# --------------------------------------------------------------------------- typed rows


def test_the_segments_page_rows_carry_their_counts(session, world):
    rows = segments_with_counts(session, world.ws)
    assert all(isinstance(row, SegmentSummary) for row in rows)
    assert [row.name for row in rows] == ORDER
    assert {row.name: row.count for row in rows} == COUNTS
    assert {row.name: row.rules for row in rows} == RULES
    # The same rows as the list, plus the counts.
    listed_rows = list_segments(session, world.ws)
    assert [dataclasses.replace(row, count=None) for row in rows] == listed_rows
    assert all(row.count is None for row in listed_rows)
    assert [row.name for row in segments_with_counts(session, world.other_ws)] == [
        "VIP",
        "WhatsApp",
    ]


def test_a_broken_segment_has_no_count_on_the_segments_page(session, world, hostile):
    rows = {row.name: row for row in segments_with_counts(session, world.ws)}
    assert {name: rows[name].count for name in ORDER} == COUNTS
    for name in HOSTILE_RULES:
        assert rows[name].count is None and rows[name].problem, name
        assert rows[name].rules == ""
    # A spec that is not even an object is shown as empty rules (its problem says why).
    assert rows["Not even a dict"].filter_spec == {}


def test_a_segment_the_database_refuses_says_so_on_the_segments_page(session, world, monkeypatch):
    import cloodot_app.services.segments as segments_service

    real = segments_service.compile_spec

    def compile_spec(rules, catalog, ctx):
        compiled = real(rules, catalog, ctx)
        if compiled.words == RULES["Nobody"]:
            return dataclasses.replace(compiled, where=sa.func.no_such_function(Contact.id) == 1)
        return compiled

    monkeypatch.setattr(segments_service, "compile_spec", compile_spec)
    rows = {row.name: row for row in segments_with_counts(session, world.ws)}
    assert (rows["Nobody"].count, rows["Nobody"].problem, rows["Nobody"].rules) == (
        None,
        "These rules cannot be run on the stored data; edit them.",
        "",
    )
    assert {name: rows[name].count for name in ORDER if name != "Nobody"} == {
        name: count for name, count in COUNTS.items() if name != "Nobody"
    }


def test_get_segment_is_the_listed_row(session, world):
    listed_rows = {row.id: row for row in list_segments(session, world.ws)}
    for segment_id in world.segments.values():
        assert get_segment(session, world.ws, segment_id) == listed_rows[segment_id]
    for segment_id in (world.other_segments["VIP"], 999_999, 0, -1, 2**63, 2**70, True):
        with pytest.raises(NotFound, match="That segment no longer exists."):
            get_segment(session, world.ws, segment_id)


def test_preview_is_a_typed_pair(session, world):
    preview = preview_spec(session, world.ws, spec(c("channel", "is", "whatsapp")))
    assert isinstance(preview, SegmentPreview)
    assert preview.total == 2
    assert [row.name for row in preview.rows] == ["Ann Archer", "Cat Chen"]


# --------------------------------------------------------------------------- the contacts view


def field_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every field a condition names as it is looked up in a catalog: validating,
    compiling or describing a spec each look up every condition's field."""
    looked_up: list[str] = []
    real = FieldCatalog.get

    def get(self, key):
        looked_up.append(key)
        return real(self, key)

    monkeypatch.setattr(FieldCatalog, "get", get)
    return looked_up


def test_the_contacts_view_compiles_each_spec_once(session, world, monkeypatch):
    quick = FilterSpec.parse(spec(c("name", "contains", "a"), c("cf.plan", "is_any_of", ["Pro"])))
    query = ContactQuery(filter=quick, segment_id=world.segments["VIP"])
    catalog = field_catalog(session, world.ws)
    ctx = CompileContext.for_session(session)
    looked_up = field_lookups(monkeypatch)
    # The work of compiling each spec once ...
    compile_spec(quick, catalog, ctx)
    compile_spec(stored(session, world.segments["VIP"]).filter_spec, catalog, ctx)
    once = len(looked_up)
    looked_up.clear()
    # ... is all the view does with them (no second validation or description).
    view = contacts_view(session, world.ws, query)
    assert len(looked_up) == once
    assert view.chips == ["Name contains a", "Plan is any of Pro"]
    assert view.segment_words == RULES["VIP"]
    assert view.page.total == count_contacts(session, world.ws, query)
    looked_up.clear()
    view = contacts_view(session, world.ws, ContactQuery())
    assert looked_up == []
    assert (view.chips, view.segment_words, view.page.total) == ([], "", 5)


def test_the_contacts_view_of_each_segment_has_its_words_and_count(session, world):
    for name, segment_id in world.segments.items():
        view = contacts_view(session, world.ws, ContactQuery(segment_id=segment_id))
        assert (view.segment_words, view.page.total) == (RULES[name], COUNTS[name]), name


@pytest.mark.parametrize("segment_id", [0, -1, 2**63, 2**70, True])
def test_a_segment_id_out_of_range_in_a_view_is_not_found(session, world, segment_id):
    with pytest.raises(NotFound, match="That segment no longer exists."):
        contacts_view(session, world.ws, ContactQuery(segment_id=segment_id))
    with pytest.raises(NotFound, match="That segment no longer exists."):
        list_contacts(session, world.ws, ContactQuery(segment_id=segment_id))
