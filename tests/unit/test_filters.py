"""The filter language, on SQLite and PostgreSQL, against a small world worked out by hand.

Every case names the exact set of contacts it must return. The world (acme) has seven
people; a second workspace (globex) holds Mallory, who matches nearly everything and must
never show up in acme's results.

NOW is Monday 2026-06-15 12:00 UTC; "today" for date fields is 2026-06-15.

| name          | email                  | phone         | channel   | created (UTC)    | last interaction | opt-in | labels        |
|---------------|------------------------|---------------|-----------|------------------|------------------|--------|---------------|
| Alice Archer  | alice@example.com      | +442079460958 | whatsapp  | 2026-05-06 12:00 | 2026-06-14 12:00 | yes    | VIP, Lead     |
| Bob Baker     | bob@sample.org         | +14155550199  | instagram | 2026-06-05 12:00 | 2026-06-05 12:00 | no     | Lead          |
| Carol Chen    | carol.chen@example.com | -             | facebook  | 2026-03-07 12:00 | -                | yes    | -             |
| Dan O'Neil    | -                      | +33123456789  | webchat   | 2026-06-13 12:00 | 2026-06-13 12:00 | no     | Churned       |
| Eve 50% Off   | eve_smith@example.net  | "" (empty)    | imported  | 2025-05-11 12:00 | 2025-11-27 12:00 | no     | VIP           |
| Frank Fischer | frank@fischer.de       | +4930123456   | whatsapp  | 2026-06-10 00:00 | 2026-06-15 09:00 | yes    | Lead, Churned |
| Grace Hopper  | grace@navy.mil         | -             | instagram | 2026-05-16 12:00 | 2026-05-16 11:00 | no     | -             |

Contact custom fields (cf.*):

| name  | company      | website                    | mobile        | work_email         | score  | plan       | interests         | birthday   |
|-------|--------------|----------------------------|---------------|--------------------|--------|------------|-------------------|------------|
| Alice | Acme Ltd     | https://acme.example.com   | +14155550101  | alice@acme.example | 120    | Pro        | Shoes, Bags       | 1990-03-14 |
| Bob   | Baker & Sons | https://bakery.example.org |               |                    | 45.5   | Free       | Hats              | 1985-12-01 |
| Carol |              |                            | +442079460000 |                    | 0      | Enterprise | Shoes, Bags, Hats | 2026-06-10 |
| Dan   | "" (empty)   |                            |               |                    | -5     |            |                   |            |
| Eve   | Evil Corp    | http://eve.example.net     |               | eve@corp.example   | 1200.5 | Pro        | Bags              | 2000-01-01 |
| Frank |              |                            |               | frank@work.de      | 45.5   | Free       | Hats, Shoes       | 2026-06-15 |
| Grace |              |                            |               |                    | "12"*  | Legacy*    | [] (empty list)   |            |

(*) values stored before the field changed: a number kept as text, an option since removed.

Conversations and their custom fields (conv.*):

| conversation | contact | order_id | amount  | topic    | tags        | due        |
|--------------|---------|----------|---------|----------|-------------|------------|
| c1           | Alice   | A-100    | 250     | Billing  | Urgent, VIP | 2026-06-20 |
| c2           | Alice   | A-101    | 15.5    | Shipping | []          | 2026-05-01 |
| c3           | Bob     | B-7      | 99      | Returns  | Spam        |            |
| c4           | Dan     | D-1      | "n/a"*  | Billing  | VIP         |            |
| c5           | Eve     |          | 250     | Shipping |             | 2026-06-14 |
| c6           | Frank   | (no fields at all)                                           |

Notes: Alice "Wants a refund for order A-100" and "Called back, all fine"; Bob "100% sure
he renews"; Dan "refund_pending"; Mallory (globex) "refund everything".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from cloodot_app.fieldtypes import FieldValueError, digits_only
from cloodot_app.filters import (
    OPERATORS_BY_KIND,
    CompileContext,
    FieldCatalog,
    FilterError,
    FilterSpec,
    compile_filter,
    validate_spec,
)
from cloodot_app.models import (
    Contact,
    ContactLabel,
    ContactNote,
    Conversation,
    CustomFieldDefinition,
    Label,
    Segment,
    Workspace,
)
from cloodot_app.services.contact_deletes import Selection, delete_contacts, delete_preview
from cloodot_app.services.contact_edits import set_contact_labels, update_contact_field
from cloodot_app.services.contacts import (
    ContactQuery,
    NotFound,
    count_contacts,
    get_contact,
    list_contacts,
)
from cloodot_app.services.workspaces import data_version, ensure_workspace, field_catalog

# SQLAlchemy's deprecations become errors in its next release: fail on them now.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SADeprecationWarning")

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


ALICE, BOB, CAROL, DAN = "Alice Archer", "Bob Baker", "Carol Chen", "Dan O'Neil"
EVE, FRANK, GRACE = "Eve 50% Off", "Frank Fischer", "Grace Hopper"
EVERYONE = {ALICE, BOB, CAROL, DAN, EVE, FRANK, GRACE}
NOBODY: set[str] = set()

CONTACT_FIELDS = [
    # key, label, type, options
    ("company", "Company", "text", []),
    ("website", "Website", "url", []),
    ("mobile", "Mobile", "phone", []),
    ("work_email", "Work email", "email", []),
    ("score", "Score", "number", []),
    ("plan", "Plan", "select", ["Free", "Pro", "Enterprise"]),
    ("interests", "Interests", "multi_select", ["Shoes", "Bags", "Hats"]),
    ("birthday", "Birthday", "date", []),
]
CONVERSATION_FIELDS = [
    ("order_id", "Order id", "text", []),
    ("amount", "Amount", "number", []),
    ("topic", "Topic", "select", ["Billing", "Shipping", "Returns"]),
    ("tags", "Tags", "multi_select", ["Urgent", "VIP", "Spam"]),
    ("due", "Due", "date", []),
]
LABELS = ["VIP", "Lead", "Churned"]

PEOPLE: list[dict[str, Any]] = [
    {
        "name": ALICE,
        "email": "alice@example.com",
        "phone": "+442079460958",
        "channel": "whatsapp",
        "created_at": at(2026, 5, 6),
        "last_interaction_at": at(2026, 6, 14),
        "campaign_opt_in": True,
        "labels": ["VIP", "Lead"],
        "custom_fields": {
            "company": "Acme Ltd",
            "website": "https://acme.example.com",
            "mobile": "+14155550101",
            "work_email": "alice@acme.example",
            "score": 120,
            "plan": "Pro",
            "interests": ["Shoes", "Bags"],
            "birthday": "1990-03-14",
        },
        "conversations": [
            {
                "order_id": "A-100",
                "amount": 250,
                "topic": "Billing",
                "tags": ["Urgent", "VIP"],
                "due": "2026-06-20",
            },
            {
                "order_id": "A-101",
                "amount": 15.5,
                "topic": "Shipping",
                "tags": [],
                "due": "2026-05-01",
            },
        ],
    },
    {
        "name": BOB,
        "email": "bob@sample.org",
        "phone": "+14155550199",
        "channel": "instagram",
        "created_at": at(2026, 6, 5),
        "last_interaction_at": at(2026, 6, 5),
        "campaign_opt_in": False,
        "labels": ["Lead"],
        "custom_fields": {
            "company": "Baker & Sons",
            "website": "https://bakery.example.org",
            "score": 45.5,
            "plan": "Free",
            "interests": ["Hats"],
            "birthday": "1985-12-01",
        },
        "conversations": [
            {"order_id": "B-7", "amount": 99, "topic": "Returns", "tags": ["Spam"]},
        ],
    },
    {
        "name": CAROL,
        "email": "carol.chen@example.com",
        "phone": None,
        "channel": "facebook",
        "created_at": at(2026, 3, 7),
        "last_interaction_at": None,
        "campaign_opt_in": True,
        "labels": [],
        "custom_fields": {
            "mobile": "+442079460000",
            "score": 0,
            "plan": "Enterprise",
            "interests": ["Shoes", "Bags", "Hats"],
            "birthday": "2026-06-10",
        },
        "conversations": [],
    },
    {
        "name": DAN,
        "email": None,
        "phone": "+33123456789",
        "channel": "webchat",
        "created_at": at(2026, 6, 13),
        "last_interaction_at": at(2026, 6, 13),
        "campaign_opt_in": False,
        "labels": ["Churned"],
        "custom_fields": {"company": "", "score": -5},
        "conversations": [
            {"order_id": "D-1", "amount": "n/a", "topic": "Billing", "tags": ["VIP"]},
        ],
    },
    {
        "name": EVE,
        "email": "eve_smith@example.net",
        "phone": "",
        "channel": "imported",
        "created_at": at(2025, 5, 11),
        "last_interaction_at": at(2025, 11, 27),
        "campaign_opt_in": False,
        "labels": ["VIP"],
        "custom_fields": {
            "company": "Evil Corp",
            "website": "http://eve.example.net",
            "work_email": "eve@corp.example",
            "score": 1200.5,
            "plan": "Pro",
            "interests": ["Bags"],
            "birthday": "2000-01-01",
        },
        "conversations": [{"amount": 250, "topic": "Shipping", "due": "2026-06-14"}],
    },
    {
        "name": FRANK,
        "email": "frank@fischer.de",
        "phone": "+4930123456",
        "channel": "whatsapp",
        "created_at": at(2026, 6, 10, 0),
        "last_interaction_at": at(2026, 6, 15, 9),
        "campaign_opt_in": True,
        "labels": ["Lead", "Churned"],
        "custom_fields": {
            "work_email": "frank@work.de",
            "score": 45.5,
            "plan": "Free",
            "interests": ["Hats", "Shoes"],
            "birthday": "2026-06-15",
        },
        "conversations": [{}],
    },
    {
        "name": GRACE,
        "email": "grace@navy.mil",
        "phone": None,
        "channel": "instagram",
        "created_at": at(2026, 5, 16),
        "last_interaction_at": at(2026, 5, 16, 11),
        "campaign_opt_in": False,
        "labels": [],
        "custom_fields": {"score": "12", "plan": "Legacy", "interests": []},
        "conversations": [],
    },
]

# Mallory lives in another workspace and matches almost every acme filter.
MALLORY = {
    "name": "Mallory Archer",
    "email": "alice@example.com",
    "phone": "+442079460958",
    "channel": "whatsapp",
    "created_at": at(2026, 6, 14),
    "last_interaction_at": at(2026, 6, 15, 10),
    "campaign_opt_in": True,
    "labels": ["VIP", "Lead", "Churned"],
    "custom_fields": {
        "company": "Acme Ltd",
        "score": 120,
        "plan": "Pro",
        "interests": ["Shoes", "Bags", "Hats"],
        "birthday": "2026-06-14",
    },
    "conversations": [{"order_id": "A-100", "amount": 250, "topic": "Billing", "tags": ["VIP"]}],
}


# Notes by contact name (the "Notes" field: any note may match).
NOTES = {
    ALICE: ["Wants a refund for order A-100", "Called back, all fine"],
    BOB: ["100% sure he renews"],
    DAN: ["refund_pending"],
    "Mallory Archer": ["refund everything"],
}


@dataclass
class World:
    ws: int
    other_ws: int
    contacts: dict[str, int]  # name -> id (acme)
    labels: dict[str, int]  # name -> id (acme)
    other_labels: dict[str, int]  # name -> id (globex)
    mallory: int
    mallory_conversation: int


def _definitions(ws: int) -> list[CustomFieldDefinition]:
    return [
        CustomFieldDefinition(
            workspace_id=ws,
            entity=entity,
            key=key,
            label=label,
            type=type_name,
            options=options,
            position=position,
        )
        for entity, fields in (("contact", CONTACT_FIELDS), ("conversation", CONVERSATION_FIELDS))
        for position, (key, label, type_name, options) in enumerate(fields)
    ]


def _contact(ws: int, person: dict) -> Contact:
    return Contact(
        workspace_id=ws,
        name=person["name"],
        email=person["email"],
        phone=person["phone"],
        phone_digits=digits_only(person["phone"]) or None,
        channel=person["channel"],
        created_at=person["created_at"],
        updated_at=person["created_at"],
        last_interaction_at=person["last_interaction_at"],
        campaign_opt_in=person["campaign_opt_in"],
        custom_fields=person["custom_fields"],
    )


@pytest.fixture
def world(session: Session) -> World:
    """Built with two flushes and a commit, cheap enough for every test to have its own."""
    acme, globex = ensure_workspace(session, "acme"), ensure_workspace(session, "globex")
    labels = {
        ws.id: [Label(workspace_id=ws.id, name=name) for name in LABELS] for ws in (acme, globex)
    }
    people = [(acme.id, person, _contact(acme.id, person)) for person in PEOPLE]
    people.append((globex.id, MALLORY, _contact(globex.id, MALLORY)))
    session.add_all([*_definitions(acme.id), *_definitions(globex.id)])
    session.add_all([label for group in labels.values() for label in group])
    session.add_all([contact for _, _, contact in people])
    session.flush()

    label_ids = {ws: {label.name: label.id for label in group} for ws, group in labels.items()}
    conversations: list[Conversation] = []
    for ws, person, contact in people:
        session.add_all(
            ContactLabel(contact_id=contact.id, label_id=label_ids[ws][name])
            for name in person["labels"]
        )
        conversations += [
            Conversation(
                workspace_id=ws,
                contact_id=contact.id,
                channel=person["channel"],
                created_at=person["created_at"],
                updated_at=at(2026, 6, 1 + number),
                custom_fields=values,
            )
            for number, values in enumerate(person["conversations"])
        ]
    session.add_all(conversations)
    session.add_all(
        ContactNote(workspace_id=ws, contact_id=contact.id, body=body)
        for ws, person, contact in people
        for body in NOTES.get(person["name"], [])
    )
    session.commit()
    mallory = people[-1][2]
    return World(
        ws=acme.id,
        other_ws=globex.id,
        contacts={person["name"]: contact.id for _, person, contact in people[:-1]},
        labels=label_ids[acme.id],
        other_labels=label_ids[globex.id],
        mallory=mallory.id,
        mallory_conversation=conversations[-1].id,
    )


def c(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def _resolve_labels(spec: dict, labels: dict[str, int]) -> dict:
    """Cases name labels; the filter language takes label ids."""
    conditions = []
    for condition in spec.get("conditions", []):
        if condition["field"] == "label" and isinstance(condition["value"], list):
            condition = {**condition, "value": [labels.get(v, v) for v in condition["value"]]}
        conditions.append(condition)
    return {**spec, "conditions": conditions}


def matching(session: Session, world: World, spec: dict | FilterSpec, dialect: str) -> set[str]:
    """Names of acme's contacts that the spec selects, compiled at the fixed NOW."""
    if isinstance(spec, dict):
        spec = _resolve_labels(spec, world.labels)
    catalog = field_catalog(session, world.ws)
    expression = compile_filter(
        FilterSpec.parse(spec), catalog, CompileContext(dialect=dialect, now=NOW)
    )
    statement = select(Contact.name).where(Contact.workspace_id == world.ws, expression)
    return set(session.exec(statement).all())


def only(condition: dict) -> dict:
    return {"match": "all", "conditions": [condition]}


# --------------------------------------------------------------------------- the world


def test_world_is_what_the_tables_say(session, world, dialect):
    assert matching(session, world, {"conditions": []}, dialect) == EVERYONE
    assert matching(session, world, {"match": "any", "conditions": []}, dialect) == EVERYONE
    catalog = field_catalog(session, world.ws)
    # Every built-in, the eight contact field types, the conversation fields.
    assert set(catalog.fields) == {
        "name",
        "email",
        "phone",
        "channel",
        "created_at",
        "last_interaction_at",
        "campaign_opt_in",
        "label",
        "has_conversations",
        "notes",
        *(f"cf.{key}" for key, *_ in CONTACT_FIELDS),
        *(f"conv.{key}" for key, *_ in CONVERSATION_FIELDS),
    }


# --------------------------------------------------------------------------- one condition

CASES = [
    # ---- name (text)
    ("name", "contains", "er", {ALICE, BOB, FRANK, GRACE}),
    ("name", "contains", "AR", {ALICE, CAROL}),
    ("name", "contains", "%", {EVE}),
    ("name", "contains", "50% o", {EVE}),
    ("name", "contains", "'", {DAN}),
    ("name", "contains", "o'neil", {DAN}),
    ("name", "starts_with", "c", {CAROL}),
    ("name", "starts_with", "E%", NOBODY),
    ("name", "equals", "alice archer", {ALICE}),
    ("name", "equals", "Alice", NOBODY),
    ("name", "is_empty", None, NOBODY),
    ("name", "is_not_empty", None, EVERYONE),
    # ---- email (text)
    ("email", "contains", "example", {ALICE, CAROL, EVE}),
    ("email", "contains", "_", {EVE}),
    ("email", "starts_with", "CAROL.", {CAROL}),
    ("email", "equals", "BOB@SAMPLE.ORG", {BOB}),
    ("email", "is_empty", None, {DAN}),
    ("email", "is_not_empty", None, EVERYONE - {DAN}),
    # ---- phone (text; digits compared with digits, whatever punctuation is typed)
    ("phone", "contains", "+44 (20) 7946", {ALICE}),
    ("phone", "contains", "555", {BOB}),
    ("phone", "contains", "12-34-56", {DAN, FRANK}),
    ("phone", "contains", "+", {ALICE, BOB, DAN, FRANK}),
    ("phone", "contains", "abc", NOBODY),
    ("phone", "starts_with", "+33", {DAN}),
    ("phone", "starts_with", "(+4", {ALICE, FRANK}),
    ("phone", "equals", "+1 (415) 555-0199", {BOB}),
    ("phone", "equals", "415 555 0199", NOBODY),
    ("phone", "is_empty", None, {CAROL, EVE, GRACE}),
    ("phone", "is_not_empty", None, {ALICE, BOB, DAN, FRANK}),
    # ---- channel (select)
    ("channel", "is", "whatsapp", {ALICE, FRANK}),
    ("channel", "is_not", "whatsapp", {BOB, CAROL, DAN, EVE, GRACE}),
    ("channel", "is_any_of", ["instagram", "facebook"], {BOB, CAROL, GRACE}),
    ("channel", "is_any_of", "imported", {EVE}),
    ("channel", "is_empty", None, NOBODY),
    ("channel", "is_not_empty", None, EVERYONE),
    # ---- created_at (date; whole UTC days, "after" is after the day named)
    ("created_at", "before", "2026-06-10", {ALICE, BOB, CAROL, EVE, GRACE}),
    ("created_at", "after", "2026-06-09", {DAN, FRANK}),
    ("created_at", "after", "2026-06-10", {DAN}),
    ("created_at", "between", ["2026-05-06", "2026-06-05"], {ALICE, BOB, GRACE}),
    ("created_at", "between", ["2026-06-10", "2026-06-10"], {FRANK}),
    ("created_at", "within_last_days", 30, {BOB, DAN, FRANK, GRACE}),
    ("created_at", "within_last_days", "7", {DAN, FRANK}),
    ("created_at", "more_than_days_ago", 30, {ALICE, CAROL, EVE}),
    ("created_at", "more_than_days_ago", 365, {EVE}),
    ("created_at", "is_empty", None, NOBODY),
    ("created_at", "is_not_empty", None, EVERYONE),
    # ---- last_interaction_at (date, nullable)
    ("last_interaction_at", "before", "2026-06-01", {EVE, GRACE}),
    ("last_interaction_at", "after", "2026-06-13", {ALICE, FRANK}),
    ("last_interaction_at", "between", ["2026-06-05", "2026-06-13"], {BOB, DAN}),
    ("last_interaction_at", "within_last_days", 1, {ALICE, FRANK}),
    ("last_interaction_at", "within_last_days", 30, {ALICE, BOB, DAN, FRANK}),
    ("last_interaction_at", "more_than_days_ago", 30, {EVE, GRACE}),
    ("last_interaction_at", "is_empty", None, {CAROL}),
    ("last_interaction_at", "is_not_empty", None, EVERYONE - {CAROL}),
    # ---- campaign_opt_in, has_conversations (boolean)
    ("campaign_opt_in", "is", True, {ALICE, CAROL, FRANK}),
    ("campaign_opt_in", "is", False, {BOB, DAN, EVE, GRACE}),
    ("campaign_opt_in", "is", "yes", {ALICE, CAROL, FRANK}),
    ("campaign_opt_in", "is", "false", {BOB, DAN, EVE, GRACE}),
    ("has_conversations", "is", True, {ALICE, BOB, DAN, EVE, FRANK}),
    ("has_conversations", "is", False, {CAROL, GRACE}),
    # ---- label (names resolved to ids)
    ("label", "has_any_of", ["VIP"], {ALICE, EVE}),
    ("label", "has_any_of", ["VIP", "Churned"], {ALICE, DAN, EVE, FRANK}),
    ("label", "has_all_of", ["Lead", "Churned"], {FRANK}),
    ("label", "has_all_of", ["VIP", "Lead"], {ALICE}),
    ("label", "has_all_of", ["VIP", "VIP"], {ALICE, EVE}),
    ("label", "has_none_of", ["Lead"], {CAROL, DAN, EVE, GRACE}),
    ("label", "has_none_of", ["VIP", "Lead"], {CAROL, DAN, GRACE}),
    # ---- cf.company (text)
    ("cf.company", "contains", "corp", {EVE}),
    ("cf.company", "contains", "&", {BOB}),
    ("cf.company", "contains", "a", {ALICE, BOB}),
    ("cf.company", "starts_with", "ac", {ALICE}),
    ("cf.company", "equals", "evil corp", {EVE}),
    ("cf.company", "is_empty", None, {CAROL, DAN, FRANK, GRACE}),
    ("cf.company", "is_not_empty", None, {ALICE, BOB, EVE}),
    # ---- cf.website (url)
    ("cf.website", "contains", "example.org", {BOB}),
    ("cf.website", "starts_with", "http://", {EVE}),
    ("cf.website", "starts_with", "https://", {ALICE, BOB}),
    ("cf.website", "equals", "HTTPS://ACME.EXAMPLE.COM", {ALICE}),
    ("cf.website", "is_empty", None, {CAROL, DAN, FRANK, GRACE}),
    ("cf.website", "is_not_empty", None, {ALICE, BOB, EVE}),
    # ---- cf.mobile (phone; punctuation-insensitive like the built-in phone)
    ("cf.mobile", "contains", "555", {ALICE}),
    ("cf.mobile", "contains", "+44 20 7946", {CAROL}),
    ("cf.mobile", "starts_with", "+1", {ALICE}),
    ("cf.mobile", "starts_with", "(44)", {CAROL}),
    ("cf.mobile", "equals", "+1 (415) 555-0101", {ALICE}),
    ("cf.mobile", "is_empty", None, {BOB, DAN, EVE, FRANK, GRACE}),
    ("cf.mobile", "is_not_empty", None, {ALICE, CAROL}),
    # ---- cf.work_email (email)
    ("cf.work_email", "contains", "@corp", {EVE}),
    ("cf.work_email", "contains", ".example", {ALICE, EVE}),
    ("cf.work_email", "starts_with", "FRANK@", {FRANK}),
    ("cf.work_email", "equals", "Frank@Work.de", {FRANK}),
    ("cf.work_email", "is_empty", None, {BOB, CAROL, DAN, GRACE}),
    ("cf.work_email", "is_not_empty", None, {ALICE, EVE, FRANK}),
    # ---- cf.score (number; Grace's "12" is text, so it is no number)
    ("cf.score", "eq", 45.5, {BOB, FRANK}),
    ("cf.score", "eq", "45.5", {BOB, FRANK}),
    ("cf.score", "eq", 0, {CAROL}),
    ("cf.score", "eq", 12, NOBODY),
    ("cf.score", "neq", 45.5, {ALICE, CAROL, DAN, EVE, GRACE}),
    ("cf.score", "lt", 0, {DAN}),
    ("cf.score", "lt", 45.5, {CAROL, DAN}),
    ("cf.score", "lte", 45.5, {BOB, CAROL, DAN, FRANK}),
    ("cf.score", "gt", 45.5, {ALICE, EVE}),
    ("cf.score", "gte", 120, {ALICE, EVE}),
    ("cf.score", "between", [0, 120], {ALICE, BOB, CAROL, FRANK}),
    ("cf.score", "between", ["-10", "-1"], {DAN}),
    ("cf.score", "is_empty", None, {GRACE}),
    ("cf.score", "is_not_empty", None, EVERYONE - {GRACE}),
    # ---- cf.plan (select; Grace's "Legacy" is no longer an option but still a value)
    ("cf.plan", "is", "Pro", {ALICE, EVE}),
    ("cf.plan", "is_not", "Pro", {BOB, CAROL, DAN, FRANK, GRACE}),
    ("cf.plan", "is_any_of", ["Free", "Enterprise"], {BOB, CAROL, FRANK}),
    ("cf.plan", "is_empty", None, {DAN}),
    ("cf.plan", "is_not_empty", None, EVERYONE - {DAN}),
    # ---- cf.interests (multi-select; missing and [] are both empty)
    ("cf.interests", "has_any_of", ["Hats"], {BOB, CAROL, FRANK}),
    ("cf.interests", "has_any_of", ["Shoes", "Hats"], {ALICE, BOB, CAROL, FRANK}),
    ("cf.interests", "has_all_of", ["Shoes", "Bags"], {ALICE, CAROL}),
    ("cf.interests", "has_all_of", ["Hats", "Shoes"], {CAROL, FRANK}),
    ("cf.interests", "has_none_of", ["Shoes"], {BOB, DAN, EVE, GRACE}),
    ("cf.interests", "has_none_of", ["Bags", "Hats"], {DAN, GRACE}),
    ("cf.interests", "is_empty", None, {DAN, GRACE}),
    ("cf.interests", "is_not_empty", None, {ALICE, BOB, CAROL, EVE, FRANK}),
    # ---- cf.birthday (date; "today" is 2026-06-15)
    ("cf.birthday", "before", "1990-01-01", {BOB}),
    ("cf.birthday", "before", "1990-03-14", {BOB}),
    ("cf.birthday", "after", "1999-12-31", {CAROL, EVE, FRANK}),
    ("cf.birthday", "between", ["1985-12-01", "1990-03-14"], {ALICE, BOB}),
    ("cf.birthday", "within_last_days", 7, {CAROL, FRANK}),
    ("cf.birthday", "within_last_days", 5, {CAROL, FRANK}),
    ("cf.birthday", "within_last_days", 4, {FRANK}),
    ("cf.birthday", "more_than_days_ago", 5, {ALICE, BOB, EVE}),
    ("cf.birthday", "is_empty", None, {DAN, GRACE}),
    ("cf.birthday", "is_not_empty", None, {ALICE, BOB, CAROL, EVE, FRANK}),
    # ---- conversation fields: a contact matches when ANY of its conversations does
    ("conv.order_id", "contains", "a-10", {ALICE}),
    ("conv.order_id", "starts_with", "b", {BOB}),
    ("conv.order_id", "equals", "d-1", {DAN}),
    ("conv.order_id", "is_empty", None, {EVE, FRANK}),
    ("conv.order_id", "is_not_empty", None, {ALICE, BOB, DAN}),
    ("conv.amount", "gt", 100, {ALICE, EVE}),
    ("conv.amount", "gte", 250, {ALICE, EVE}),
    ("conv.amount", "lt", 20, {ALICE}),
    ("conv.amount", "lte", 15.5, {ALICE}),
    ("conv.amount", "eq", 99, {BOB}),
    ("conv.amount", "neq", 250, {ALICE, BOB, DAN, FRANK}),
    ("conv.amount", "between", [15, 100], {ALICE, BOB}),
    ("conv.amount", "is_empty", None, {DAN, FRANK}),
    ("conv.amount", "is_not_empty", None, {ALICE, BOB, EVE}),
    ("conv.topic", "is", "Billing", {ALICE, DAN}),
    ("conv.topic", "is_not", "Billing", {ALICE, BOB, EVE, FRANK}),
    ("conv.topic", "is_any_of", ["Returns", "Shipping"], {ALICE, BOB, EVE}),
    ("conv.topic", "is_empty", None, {FRANK}),
    ("conv.topic", "is_not_empty", None, {ALICE, BOB, DAN, EVE}),
    ("conv.tags", "has_any_of", ["VIP"], {ALICE, DAN}),
    ("conv.tags", "has_all_of", ["Urgent", "VIP"], {ALICE}),
    ("conv.tags", "has_all_of", ["VIP", "Spam"], NOBODY),
    ("conv.tags", "has_none_of", ["Spam"], {ALICE, DAN, EVE, FRANK}),
    ("conv.tags", "is_empty", None, {ALICE, EVE, FRANK}),
    ("conv.tags", "is_not_empty", None, {ALICE, BOB, DAN}),
    ("conv.due", "before", "2026-06-01", {ALICE}),
    ("conv.due", "after", "2026-06-15", {ALICE}),
    ("conv.due", "between", ["2026-06-14", "2026-06-20"], {ALICE, EVE}),
    ("conv.due", "within_last_days", 7, {EVE}),
    ("conv.due", "more_than_days_ago", 30, {ALICE}),
    ("conv.due", "is_empty", None, {BOB, DAN, FRANK}),
    ("conv.due", "is_not_empty", None, {ALICE, EVE}),
    # ---- notes: a contact matches when ANY of its notes does (Mallory's never shows)
    ("notes", "contains", "refund", {ALICE, DAN}),
    ("notes", "contains", "REFUND FOR", {ALICE}),
    ("notes", "contains", "all fine", {ALICE}),
    ("notes", "contains", "100%", {BOB}),
    ("notes", "contains", "100_", NOBODY),
    ("notes", "contains", "d_p", {DAN}),
    ("notes", "contains", "everything", NOBODY),
    ("notes", "not_contains", "refund", {BOB, CAROL, EVE, FRANK, GRACE}),
    ("notes", "is_not_empty", None, {ALICE, BOB, DAN}),
    ("notes", "is_empty", None, {CAROL, EVE, FRANK, GRACE}),
]


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [pytest.param(*case, id=f"{case[0]}-{case[1]}-{case[2]}") for case in CASES],
)
def test_one_condition(session, world, dialect, field, operator, value, expected):
    assert matching(session, world, only(c(field, operator, value)), dialect) == expected


FIELD_KINDS = {
    "name": "text",
    "email": "text",
    "phone": "text",
    "channel": "select",
    "created_at": "date",
    "last_interaction_at": "date",
    "campaign_opt_in": "boolean",
    "has_conversations": "boolean",
    "label": "label",
    "notes": "notes",
    "cf.company": "text",
    "cf.website": "text",
    "cf.mobile": "text",
    "cf.work_email": "text",
    "cf.score": "number",
    "cf.plan": "select",
    "cf.interests": "multi_select",
    "cf.birthday": "date",
    "conv.order_id": "text",
    "conv.amount": "number",
    "conv.topic": "select",
    "conv.tags": "multi_select",
    "conv.due": "date",
}


def test_cases_cover_every_operator_of_every_field():
    """The table above is complete: each field is tried with each operator its kind has."""
    covered = {(field, operator) for field, operator, *_ in CASES}
    missing = [
        (field, operator)
        for field, kind in FIELD_KINDS.items()
        for operator in OPERATORS_BY_KIND[kind]
        if (field, operator) not in covered
    ]
    assert missing == []
    assert set(OPERATORS_BY_KIND) == set(FIELD_KINDS.values())


# --------------------------------------------------------------------------- all / any


@pytest.mark.parametrize(
    ("match", "conditions", "expected"),
    [
        pytest.param(
            "all",
            [c("label", "has_any_of", ["VIP"]), c("cf.plan", "is", "Pro")],
            {ALICE, EVE},
            id="all-label-and-plan",
        ),
        pytest.param(
            "any",
            [c("channel", "is", "facebook"), c("label", "has_all_of", ["Lead", "Churned"])],
            {CAROL, FRANK},
            id="any-channel-or-labels",
        ),
        pytest.param(
            "all",
            [c("channel", "is", "whatsapp"), c("campaign_opt_in", "is", True)],
            {ALICE, FRANK},
            id="all-channel-and-optin",
        ),
        pytest.param(
            "any",
            [c("channel", "is", "whatsapp"), c("campaign_opt_in", "is", True)],
            {ALICE, CAROL, FRANK},
            id="any-channel-or-optin",
        ),
        pytest.param(
            "all",
            [c("has_conversations", "is", True), c("cf.score", "gt", 100)],
            {ALICE, EVE},
            id="all-conversations-and-score",
        ),
        pytest.param(
            "any",
            [c("has_conversations", "is", True), c("cf.score", "gt", 100)],
            {ALICE, BOB, DAN, EVE, FRANK},
            id="any-conversations-or-score",
        ),
        pytest.param(
            "all",
            [c("conv.topic", "is", "Billing"), c("conv.amount", "gt", 100)],
            {ALICE},
            id="all-two-conversation-fields",
        ),
        pytest.param(
            "all",
            [
                c("cf.interests", "has_any_of", ["Shoes"]),
                c("last_interaction_at", "within_last_days", 30),
                c("label", "has_none_of", ["VIP"]),
            ],
            {FRANK},
            id="all-three-kinds",
        ),
        pytest.param(
            "any",
            [c("name", "contains", "zzz"), c("email", "contains", "zzz")],
            NOBODY,
            id="any-nothing",
        ),
        pytest.param(
            "any",
            [c("cf.score", "is_empty"), c("email", "is_empty"), c("phone", "equals", "+33 1")],
            {DAN, GRACE},
            id="any-empties",
        ),
    ],
)
def test_match_all_and_any(session, world, dialect, match, conditions, expected):
    spec = {"match": match, "conditions": conditions}
    assert matching(session, world, spec, dialect) == expected


def test_default_match_is_all(session, world, dialect):
    spec = {"conditions": [c("channel", "is", "whatsapp"), c("campaign_opt_in", "is", False)]}
    assert matching(session, world, spec, dialect) == NOBODY


# --------------------------------------------------------------------------- validation


def memory_catalog() -> FieldCatalog:
    """The world's catalog without a database (label ids 1-3: VIP, Lead, Churned)."""
    definitions = _definitions(1)
    for number, definition in enumerate(definitions, start=1):
        definition.id = number
    labels = [Label(id=number, workspace_id=1, name=name) for number, name in enumerate(LABELS, 1)]
    return FieldCatalog.build(definitions, labels)


VALID = c("name", "contains", "a")

INVALID = [
    # unknown fields
    (c("favourite_colour", "equals", "red"), "The field “favourite_colour” no longer exists."),
    (c("cf.nope", "equals", "x"), "The field “nope” no longer exists."),
    (c("conv.nope", "is_empty"), "The field “nope” no longer exists."),
    (c("plan", "is", "Pro"), "The field “plan” no longer exists."),
    # operators that do not fit the field's type
    (c("name", "gt", 3), "“Name” cannot use “gt”; choose one of “contains”, “equals”"),
    (c("created_at", "contains", "2026"), "“Created at” cannot use “contains”"),
    (c("cf.score", "contains", "1"), "“Score” cannot use “contains”; choose one of “=”"),
    (c("cf.plan", "has_any_of", ["Pro"]), "“Plan” cannot use “has_any_of”"),
    (c("cf.interests", "is", "Hats"), "“Interests” cannot use “is”"),
    (c("label", "is", 1), "“Label” cannot use “is”"),
    (c("campaign_opt_in", "is_empty"), "“Campaign opt-in” cannot use “is_empty”"),
    (c("conv.amount", "starts_with", "1"), "“Amount (conversation)” cannot use “starts_with”"),
    (c("name", "DROP", "x"), "“Name” cannot use “DROP”"),
    # wrong value types
    (c("cf.score", "eq", "abc"), "“Score” needs a number, not “abc”."),
    (c("cf.score", "gt", "12 apples"), "“Score” needs a number, not “12 apples”."),
    (c("cf.score", "gt", True), "“Score” needs a number."),
    (c("cf.score", "gt", None), "“Score” needs a number"),
    (c("cf.score", "lt", "nan"), "“Score” needs a number"),
    (c("cf.score", "lt", "inf"), "“Score” needs a number"),
    (c("conv.amount", "eq", [1]), "“Amount (conversation)” needs a number"),
    (c("cf.score", "between", [10, 1]), "“Score”: the first number must not be above the second."),
    (c("cf.score", "between", [1]), "“Score” between needs two values."),
    (c("cf.score", "between", "1-10"), "“Score” between needs two values."),
    (c("created_at", "before", "2026-13-45"), "“Created at” needs a date (YYYY-MM-DD), not"),
    (c("created_at", "after", "yesterday"), "needs a date (YYYY-MM-DD), not “yesterday”."),
    (c("cf.birthday", "before", "14/03/1990"), "“Birthday” needs a date (YYYY-MM-DD)"),
    (c("conv.due", "after", None), "“Due (conversation)” needs a date"),
    (
        c("created_at", "between", ["2026-06-10", "2026-06-01"]),
        "“Created at”: the start date must not be after the end date.",
    ),
    (c("channel", "is", "telegram"), "“Channel” has no option “telegram”."),
    (c("channel", "is_any_of", []), "Choose at least one option for “Channel”."),
    (c("cf.plan", "is", "Gold"), "“Plan” has no option “Gold”."),
    (c("cf.plan", "is", "pro"), "“Plan” has no option “pro”."),
    (c("cf.plan", "is_any_of", ["Pro", "Legacy"]), "“Plan” has no option “Legacy”."),
    (c("cf.interests", "has_any_of", ["Socks"]), "“Interests” has no option “Socks”."),
    (c("cf.interests", "has_all_of", []), "Choose at least one option for “Interests”."),
    (c("conv.topic", "is", "Sales"), "“Topic (conversation)” has no option “Sales”."),
    (c("label", "has_any_of", [99999]), "A label used here (#99999) has been deleted."),
    (c("label", "has_any_of", ["Customers"]), "“Customers” is not a label."),
    (c("label", "has_any_of", [1, 4]), "A label used here (#4) has been deleted."),
    (c("label", "has_any_of", []), "Choose at least one label."),
    (c("label", "has_any_of", True), "“True” is not a label."),
    (c("label", "has_none_of", [None]), "“None” is not a label."),
    (c("created_at", "within_last_days", 0), "The number of days must be between 1 and 36500."),
    (c("created_at", "within_last_days", -3), "The number of days must be between 1 and 36500."),
    (c("cf.birthday", "more_than_days_ago", 100000), "between 1 and 36500."),
    (c("created_at", "within_last_days", "abc"), "“Created at” needs a whole number of days."),
    (c("created_at", "within_last_days", 2.5), "“Created at” needs a whole number of days."),
    (c("created_at", "within_last_days", True), "“Created at” needs a whole number of days."),
    (c("created_at", "within_last_days", None), "“Created at” needs a whole number of days."),
    (c("campaign_opt_in", "is", "maybe"), "“Campaign opt-in” needs yes or no."),
    (c("has_conversations", "is", None), "“Has conversations” needs yes or no."),
    (c("name", "contains", ""), "Type a value for “Name”."),
    (c("name", "contains", "   "), "Type a value for “Name”."),
    (c("email", "equals", None), "Type a value for “Email”."),
    (c("cf.company", "contains", ["a"]), "Type a value for “Company”."),
]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        pytest.param(bad, message, id=f"{bad['field']}-{bad['operator']}")
        for bad, message in INVALID
    ],
)
def test_invalid_condition_is_a_readable_error(bad, message):
    """The error names the condition (1-based) and says what is wrong, in words."""
    catalog = memory_catalog()
    spec = {"match": "any", "conditions": [VALID, VALID, bad]}
    for dialect in ("sqlite", "postgresql"):
        with pytest.raises(FilterError) as caught:
            compile_filter(FilterSpec.parse(spec), catalog, CompileContext(dialect, NOW))
        text = str(caught.value)
        assert text.startswith("Condition 3: ")
        assert message in text
        for jargon in ("Traceback", "sqlalchemy", "ValidationError", "KeyError"):
            assert jargon not in text
    # The first bad condition is the one reported.
    spec = {"conditions": [bad, c("nope", "equals", "x")]}
    with pytest.raises(FilterError, match=r"^Condition 1: "):
        validate_spec(FilterSpec.parse(spec), catalog)


def test_label_of_another_workspace_is_a_deleted_label(session, world, dialect):
    foreign = world.other_labels["VIP"]
    spec = only(c("label", "has_any_of", [foreign]))
    with pytest.raises(FilterError, match=rf"Condition 1: A label used here \(#{foreign}\)"):
        matching(session, world, spec, dialect)


def test_deleted_label_and_field_in_a_saved_segment(session, world, dialect):
    """A segment outlives the label and field it names: it then reads as a clear error."""
    lead = world.labels["Lead"]
    segment = Segment(
        workspace_id=world.ws,
        name="Leads on Pro",
        filter_spec={
            "match": "all",
            "conditions": [c("label", "has_any_of", [lead]), c("cf.plan", "is", "Pro")],
        },
    )
    session.add(segment)
    session.commit()
    query = ContactQuery(segment_id=segment.id)
    assert [row.name for row in list_contacts(session, world.ws, query).rows] == [ALICE]

    session.execute(sa.delete(Label).where(Label.id == lead))
    session.commit()
    with pytest.raises(FilterError, match=rf"Condition 1: A label used here \(#{lead}\)"):
        list_contacts(session, world.ws, query)

    session.execute(
        sa.delete(CustomFieldDefinition).where(
            CustomFieldDefinition.workspace_id == world.ws, CustomFieldDefinition.key == "plan"
        )
    )
    session.commit()
    segment.filter_spec = {"conditions": [c("cf.plan", "is", "Pro")]}
    session.add(segment)
    session.commit()
    with pytest.raises(FilterError, match="Condition 1: The field “plan” no longer exists."):
        count_contacts(session, world.ws, query)


@pytest.mark.parametrize(
    "data",
    [
        {"match": "some", "conditions": []},
        {"conditions": [{"field": "name"}]},
        {"conditions": "name contains a"},
        {"conditions": [["name", "contains", "a"]]},
        "name contains a",
    ],
)
def test_unreadable_spec(data):
    with pytest.raises(FilterError, match="^This filter cannot be read: "):
        FilterSpec.parse(data)


def test_spec_values_are_coerced_when_validated():
    spec = FilterSpec.parse(
        {
            "conditions": [
                c("cf.score", "between", ["2", " 3 "]),
                c("created_at", "within_last_days", "7"),
                c("campaign_opt_in", "is", "Yes"),
                c("label", "has_any_of", ["1", 1, 3]),
                c("cf.plan", "is_any_of", ["Pro", "Pro", "Free"]),
                c("name", "contains", "  al  "),
                c("created_at", "before", "2026-06-01T10:00:00Z"),
            ]
        }
    )
    checked = validate_spec(spec, memory_catalog())
    assert [condition.value for condition in checked.conditions] == [
        [2.0, 3.0],
        7,
        True,
        [1, 3],
        ["Pro", "Free"],
        "al",
        "2026-06-01",
    ]


# --------------------------------------------------------------------------- injection

DROP = "'; DROP TABLE contact; --"


def _tables_intact(session: Session, world: World) -> None:
    session.rollback()
    assert session.execute(sa.select(sa.func.count()).select_from(Contact)).scalar_one() == 8
    assert session.execute(sa.select(sa.func.count()).select_from(Workspace)).scalar_one() == 2


INJECTED_VALUES = [
    (c("name", "contains", DROP), NOBODY),
    (c("name", "equals", "Robert'); DROP TABLE contact;--"), NOBODY),
    (c("name", "starts_with", "' OR '1'='1"), NOBODY),
    (c("email", "contains", "%' OR 1=1 --"), NOBODY),
    (c("email", "contains", '" OR ""="'), NOBODY),
    (c("name", "contains", "\\"), NOBODY),
    (c("name", "contains", "\\%"), NOBODY),
    (c("cf.company", "contains", "' OR '1'='1"), NOBODY),
    (c("cf.company", "equals", '") OR 1=1 --'), NOBODY),
    (c("conv.order_id", "contains", DROP), NOBODY),
    (c("phone", "contains", "'); DROP TABLE contact; --"), NOBODY),
    (c("cf.birthday", "after", "2026-06-01'); DROP TABLE contact; --"), {CAROL, FRANK}),
]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param(condition, expected, id=f"{number}-{condition['field']}")
        for number, (condition, expected) in enumerate(INJECTED_VALUES, start=1)
    ],
)
def test_injection_in_values_is_a_literal(session, world, dialect, condition, expected):
    assert matching(session, world, only(condition), dialect) == expected
    _tables_intact(session, world)


@pytest.mark.parametrize(
    "field",
    [
        'cf.plan") OR 1=1 --',
        "cf.plan' OR '1'='1",
        'cf.plan"."x',
        "cf.$.plan",
        "cf.plan[0]",
        "cf.",
        "cf.*",
        'conv.topic") OR 1=1 --',
        "name; DROP TABLE contact",
        "contact.name",
        "__class__",
    ],
)
def test_injection_in_field_keys_is_rejected(session, world, dialect, field):
    with pytest.raises(FilterError, match="^Condition 1: The field “.*” no longer exists.$"):
        matching(session, world, only(c(field, "equals", "Pro")), dialect)
    _tables_intact(session, world)


@pytest.mark.parametrize(
    "condition",
    [
        c("name", "contains' OR 1=1 --", "x"),
        c("cf.plan", "is", "Pro' OR '1'='1"),
        c("cf.interests", "has_any_of", ['Shoes"]']),
        c("channel", "is_any_of", ["whatsapp", "x') OR 1=1 --"]),
        c("label", "has_any_of", ["1 OR 1=1"]),
        c("created_at", "within_last_days", "1; DROP TABLE contact"),
        c("cf.score", "gt", "1 OR 1=1"),
    ],
    ids=lambda value: f"{value['field']}-{value['operator'][:12]}",
)
def test_injection_in_operators_and_options_is_rejected(session, world, dialect, condition):
    with pytest.raises(FilterError, match="^Condition 1: "):
        matching(session, world, only(condition), dialect)
    _tables_intact(session, world)


def test_search_injection_is_a_literal(session, world):
    for search in (DROP, "' OR '1'='1", '" OR 1=1 --', "%' --", "\\'; --"):
        query = ContactQuery(search=search)
        assert list_contacts(session, world.ws, query).total == 0
        assert count_contacts(session, world.ws, query) == 0
    _tables_intact(session, world)


# --------------------------------------------------------------------------- workspaces


def test_list_and_count_never_show_another_workspace(session, world):
    for query in (
        ContactQuery(page_size=100),
        ContactQuery(search="Mallory", page_size=100),
        ContactQuery(search="alice@example.com", page_size=100),
        ContactQuery(search="+44 20 7946", page_size=100),
        ContactQuery(filter=FilterSpec.parse(only(c("name", "contains", "archer")))),
        ContactQuery(filter=FilterSpec.parse(only(c("cf.plan", "is", "Pro")))),
        ContactQuery(filter=FilterSpec.parse(only(c("conv.topic", "is", "Billing")))),
        ContactQuery(filter=FilterSpec.parse(only(c("has_conversations", "is", True)))),
    ):
        page = list_contacts(session, world.ws, query)
        names = {row.name for row in page.rows}
        assert "Mallory Archer" not in names
        assert page.total == len(names) == count_contacts(session, world.ws, query)
    everyone = list_contacts(session, world.ws, ContactQuery(page_size=100))
    assert {row.name for row in everyone.rows} == EVERYONE
    mallory = list_contacts(session, world.other_ws, ContactQuery(search="archer"))
    assert [row.name for row in mallory.rows] == ["Mallory Archer"]


def test_foreign_ids_are_not_found_and_not_touched(session, world):
    ws, mallory = world.ws, world.mallory
    before_versions = (data_version(session, ws), data_version(session, world.other_ws))

    with pytest.raises(NotFound):
        get_contact(session, ws, mallory)
    with pytest.raises(NotFound):
        update_contact_field(session, ws, mallory, "name", "Hacked")
    session.rollback()
    with pytest.raises(NotFound):
        update_contact_field(session, ws, mallory, "cf.plan", "Free")
    session.rollback()
    with pytest.raises(NotFound):
        set_contact_labels(session, ws, mallory, [world.labels["VIP"]])
    session.rollback()
    # A foreign label on an own contact is refused too.
    alice = world.contacts[ALICE]
    with pytest.raises(NotFound):
        set_contact_labels(session, ws, alice, [world.other_labels["VIP"]])
    session.rollback()

    preview = delete_preview(session, ws, Selection(ids=[mallory]))
    assert (preview.selected, preview.with_conversations) == (0, 0)
    assert delete_contacts(session, ws, Selection(ids=[mallory, 999_999])) == 0
    session.commit()
    mixed = delete_preview(session, ws, Selection(ids=[mallory, alice]))
    assert (mixed.selected, mixed.with_conversations) == (1, 1)

    # A foreign segment is not found either.
    segment = Segment(workspace_id=world.other_ws, name="Theirs", filter_spec={})
    session.add(segment)
    session.commit()
    with pytest.raises(NotFound):
        list_contacts(session, ws, ContactQuery(segment_id=segment.id))

    session.expire_all()
    row = session.get(Contact, mallory)
    assert row.name == "Mallory Archer" and row.custom_fields["plan"] == "Pro"
    assert session.get(Conversation, world.mallory_conversation) is not None
    labels = session.execute(
        sa.select(sa.func.count())
        .select_from(ContactLabel)
        .where(ContactLabel.contact_id == mallory)
    ).scalar_one()
    assert labels == 3
    assert set(
        session.execute(
            sa.select(ContactLabel.label_id).where(ContactLabel.contact_id == alice)
        ).scalars()
    ) == {world.labels["VIP"], world.labels["Lead"]}
    assert (data_version(session, ws), data_version(session, world.other_ws)) == before_versions


def test_deleting_everything_in_a_view_spares_other_workspaces(session, world):
    query = ContactQuery(filter=FilterSpec.parse(only(c("name", "contains", "archer"))))
    assert delete_contacts(session, world.ws, Selection(query=query)) == 1
    assert delete_contacts(session, world.ws, Selection(query=ContactQuery())) == 6
    session.commit()
    remaining = session.execute(sa.select(Contact.name)).scalars().all()
    assert remaining == ["Mallory Archer"]
    assert session.get(Conversation, world.mallory_conversation) is not None


def test_field_catalog_is_per_workspace(session, world):
    session.add(
        CustomFieldDefinition(
            workspace_id=world.other_ws, entity="contact", key="secret", label="Secret", type="text"
        )
    )
    session.commit()
    assert "cf.secret" in field_catalog(session, world.other_ws).fields
    assert "cf.secret" not in field_catalog(session, world.ws).fields
    with pytest.raises(FieldValueError, match="That field no longer exists."):
        update_contact_field(session, world.ws, world.contacts[ALICE], "cf.secret", "x")
    session.rollback()
    with pytest.raises(FilterError, match="The field “secret” no longer exists."):
        count_contacts(
            session,
            world.ws,
            ContactQuery(filter=FilterSpec.parse(only(c("cf.secret", "is_empty")))),
        )
