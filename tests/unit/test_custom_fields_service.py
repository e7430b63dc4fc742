"""Custom field definition services on SQLite and PostgreSQL: the settings list (values and
segments per field), create (rules, keys), rename and options (refused, then applied when
confirmed), type changes (previews, refusals that change nothing, conversions), ordering,
deletion (values removed from the JSON, segments broken) and workspace isolation.

The world (acme), worked out by hand. Contact fields, in order:

| key            | type         | options           |
|----------------|--------------|-------------------|
| plan           | select       | Free, Pro, Gold   |
| interests      | multi_select | Shoes, Bags, Hats |
| score          | text         |                   |
| lifetime_value | number       |                   |
| since          | text         |                   |
| backup_email   | text         |                   |

| contact | plan | interests    | score | lifetime_value | since                | backup_email    |
|---------|------|--------------|-------|----------------|----------------------|-----------------|
| Ann     | Gold | Shoes, Bags  | "12"  | 12.5           | 2024-03-05           | Ann@Example.COM |
| Ben     | Gold | Bags         | "abc" | 100            | yesterday            | not an email    |
| Cat     | Pro  | Hats         | "  "  | -              | 2024-12-31T23:59:00Z | -               |
| Dov     | -    | [] (empty)   | -     | null           | -                    | -               |
| Eve     | -    | -            | "n/a" | -              | -                    | -               |

So the non-empty values are: plan 3, interests 3, score 3 (Cat's blank does not count),
lifetime_value 2 (Dov's null does not), since 3, backup_email 2.

Conversation fields: topic (select: Billing, Shipping) and order_id (text). Ann's
conversation has Billing and "A-1", Ben's Billing, Cat's Shipping, Cat's second nothing:
topic 3 values, order_id 1.

acme's segments, in list order: Gold plan (cf.plan is Gold), Shoppers (cf.interests has any
of Shoes), Gold shoppers (both), Billing (conv.topic is Billing), Scored (cf.score is not
empty).

globex has its own Plan (select), Score (text) and Topic fields, Mara (Gold, "abc", a
Billing conversation) and a "Gold plan" segment: none of it may change or count in acme.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.errors import NotFound
from cloodot_app.models import Contact, Conversation, CustomFieldDefinition, Segment
from cloodot_app.services import custom_fields
from cloodot_app.services.custom_fields import (
    KEY_PATTERN,
    FieldDefinitionError,
    change_field_type,
    create_field,
    delete_field,
    field_usage,
    list_fields,
    move_field,
    preview_type_change,
    update_field,
)
from cloodot_app.services.segments import list_segments
from cloodot_app.services.workspaces import data_version, ensure_workspace

# SQLAlchemy's deprecations become errors in its next release: fail on them now.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SADeprecationWarning")

ALL_TYPES = "Text, URL, Phone, Email, Number, Select, Multi-select, Date"

ACME_CONTACTS: dict[str, dict[str, Any]] = {
    "Ann": {
        "plan": "Gold",
        "interests": ["Shoes", "Bags"],
        "score": "12",
        "lifetime_value": 12.5,
        "since": "2024-03-05",
        "backup_email": "Ann@Example.COM",
    },
    "Ben": {
        "plan": "Gold",
        "interests": ["Bags"],
        "score": "abc",
        "lifetime_value": 100,
        "since": "yesterday",
        "backup_email": "not an email",
    },
    "Cat": {
        "plan": "Pro",
        "interests": ["Hats"],
        "score": "  ",
        "since": "2024-12-31T23:59:00Z",
    },
    "Dov": {"interests": [], "lifetime_value": None},
    "Eve": {"score": "n/a"},
}
MARA = {"plan": "Gold", "score": "abc"}


def c(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def spec(*conditions: dict, match: str = "all") -> dict[str, Any]:
    return {"match": match, "conditions": list(conditions)}


@dataclass
class World:
    ws: int
    other_ws: int
    fields: dict[str, int]  # key -> id (acme contact fields)
    conversation_fields: dict[str, int]  # key -> id (acme)
    other_fields: dict[str, int]  # "entity.key" -> id (globex)


@pytest.fixture
def world(session: Session, workspace_id: int) -> World:
    ws = workspace_id
    other = ensure_workspace(session, "globex").id
    fields = {}
    for label, type_, options in [
        ("Plan", "select", ["Free", "Pro", "Gold"]),
        ("Interests", "multi_select", ["Shoes", "Bags", "Hats"]),
        ("Score", "text", None),
        ("Lifetime value", "number", None),
        ("Since", "text", None),
        ("Backup email", "text", None),
    ]:
        definition = create_field(session, ws, "contact", label, type_, options)
        fields[definition.key] = definition.id
    conversation_fields = {
        d.key: d.id
        for d in (
            create_field(session, ws, "conversation", "Topic", "select", ["Billing", "Shipping"]),
            create_field(session, ws, "conversation", "Order ID", "text"),
        )
    }
    other_fields = {
        f"{d.entity}.{d.key}": d.id
        for d in (
            create_field(session, other, "contact", "Plan", "select", ["Free", "Pro", "Gold"]),
            create_field(session, other, "contact", "Score", "text"),
            create_field(session, other, "conversation", "Topic", "select", ["Billing"]),
        )
    }
    contacts = {}
    for name, values in [*ACME_CONTACTS.items(), ("Mara", MARA)]:
        contact = Contact(
            workspace_id=other if name == "Mara" else ws, name=name, custom_fields=values
        )
        session.add(contact)
        session.flush()
        contacts[name] = contact
    for name, values in [
        ("Ann", {"topic": "Billing", "order_id": "A-1"}),
        ("Ben", {"topic": "Billing"}),
        ("Cat", {"topic": "Shipping"}),
        ("Cat", {}),
        ("Mara", {"topic": "Billing"}),
    ]:
        contact = contacts[name]
        session.add(
            Conversation(
                workspace_id=contact.workspace_id,
                contact_id=contact.id,
                channel="whatsapp",
                custom_fields=values,
            )
        )
    gold = c("cf.plan", "is", "Gold")
    shoes = c("cf.interests", "has_any_of", ["Shoes"])
    for position, (workspace, name, rules) in enumerate(
        [
            (ws, "Gold plan", spec(gold)),
            (ws, "Shoppers", spec(shoes)),
            (ws, "Gold shoppers", spec(gold, shoes)),
            (ws, "Billing", spec(c("conv.topic", "is", "Billing"))),
            (ws, "Scored", spec(c("cf.score", "is_not_empty"))),
            (other, "Gold plan", spec(gold)),
        ]
    ):
        session.add(
            Segment(workspace_id=workspace, name=name, filter_spec=rules, position=position)
        )
    session.commit()
    return World(
        ws=ws,
        other_ws=other,
        fields=fields,
        conversation_fields=conversation_fields,
        other_fields=other_fields,
    )


def contact_values(session: Session) -> dict[str, dict[str, Any]]:
    """Every contact's custom_fields as stored now (any workspace), by name."""
    return dict(session.execute(sa.select(Contact.name, Contact.custom_fields)).all())


def conversation_values(session: Session) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, values)
        for name, values in session.execute(
            sa.select(Contact.name, Conversation.custom_fields)
            .join(Contact, Contact.id == Conversation.contact_id)
            .order_by(Conversation.id)
        ).all()
    ]


def holding_key(session: Session, table: str, key: str) -> set[str]:
    """Names of the contacts (or conversations' contacts) whose JSON has `key`, asked of
    the database in its own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        has_key = f"{table}.custom_fields ? :key"
    else:
        has_key = f"json_type({table}.custom_fields, '$.' || :key) IS NOT NULL"
    join = "" if table == "contact" else " JOIN contact ON contact.id = conversation.contact_id"
    sql = f"SELECT contact.name FROM {table}{join} WHERE {has_key}"
    return set(session.execute(sa.text(sql), {"key": key}).scalars())


def without(values: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in keys}


def with_values(name: str, **changes: Any) -> dict[str, Any]:
    """ACME_CONTACTS[name] with keys changed (None: removed)."""
    values = dict(ACME_CONTACTS[name])
    for key, value in changes.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return values


def track(calls: list[tuple[int, int]]):
    return lambda done, total: calls.append((done, total))


def problems(session: Session, ws: int) -> dict[str, str]:
    return {s.name: s.problem for s in list_segments(session, ws)}


def definition(session: Session, field_id: int) -> CustomFieldDefinition:
    found = session.get(CustomFieldDefinition, field_id)
    session.refresh(found)
    return found


# --------------------------------------------------------------------------- the list


def test_list_contact_fields(session, world):
    ids = world.fields
    assert [asdict(row) for row in list_fields(session, world.ws, "contact")] == [
        {
            "id": ids["plan"],
            "key": "plan",
            "label": "Plan",
            "type": "select",
            "type_label": "Select",
            "options": ["Free", "Pro", "Gold"],
            "position": 0,
            "entity": "contact",
            "value_count": 3,
            "segments": ["Gold plan", "Gold shoppers"],
        },
        {
            "id": ids["interests"],
            "key": "interests",
            "label": "Interests",
            "type": "multi_select",
            "type_label": "Multi-select",
            "options": ["Shoes", "Bags", "Hats"],
            "position": 1,
            "entity": "contact",
            "value_count": 3,
            "segments": ["Shoppers", "Gold shoppers"],
        },
        {
            "id": ids["score"],
            "key": "score",
            "label": "Score",
            "type": "text",
            "type_label": "Text",
            "options": [],
            "position": 2,
            "entity": "contact",
            "value_count": 3,
            "segments": ["Scored"],
        },
        {
            "id": ids["lifetime_value"],
            "key": "lifetime_value",
            "label": "Lifetime value",
            "type": "number",
            "type_label": "Number",
            "options": [],
            "position": 3,
            "entity": "contact",
            "value_count": 2,
            "segments": [],
        },
        {
            "id": ids["since"],
            "key": "since",
            "label": "Since",
            "type": "text",
            "type_label": "Text",
            "options": [],
            "position": 4,
            "entity": "contact",
            "value_count": 3,
            "segments": [],
        },
        {
            "id": ids["backup_email"],
            "key": "backup_email",
            "label": "Backup email",
            "type": "text",
            "type_label": "Text",
            "options": [],
            "position": 5,
            "entity": "contact",
            "value_count": 2,
            "segments": [],
        },
    ]


def test_list_conversation_fields_and_other_workspaces(session, world):
    rows = list_fields(session, world.ws, "conversation")
    assert [(r.key, r.label, r.type, r.position, r.value_count, r.segments) for r in rows] == [
        ("topic", "Topic", "select", 0, 3, ["Billing"]),
        ("order_id", "Order ID", "text", 1, 1, []),
    ]
    assert all(r.entity == "conversation" for r in rows)
    # globex: its own fields, counting only Mara.
    assert [
        (r.key, r.value_count, r.segments) for r in list_fields(session, world.other_ws, "contact")
    ] == [("plan", 1, ["Gold plan"]), ("score", 1, [])]
    assert [
        (r.key, r.value_count) for r in list_fields(session, world.other_ws, "conversation")
    ] == [("topic", 1)]
    assert list_fields(session, ensure_workspace(session, "empty").id, "contact") == []


def test_list_fields_costs_the_same_few_queries_for_any_number_of_fields(session, world):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        list_fields(session, world.ws, "contact")
        few = len(statements)
        for number in range(20):
            create_field(session, world.ws, "contact", f"Extra {number}", "text")
        session.commit()
        statements.clear()
        assert len(list_fields(session, world.ws, "contact")) == 26
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    # The definitions, one scan counting every field's values, the segments.
    assert few == len(statements) == 3


def test_list_fields_needs_a_known_entity(session, world):
    with pytest.raises(FieldDefinitionError, match="^A field belongs to contacts or to"):
        list_fields(session, world.ws, "company")


def test_field_usage(session, world):
    assert asdict(field_usage(session, world.ws, world.fields["plan"])) == {
        "value_count": 3,
        "segments": ["Gold plan", "Gold shoppers"],
    }
    assert asdict(field_usage(session, world.ws, world.fields["backup_email"])) == {
        "value_count": 2,
        "segments": [],
    }
    assert asdict(field_usage(session, world.ws, world.conversation_fields["topic"])) == {
        "value_count": 3,
        "segments": ["Billing"],
    }
    assert asdict(field_usage(session, world.other_ws, world.other_fields["contact.plan"])) == {
        "value_count": 1,
        "segments": ["Gold plan"],
    }


# --------------------------------------------------------------------------- create


def test_create_field_makes_keys_from_labels(session, workspace_id):
    ws = workspace_id
    before = data_version(session, ws)
    made = [
        create_field(session, ws, "contact", label, "text")
        for label in [
            "Lifetime value (€)",
            "Lifetime value",
            "Lifetime-value!",
            "  Ünïcödé \t  Name ",
            "Été 2024",
            "2nd phone",
            "!!!",
            "日本語",
            "a__b",
            "_Private",
            "x" * 70,
            "x" * 70 + "!",
        ]
    ]
    session.commit()
    assert [(d.label, d.key, d.position) for d in made] == [
        ("Lifetime value (€)", "lifetime_value", 0),
        ("Lifetime value", "lifetime_value_2", 1),
        ("Lifetime-value!", "lifetime_value_3", 2),
        ("Ünïcödé Name", "unicode_name", 3),
        ("Été 2024", "ete_2024", 4),
        ("2nd phone", "field_2nd_phone", 5),
        ("!!!", "field", 6),
        ("日本語", "field_2", 7),
        ("a__b", "a_b", 8),
        ("_Private", "private", 9),
        ("x" * 70, "x" * 64, 10),
        ("x" * 70 + "!", "x" * 62 + "_2", 11),
    ]
    assert all(KEY_PATTERN.match(d.key) for d in made)
    assert data_version(session, ws) == before + len(made)
    # Conversation fields have their own keys and positions.
    topic = create_field(session, ws, "conversation", "Lifetime value (€)", "number")
    assert (topic.entity, topic.key, topic.position) == ("conversation", "lifetime_value", 0)


def test_create_field_stores_trimmed_options(session, world):
    made = create_field(session, world.ws, "contact", " Tier ", "select", [" Gold ", "Silver"])
    session.commit()
    stored = definition(session, made.id)
    assert (stored.workspace_id, stored.entity, stored.key, stored.label) == (
        world.ws,
        "contact",
        "tier",
        "Tier",
    )
    assert (stored.type, stored.options, stored.position) == ("select", ["Gold", "Silver"], 6)
    # The limits themselves are fine.
    many = [f"Option {n}" for n in range(100)]
    assert create_field(session, world.ws, "contact", "y" * 120, "multi_select", many).options == (
        many
    )
    assert create_field(session, world.ws, "contact", "Long", "select", ["z" * 80]).options == [
        "z" * 80
    ]
    assert create_field(session, world.ws, "contact", "Notes", "text", []).options == []
    # Commas and semicolons are fine in a select's options (not a multi-select's).
    assert create_field(
        session, world.ws, "contact", "Colours", "select", ["Red, blue", "B; w"]
    ).options == ["Red, blue", "B; w"]
    # A label another entity or workspace uses is free here.
    assert create_field(session, world.ws, "conversation", "Plan", "text").key == "plan"
    assert create_field(session, world.other_ws, "contact", "Interests", "text").key == (
        "interests"
    )


@pytest.mark.parametrize(
    ("entity", "label", "type_", "options", "message"),
    [
        ("company", "Size", "text", None, "A field belongs to contacts or to conversations."),
        ("contact", "", "text", None, "Give the field a name."),
        ("contact", "  \t ", "text", None, "Give the field a name."),
        ("contact", "n" * 121, "text", None, "Keep the field name to 120 characters or fewer."),
        ("contact", "PLAN", "text", None, "A contact field called “Plan” already exists."),
        (
            "conversation",
            " order   id ",
            "text",
            None,
            "A conversation field called “Order ID” already exists.",
        ),
        ("contact", "Colour", "colour", None, f"Choose a field type: {ALL_TYPES}."),
        ("contact", "Tier", "select", None, "Add at least one option."),
        ("contact", "Tier", "multi_select", [], "Add at least one option."),
        (
            "contact",
            "Tier",
            "select",
            [f"o{n}" for n in range(101)],
            "A field can have at most 100 options.",
        ),
        ("contact", "Tier", "select", ["Gold", "  "], "Options cannot be blank."),
        ("contact", "Tier", "select", ["Gold", 3], "Each option must be text."),
        (
            "contact",
            "Tier",
            "select",
            ["z" * 81],
            "Keep each option to 80 characters or fewer (“zzzzzzzzzzzzzzzzzzzz…” is 81).",
        ),
        ("contact", "Tier", "select", ["Gold", " gold "], "“gold” is listed twice."),
        (
            "contact",
            "Tags",
            "multi_select",
            ["Red, blue"],
            "A multi-select option cannot contain a comma or semicolon (“Red, blue”).",
        ),
        (
            "contact",
            "Tags",
            "multi_select",
            ["Red; blue"],
            "A multi-select option cannot contain a comma or semicolon (“Red; blue”).",
        ),
        (
            "contact",
            "Notes",
            "text",
            ["a"],
            "Only select and multi-select fields have options.",
        ),
        (
            "contact",
            "Worth",
            "number",
            ["1"],
            "Only select and multi-select fields have options.",
        ),
    ],
)
def test_create_field_refuses(session, world, entity, label, type_, options, message):
    before = data_version(session, world.ws)
    with pytest.raises(FieldDefinitionError) as error:
        create_field(session, world.ws, entity, label, type_, options)
    assert str(error.value) == message
    assert isinstance(error.value, ValueError)
    session.rollback()
    assert len(list_fields(session, world.ws, "contact")) == 6
    assert data_version(session, world.ws) == before


# --------------------------------------------------------------------------- rename / options


def test_update_field_renames_but_keeps_the_key(session, world):
    before = data_version(session, world.ws)
    updated = update_field(session, world.ws, world.fields["plan"], "  Plan   tier ")
    session.commit()
    assert (updated.key, updated.label, updated.options) == (
        "plan",
        "Plan tier",
        ["Free", "Pro", "Gold"],
    )
    assert data_version(session, world.ws) == before + 1
    assert contact_values(session)["Ann"] == ACME_CONTACTS["Ann"]
    assert problems(session, world.ws)["Gold plan"] == ""
    # Its own label in another case is not a clash; a conversation field's label is not.
    assert update_field(session, world.ws, world.fields["plan"], "PLAN TIER").label == "PLAN TIER"
    assert update_field(session, world.ws, world.fields["score"], "Topic").label == "Topic"
    # Reordered options: nothing to confirm, values untouched.
    reordered = update_field(
        session, world.ws, world.fields["plan"], "Plan", ["Gold", "Free", "Pro"]
    )
    assert reordered.options == ["Gold", "Free", "Pro"]
    session.commit()
    assert contact_values(session) == {**ACME_CONTACTS, "Mara": MARA}


@pytest.mark.parametrize(
    ("key", "label", "options", "message"),
    [
        ("plan", "", None, "Give the field a name."),
        ("plan", "p" * 121, None, "Keep the field name to 120 characters or fewer."),
        ("plan", "interests", None, "A contact field called “Interests” already exists."),
        ("plan", "Plan", [], "Add at least one option."),
        ("plan", "Plan", ["Free", "FREE"], "“FREE” is listed twice."),
        ("interests", "Interests", ["Shoes", "Bags, purses"], "A multi-select option cannot"),
        ("score", "Score", ["a"], "Only select and multi-select fields have options."),
    ],
)
def test_update_field_refuses(session, world, key, label, options, message):
    field_id = world.fields[key]
    before = definition(session, field_id).model_dump()
    with pytest.raises(FieldDefinitionError) as error:
        update_field(session, world.ws, field_id, label, options)
    assert str(error.value).startswith(message)
    session.rollback()
    assert definition(session, field_id).model_dump() == before


def test_removing_a_used_select_option_needs_confirming(session, world):
    plan = world.fields["plan"]
    before = data_version(session, world.ws)
    with pytest.raises(FieldDefinitionError) as error:
        update_field(session, world.ws, plan, "Plan tier", ["Free", "Pro"])
    assert str(error.value) == (
        "2 contacts have “Gold”, which you removed. Confirm to clear it from them."
    )
    session.rollback()
    stored = definition(session, plan)
    assert (stored.label, stored.options) == ("Plan", ["Free", "Pro", "Gold"])
    assert contact_values(session) == {**ACME_CONTACTS, "Mara": MARA}
    assert data_version(session, world.ws) == before

    update_field(session, world.ws, plan, "Plan tier", ["Free", "Pro"], drop_values=True)
    session.commit()
    stored = definition(session, plan)
    assert (stored.key, stored.label, stored.options) == ("plan", "Plan tier", ["Free", "Pro"])
    assert contact_values(session) == {
        **ACME_CONTACTS,
        "Ann": without(ACME_CONTACTS["Ann"], "plan"),
        "Ben": without(ACME_CONTACTS["Ben"], "plan"),
        "Mara": MARA,
    }
    assert holding_key(session, "contact", "plan") == {"Cat", "Mara"}
    assert data_version(session, world.ws) == before + 1
    # The segments that chose Gold now say why they cannot run; globex's is fine.
    assert problems(session, world.ws) == {
        "Gold plan": "Condition 1: “Plan tier” has no option “Gold”.",
        "Shoppers": "",
        "Gold shoppers": "Condition 1: “Plan tier” has no option “Gold”.",
        "Billing": "",
        "Scored": "",
    }
    assert problems(session, world.other_ws) == {"Gold plan": ""}


def test_removal_messages_count_rows_and_name_used_options(session, world):
    cases = [
        (
            world.fields["plan"],
            ["Free", "Gold"],
            "1 contact has “Pro”, which you removed. Confirm to clear it from that contact.",
        ),
        (
            world.fields["plan"],
            ["Free", "Silver"],
            "3 contacts have “Pro” or “Gold”, which you removed. "
            "Confirm to clear those options from them.",
        ),
        (
            world.fields["interests"],
            ["Shoes"],
            "3 contacts have “Bags” or “Hats”, which you removed. "
            "Confirm to clear those options from them.",
        ),
        (
            world.fields["interests"],
            ["Socks"],
            "3 contacts have “Shoes”, “Bags” or “Hats”, which you removed. "
            "Confirm to clear those options from them.",
        ),
        (
            world.conversation_fields["topic"],
            ["Shipping"],
            "2 conversations have “Billing”, which you removed. Confirm to clear it from them.",
        ),
    ]
    for field_id, options, message in cases:
        label = definition(session, field_id).label
        with pytest.raises(FieldDefinitionError) as error:
            update_field(session, world.ws, field_id, label, options)
        assert str(error.value) == message
        session.rollback()
    # An option nobody uses goes without asking.
    update_field(session, world.ws, world.fields["plan"], "Plan", ["Pro", "Gold"])
    session.commit()
    assert definition(session, world.fields["plan"]).options == ["Pro", "Gold"]
    assert contact_values(session) == {**ACME_CONTACTS, "Mara": MARA}


def test_removing_multi_select_options_takes_them_out_of_the_lists(session, world):
    interests = world.fields["interests"]
    update_field(session, world.ws, interests, "Interests", ["Shoes"], drop_values=True)
    session.commit()
    values = contact_values(session)
    assert values["Ann"] == with_values("Ann", interests=["Shoes"])
    assert values["Ben"] == with_values("Ben", interests=None)
    assert values["Cat"] == with_values("Cat", interests=None)
    # Dov's empty list held none of them: untouched.
    assert values["Dov"] == ACME_CONTACTS["Dov"]
    assert holding_key(session, "contact", "interests") == {"Ann", "Dov"}
    assert problems(session, world.ws)["Shoppers"] == ""


def test_removing_a_conversation_option(session, world):
    topic = world.conversation_fields["topic"]
    update_field(session, world.ws, topic, "Topic", ["Shipping", "Returns"], drop_values=True)
    session.commit()
    assert conversation_values(session) == [
        ("Ann", {"order_id": "A-1"}),
        ("Ben", {}),
        ("Cat", {"topic": "Shipping"}),
        ("Cat", {}),
        ("Mara", {"topic": "Billing"}),
    ]
    assert problems(session, world.ws)["Billing"] == (
        "Condition 1: “Topic (conversation)” has no option “Billing”."
    )


def test_renamed_options_carry_their_values(session, world):
    plan, interests = world.fields["plan"], world.fields["interests"]
    update_field(
        session,
        world.ws,
        plan,
        "Plan",
        ["Free", "Pro", "Platinum"],
        renamed_options={"Gold": "Platinum"},
    )
    update_field(
        session,
        world.ws,
        interests,
        "Interests",
        ["Shoes", "Purses", "Hats"],
        renamed_options={"Bags": "Purses"},
    )
    session.commit()
    values = contact_values(session)
    assert values["Ann"] == with_values("Ann", plan="Platinum", interests=["Shoes", "Purses"])
    assert values["Ben"] == with_values("Ben", plan="Platinum", interests=["Purses"])
    assert values["Cat"] == ACME_CONTACTS["Cat"]
    assert values["Mara"] == MARA
    for renamed, message in [
        ({"Silver": "Gold"}, "“Silver” is not one of the field's options."),
        ({"Pro": "Diamond"}, "“Diamond” is not one of the new options."),
    ]:
        with pytest.raises(FieldDefinitionError, match=f"^{message}$"):
            update_field(session, world.ws, plan, "Plan", ["Free", "Pro"], renamed_options=renamed)
        session.rollback()


# --------------------------------------------------------------------------- type changes


def test_text_to_number_is_refused_then_applied(session, world, monkeypatch):
    # One row per chunk: the refusal comes after a convertible row was read.
    monkeypatch.setattr(custom_fields.stored_values, "CHUNK_SIZE", 1)
    score = world.fields["score"]
    before = data_version(session, world.ws)
    preview = {"convertible": 1, "invalid": 2, "examples": ["abc", "n/a"]}
    calls: list[tuple[int, int]] = []
    assert preview_type_change(session, world.ws, score, "number", progress=track(calls)) == (
        preview
    )
    # Four acme rows hold a score (Cat's blank one too), one per chunk here.
    assert calls == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    calls.clear()
    with pytest.raises(FieldDefinitionError) as error:
        change_field_type(session, world.ws, score, "number", progress=track(calls))
    # Refused after the checking pass, counted as half of the work.
    assert calls == [(0, 8), (1, 8), (2, 8), (3, 8), (4, 8)]
    assert str(error.value) == (
        "2 values cannot become Number (e.g. “abc”). Confirm to clear them."
    )
    # Nothing changed, not even in the session before a rollback.
    assert contact_values(session) == {**ACME_CONTACTS, "Mara": MARA}
    session.rollback()
    assert definition(session, score).type == "text"
    assert contact_values(session) == {**ACME_CONTACTS, "Mara": MARA}
    assert data_version(session, world.ws) == before

    calls.clear()
    applied = change_field_type(
        session, world.ws, score, "number", drop_invalid=True, progress=track(calls)
    )
    assert applied == preview
    assert calls == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    session.commit()
    assert (definition(session, score).type, definition(session, score).options) == ("number", [])
    values = contact_values(session)
    assert values["Ann"] == with_values("Ann", score=12)
    assert type(values["Ann"]["score"]) is int
    # Ben's and Eve's cleared; Cat's blank tidied away; globex untouched.
    assert values["Ben"] == with_values("Ben", score=None)
    assert values["Cat"] == with_values("Cat", score=None)
    assert values["Eve"] == {}
    assert values["Mara"] == MARA
    assert holding_key(session, "contact", "score") == {"Ann", "Mara"}
    assert data_version(session, world.ws) == before + 1
    assert problems(session, world.ws)["Scored"] == ""


def test_number_to_text(session, world):
    field_id = world.fields["lifetime_value"]
    report = {"convertible": 2, "invalid": 0, "examples": []}
    assert preview_type_change(session, world.ws, field_id, "text") == report
    assert change_field_type(session, world.ws, field_id, "text") == report
    session.commit()
    values = contact_values(session)
    assert values["Ann"]["lifetime_value"] == "12.5"
    assert values["Ben"]["lifetime_value"] == "100"
    # Dov's null is tidied away.
    assert values["Dov"] == {"interests": []}
    assert definition(session, field_id).type == "text"


def test_select_to_multi_select_wraps_values(session, world):
    plan = world.fields["plan"]
    report = {"convertible": 3, "invalid": 0, "examples": []}
    assert preview_type_change(session, world.ws, plan, "multi_select") == report
    assert change_field_type(session, world.ws, plan, "multi_select") == report
    session.commit()
    stored = definition(session, plan)
    assert (stored.type, stored.options) == ("multi_select", ["Free", "Pro", "Gold"])
    values = contact_values(session)
    assert [values[name].get("plan") for name in ("Ann", "Ben", "Cat", "Dov", "Mara")] == [
        ["Gold"],
        ["Gold"],
        ["Pro"],
        None,
        "Gold",
    ]
    # "is" is not a multi-select operator: the segments say so.
    assert problems(session, world.ws)["Gold plan"].startswith(
        "Condition 1: “Plan” cannot use “is”"
    )


def test_multi_select_to_select_takes_single_values_only(session, world):
    interests = world.fields["interests"]
    report = {"convertible": 2, "invalid": 1, "examples": ["Shoes, Bags"]}
    assert preview_type_change(session, world.ws, interests, "select") == report
    with pytest.raises(FieldDefinitionError) as error:
        change_field_type(session, world.ws, interests, "select")
    assert str(error.value) == (
        "1 value cannot become Select (e.g. “Shoes, Bags”). Confirm to clear it."
    )
    session.rollback()
    assert definition(session, interests).type == "multi_select"
    assert contact_values(session) == {**ACME_CONTACTS, "Mara": MARA}

    assert change_field_type(session, world.ws, interests, "select", drop_invalid=True) == report
    session.commit()
    values = contact_values(session)
    assert [values[name].get("interests") for name in ("Ann", "Ben", "Cat", "Dov")] == [
        None,
        "Bags",
        "Hats",
        None,
    ]
    assert holding_key(session, "contact", "interests") == {"Ben", "Cat"}
    stored = definition(session, interests)
    assert (stored.type, stored.options) == ("select", ["Shoes", "Bags", "Hats"])


def test_text_to_date(session, world):
    since = world.fields["since"]
    report = {"convertible": 2, "invalid": 1, "examples": ["yesterday"]}
    assert preview_type_change(session, world.ws, since, "date") == report
    with pytest.raises(FieldDefinitionError, match="^1 value cannot become Date"):
        change_field_type(session, world.ws, since, "date")
    session.rollback()
    assert change_field_type(session, world.ws, since, "date", drop_invalid=True) == report
    session.commit()
    values = contact_values(session)
    assert [values[name].get("since") for name in ("Ann", "Ben", "Cat")] == [
        "2024-03-05",
        None,
        "2024-12-31",
    ]


def test_text_to_email(session, world):
    field_id = world.fields["backup_email"]
    report = {"convertible": 1, "invalid": 1, "examples": ["not an email"]}
    assert preview_type_change(session, world.ws, field_id, "email") == report
    with pytest.raises(FieldDefinitionError) as error:
        change_field_type(session, world.ws, field_id, "email")
    assert str(error.value) == (
        "1 value cannot become Email (e.g. “not an email”). Confirm to clear it."
    )
    session.rollback()
    assert change_field_type(session, world.ws, field_id, "email", drop_invalid=True) == report
    session.commit()
    values = contact_values(session)
    assert values["Ann"]["backup_email"] == "ann@example.com"
    assert "backup_email" not in values["Ben"]


def test_text_to_select_and_a_conversation_field(session, world):
    score = world.fields["score"]
    assert preview_type_change(session, world.ws, score, "select", ["12", "abc"]) == {
        "convertible": 2,
        "invalid": 1,
        "examples": ["n/a"],
    }
    order_id = world.conversation_fields["order_id"]
    report = {"convertible": 0, "invalid": 1, "examples": ["A-1"]}
    assert preview_type_change(session, world.ws, order_id, "number") == report
    assert change_field_type(session, world.ws, order_id, "number", drop_invalid=True) == report
    session.commit()
    assert holding_key(session, "conversation", "order_id") == set()
    assert conversation_values(session)[0] == ("Ann", {"topic": "Billing"})


@pytest.mark.parametrize(
    ("key", "new_type", "options", "message"),
    [
        ("score", "colour", None, f"Choose a field type: {ALL_TYPES}."),
        ("score", "select", None, "Add at least one option."),
        ("score", "multi_select", [], "Add at least one option."),
        ("plan", "number", ["1"], "Only select and multi-select fields have options."),
        ("plan", "select", ["Gold", "gold"], "“gold” is listed twice."),
    ],
)
def test_type_change_arguments_are_checked(session, world, key, new_type, options, message):
    field_id = world.fields[key]
    for call in (preview_type_change, change_field_type):
        with pytest.raises(FieldDefinitionError) as error:
            call(session, world.ws, field_id, new_type, options)
        assert str(error.value) == message
        session.rollback()
    assert definition(session, field_id).type in ("text", "select")
    assert contact_values(session) == {**ACME_CONTACTS, "Mara": MARA}


# --------------------------------------------------------------------------- ordering


def keys_in_order(session: Session, ws: int, entity: str = "contact") -> list[tuple[str, int]]:
    return [(r.key, r.position) for r in list_fields(session, ws, entity)]


def test_move_field_up_and_down_and_at_the_edges(session, world):
    ids = world.fields
    start = ["plan", "interests", "score", "lifetime_value", "since", "backup_email"]

    def order() -> list[str]:
        listed = keys_in_order(session, world.ws)
        assert [position for _, position in listed] == list(range(len(listed)))
        return [key for key, _ in listed]

    move_field(session, world.ws, ids["plan"], -1)
    assert order() == start
    move_field(session, world.ws, ids["backup_email"], +1)
    assert order() == start
    before = data_version(session, world.ws)
    move_field(session, world.ws, ids["plan"], +1)
    assert order() == ["interests", "plan", "score", "lifetime_value", "since", "backup_email"]
    assert data_version(session, world.ws) == before + 1
    move_field(session, world.ws, ids["since"], -1)
    assert order() == ["interests", "plan", "score", "since", "lifetime_value", "backup_email"]
    move_field(session, world.ws, ids["interests"], +10)
    assert order() == ["plan", "score", "since", "lifetime_value", "backup_email", "interests"]
    move_field(session, world.ws, ids["interests"], -10)
    session.commit()
    assert order() == ["interests", "plan", "score", "since", "lifetime_value", "backup_email"]
    # Conversation fields and globex's are their own lists.
    assert keys_in_order(session, world.ws, "conversation") == [("topic", 0), ("order_id", 1)]
    assert keys_in_order(session, world.other_ws) == [("plan", 0), ("score", 1)]


def test_move_field_renumbers_gaps(session, world):
    topic, order_id = world.conversation_fields["topic"], world.conversation_fields["order_id"]
    for field_id, position in ((topic, 3), (order_id, 7)):
        stored = definition(session, field_id)
        stored.position = position
        session.add(stored)
    session.commit()
    move_field(session, world.ws, order_id, -1)
    session.commit()
    assert keys_in_order(session, world.ws, "conversation") == [("order_id", 0), ("topic", 1)]


# --------------------------------------------------------------------------- delete


def test_delete_field_removes_its_values_and_breaks_its_segments(session, world):
    before = data_version(session, world.ws)
    stored_specs = dict(session.execute(sa.select(Segment.id, Segment.filter_spec)).all())
    delete_field(session, world.ws, world.fields["plan"])
    session.commit()
    assert session.get(CustomFieldDefinition, world.fields["plan"]) is None
    # Asked of the database: only globex's Mara still has a plan.
    assert holding_key(session, "contact", "plan") == {"Mara"}
    assert contact_values(session) == {
        **{name: without(values, "plan") for name, values in ACME_CONTACTS.items()},
        "Mara": MARA,
    }
    assert keys_in_order(session, world.ws) == [
        ("interests", 0),
        ("score", 1),
        ("lifetime_value", 2),
        ("since", 3),
        ("backup_email", 4),
    ]
    assert data_version(session, world.ws) == before + 1
    # Segments are not edited; those naming it say why they are broken.
    assert dict(session.execute(sa.select(Segment.id, Segment.filter_spec)).all()) == (stored_specs)
    assert problems(session, world.ws) == {
        "Gold plan": "Condition 1: The field “plan” no longer exists.",
        "Shoppers": "",
        "Gold shoppers": "Condition 1: The field “plan” no longer exists.",
        "Billing": "",
        "Scored": "",
    }
    assert problems(session, world.other_ws) == {"Gold plan": ""}


def test_delete_a_conversation_field(session, world):
    delete_field(session, world.ws, world.conversation_fields["topic"])
    session.commit()
    assert holding_key(session, "conversation", "topic") == {"Mara"}
    assert conversation_values(session) == [
        ("Ann", {"order_id": "A-1"}),
        ("Ben", {}),
        ("Cat", {}),
        ("Cat", {}),
        ("Mara", {"topic": "Billing"}),
    ]
    assert keys_in_order(session, world.ws, "conversation") == [("order_id", 0)]
    assert problems(session, world.ws)["Billing"] == (
        "Condition 1: The field “topic” no longer exists."
    )
    # The contact field of the same name is a different field.
    assert contact_values(session)["Ann"] == ACME_CONTACTS["Ann"]


# --------------------------------------------------------------------------- isolation


def test_another_workspaces_field_is_not_found_by_any_function(session, world):
    foreign = world.other_fields["contact.plan"]
    before = data_version(session, world.ws), data_version(session, world.other_ws)
    stored = definition(session, foreign).model_dump()
    for call in (
        lambda: update_field(session, world.ws, foreign, "Mine", ["Free"], drop_values=True),
        lambda: preview_type_change(session, world.ws, foreign, "text"),
        lambda: change_field_type(session, world.ws, foreign, "text", drop_invalid=True),
        lambda: move_field(session, world.ws, foreign, 1),
        lambda: field_usage(session, world.ws, foreign),
        lambda: delete_field(session, world.ws, foreign),
        lambda: update_field(session, world.ws, 999_999, "Nobody's"),
        lambda: delete_field(session, world.ws, 999_999),
    ):
        with pytest.raises(NotFound, match="^That field no longer exists.$"):
            call()
    session.commit()
    assert definition(session, foreign).model_dump() == stored
    assert contact_values(session)["Mara"] == MARA
    assert (data_version(session, world.ws), data_version(session, world.other_ws)) == before
    assert foreign not in {r.id for r in list_fields(session, world.ws, "contact")}


# --------------------------------------------------------------------------- the package

PUBLIC_NAMES = [
    "CHUNK_SIZE",
    "ENTITIES",
    "EXAMPLES",
    "FIELD_LABEL_MAX_LENGTH",
    "FIELD_TYPES",
    "KEY_MAX_LENGTH",
    "KEY_PATTERN",
    "MAX_OPTIONS",
    "OPTION_MAX_LENGTH",
    "FieldDefinitionError",
    "FieldDefinitionSummary",
    "FieldSummary",
    "FieldUsage",
    "FieldValueError",
    "NotFound",
    "Progress",
    "change_field_type",
    "create_field",
    "delete_field",
    "field_definitions",
    "field_usage",
    "list_fields",
    "move_field",
    "preview_type_change",
    "save_field",
    "slugify",
    "unique_key",
    "update_field",
]


def test_the_package_keeps_every_name_the_module_had():
    """`fields_service.X` works for every public X of the module it was split from."""
    missing = [name for name in PUBLIC_NAMES if not hasattr(custom_fields, name)]
    assert missing == []
    assert set(PUBLIC_NAMES) <= set(custom_fields.__all__)


def test_no_module_of_the_package_is_over_300_lines():
    from pathlib import Path

    folder = Path(custom_fields.__file__).parent
    sizes = {path.name: len(path.read_text().splitlines()) for path in folder.glob("*.py")}
    assert len(sizes) >= 5
    assert {name: lines for name, lines in sizes.items() if lines > 300} == {}
