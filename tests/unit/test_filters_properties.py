"""Property-based tests (Hypothesis) of the filter language and the search box, on SQLite
and PostgreSQL at once.

Hypothesis writes filter specs, valid and hostile: fields of every kind and made-up ones,
every operator and made-up ones, values of every JSON type (huge, NaN and infinite
numbers, far dates, NUL, lone surrogates, long strings, nesting), up to 80 conditions.
For each spec, on both databases, either `compile_spec` refuses it with the same readable
FilterError, or the query runs and returns exactly the rows that the small reference
evaluator below (plain Python over the same world) computes. Search terms of any text
run on both databases; ASCII ones find exactly what the reference finds.

The world is seeded once for the module, in one SQLite file and in PostgreSQL: eight
acme contacts with custom fields of every type (contact and conversation), labels and
conversations, plus a globex contact that matches almost everything and must never show.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from cloodot_app.db import make_engine
from cloodot_app.fieldtypes import digits_only
from cloodot_app.filters import (
    OPERATORS,
    CompileContext,
    FieldCatalog,
    FilterError,
    FilterSpec,
    compile_spec,
)
from cloodot_app.models import (
    Contact,
    ContactLabel,
    ContactNote,
    Conversation,
    CustomFieldDefinition,
    Label,
)
from cloodot_app.services.contacts import search_condition
from cloodot_app.services.workspaces import ensure_workspace, field_catalog
from tests.conftest import truncate_postgres

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
DIALECTS = ("sqlite", "postgresql")
PROPERTY_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,  # nothing written into the work tree
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

CONTACT_FIELDS = [
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


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# Every value is what each database reads the same way (strings in text fields, numbers
# or a legacy string in number fields, ISO dates, lists of strings), with the edge cases
# the operators care about: missing, null, "", [], a removed option, a number kept as text.
PEOPLE: list[dict[str, Any]] = [
    {
        "name": "Alice Archer",
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
            "mobile": "+1 (415) 555-0101",
            "work_email": "alice@acme.example",
            "score": 120,
            "plan": "Pro",
            "interests": ["Shoes", "Bags"],
            "birthday": "1990-03-14",
        },
        "conversations": [
            {"order_id": "A-100", "amount": 250, "topic": "Billing", "tags": ["Urgent", "VIP"]},
            {"order_id": "A-101", "amount": 15.5, "tags": [], "due": "2026-05-01"},
        ],
    },
    {
        "name": "Bob Baker",
        "email": "bob_b@sample.org",
        "phone": "+14155550199",
        "channel": "instagram",
        "created_at": at(2026, 6, 5),
        "last_interaction_at": at(2026, 6, 5),
        "campaign_opt_in": False,
        "labels": ["Lead"],
        "custom_fields": {
            "company": "Baker & Sons 100%",
            "score": 45.5,
            "plan": "Free",
            "interests": ["Hats"],
            "birthday": "1985-12-01",
        },
        "conversations": [{"order_id": "B-7", "amount": 99, "topic": "Returns", "tags": ["Spam"]}],
    },
    {
        "name": "Carol Chen",
        "email": "carol.chen@example.com",
        "phone": None,
        "channel": "facebook",
        "created_at": at(1950, 3, 7),
        "last_interaction_at": None,
        "campaign_opt_in": True,
        "labels": [],
        "custom_fields": {
            "company": None,
            "mobile": "+44 20 7946 0000",
            "score": 0,
            "plan": "Enterprise",
            "interests": ["Shoes", "Bags", "Hats"],
            "birthday": "2026-06-10",
        },
        "conversations": [],
    },
    {
        "name": "Dan O'Neil",
        "email": None,
        "phone": "+33123456789",
        "channel": "webchat",
        "created_at": at(2026, 6, 14, 13),
        "last_interaction_at": at(2026, 6, 15, 11),
        "campaign_opt_in": False,
        "labels": ["Churned"],
        "custom_fields": {"company": "", "score": -5, "plan": None, "interests": None},
        "conversations": [{"order_id": "D-1", "amount": "n/a", "topic": "Billing"}],
    },
    {
        "name": "Eve 50% Off",
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
            "birthday": "",
        },
        "conversations": [{"amount": 250, "topic": "Shipping", "due": "2026-06-14"}],
    },
    {
        "name": "Frank Fischer",
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
        "name": "Grace Hopper",
        "email": "grace@navy.mil",
        "phone": None,
        "channel": "instagram",
        "created_at": at(2999, 1, 1),
        "last_interaction_at": at(1901, 5, 16, 11),
        "campaign_opt_in": False,
        "labels": [],
        "custom_fields": {"score": "12", "plan": "Legacy", "interests": [], "birthday": None},
        "conversations": [],
    },
    {
        "name": "Hal _Nine_ \\ Thousand",
        "email": "HAL@Discovery.example",
        "phone": "(0) 800 555",
        "channel": "webchat",
        "created_at": at(2026, 6, 15, 11),
        "last_interaction_at": at(2026, 6, 15, 12),
        "campaign_opt_in": True,
        "labels": ["VIP", "Lead", "Churned"],
        "custom_fields": {
            "company": "'; DROP TABLE contact; --",
            "mobile": "0800 555 000",
            "score": 999999999999999,
            "interests": ["Bags", "Shoes", "Hats"],
            "birthday": "1900-01-01",
        },
        "conversations": [
            {"order_id": "h-9000", "amount": -0.5, "topic": "Returns", "due": "2999-12-31"},
            {"order_id": "H-9001", "tags": ["VIP", "Spam"], "due": "2026-06-15"},
        ],
    },
]
# Notes by contact name: "Notes" conditions hold when any of them does.
NOTES: dict[str, list[str]] = {
    "Alice Archer": ["Wants a refund for A-100", "called back: 50% off agreed"],
    "Bob Baker": ["_vip_ \\ maybe"],
    "Dan O'Neil": [""],
    "Hal _Nine_ \\ Thousand": ["Example customer", "second note", "ÑANDÚ"],
    "Mallory": ["refund everything", "example"],
}
# Matches almost everything; lives in globex and must never be in acme's rows.
MALLORY = {
    **PEOPLE[0],
    "name": "Mallory",
    "labels": LABELS,
    "custom_fields": {**PEOPLE[0]["custom_fields"], "interests": ["Shoes", "Bags", "Hats"]},
}


# --------------------------------------------------------------------------- the worlds


@dataclass
class World:
    engine: sa.Engine
    ws: int
    catalog: FieldCatalog
    labels: dict[str, int]  # acme's label ids by name
    other_labels: dict[str, int]


def _seed(engine: sa.Engine) -> World:
    with Session(engine, expire_on_commit=False) as session:
        acme, globex = ensure_workspace(session, "acme"), ensure_workspace(session, "globex")
        labels = {}
        for ws in (acme.id, globex.id):
            labels[ws] = {name: Label(workspace_id=ws, name=name) for name in LABELS}
            session.add_all(labels[ws].values())
            for entity, fields in (
                ("contact", CONTACT_FIELDS),
                ("conversation", CONVERSATION_FIELDS),
            ):
                for position, (key, label, type_, options) in enumerate(fields):
                    session.add(
                        CustomFieldDefinition(
                            workspace_id=ws,
                            entity=entity,
                            key=key,
                            label=label,
                            type=type_,
                            options=options,
                            position=position,
                        )
                    )
        session.flush()
        for ws, person in [(acme.id, p) for p in PEOPLE] + [(globex.id, MALLORY)]:
            contact = Contact(
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
            session.add(contact)
            session.flush()
            session.add_all(
                ContactLabel(contact_id=contact.id, label_id=labels[ws][name].id)
                for name in person["labels"]
            )
            session.add_all(
                Conversation(
                    workspace_id=ws,
                    contact_id=contact.id,
                    channel=person["channel"],
                    custom_fields=values,
                )
                for values in person["conversations"]
            )
            session.add_all(
                ContactNote(workspace_id=ws, contact_id=contact.id, body=body)
                for body in NOTES.get(person["name"], [])
            )
        session.commit()
        return World(
            engine=engine,
            ws=acme.id,
            catalog=field_catalog(session, acme.id),
            labels={name: label.id for name, label in labels[acme.id].items()},
            other_labels={name: label.id for name, label in labels[globex.id].items()},
        )


@pytest.fixture(scope="module")
def worlds(tmp_path_factory, sqlite_template, postgres_admin_engine) -> Iterator[dict[str, World]]:
    path = tmp_path_factory.mktemp("properties") / "world.db"
    shutil.copy(sqlite_template, path)
    truncate_postgres(postgres_admin_engine)
    engines = {
        "sqlite": make_engine(f"sqlite:///{path}"),
        "postgresql": make_engine(postgres_admin_engine.url.render_as_string(hide_password=False)),
    }
    try:
        seeded = {dialect: _seed(engine) for dialect, engine in engines.items()}
        # The same ids on both, so that one spec means the same on both.
        assert seeded["sqlite"].labels == seeded["postgresql"].labels
        assert seeded["sqlite"].ws == seeded["postgresql"].ws
        yield seeded
    finally:
        for engine in engines.values():
            engine.dispose()
        truncate_postgres(postgres_admin_engine)


# --------------------------------------------------------------------------- the reference
# Plain Python with SQL's three-valued logic (None is NULL): what each operator means.


def _and(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: list[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


def _cmp(left: Any, right: Any, test) -> bool | None:
    return None if left is None else test(left, right)


def _text(op: str, text: str | None, value: Any, digits: str | None, phone: bool) -> Any:
    if op == "is_empty":
        return _or([text is None, _cmp(text, "", lambda a, b: a == b)])
    if op == "is_not_empty":
        return _and([text is not None, _cmp(text, "", lambda a, b: a != b)])
    wanted = digits_only(value)
    if phone and wanted:
        if op == "equals":
            return _cmp(digits, wanted, lambda a, b: a == b)
        if op == "contains":
            return _cmp(digits, wanted, lambda a, b: b in a)
        return _cmp(digits, wanted, lambda a, b: a.startswith(b))
    if op == "equals":
        return _cmp(text, value, lambda a, b: a.lower() == b.lower())
    if op == "contains":
        return _cmp(text, value, lambda a, b: b.lower() in a.lower())
    return _cmp(text, value, lambda a, b: a.lower().startswith(b.lower()))


def _number(op: str, number: float | None, value: Any) -> Any:
    tests = {
        "eq": lambda a, b: a == b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "between": lambda a, b: b[0] <= a <= b[1],
    }
    if op == "neq":
        return _or([number is None, _cmp(number, value, lambda a, b: a != b)])
    if op == "is_empty":
        return number is None
    if op == "is_not_empty":
        return number is not None
    return _cmp(number, value, tests[op])


def _day_start(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)


def _timestamp(op: str, moment: datetime | None, value: Any) -> Any:
    if op == "is_empty":
        return moment is None
    if op == "is_not_empty":
        return moment is not None
    if moment is None:
        return None
    if op == "before":
        return moment < _day_start(value)
    if op == "after":
        return moment >= _day_start(value) + timedelta(days=1)
    if op == "between":
        return _day_start(value[0]) <= moment < _day_start(value[1]) + timedelta(days=1)
    if op == "within_last_days":
        return moment >= NOW - timedelta(days=value)
    return moment < NOW - timedelta(days=value)  # more_than_days_ago


def _iso_date(op: str, text: str | None, value: Any) -> Any:
    if op in ("is_empty", "is_not_empty"):
        return _text(op, text, None, None, False)
    if text is None:
        return None
    if op == "before":
        return text < value
    if op == "after":
        return text > value
    if op == "between":
        return value[0] <= text <= value[1]
    since = (TODAY - timedelta(days=value)).isoformat()
    if op == "within_last_days":
        return since <= text <= TODAY.isoformat()
    return text < since  # more_than_days_ago


def _select(op: str, text: str | None, value: Any) -> Any:
    if op in ("is_empty", "is_not_empty"):
        return _text(op, text, None, None, False)
    if op == "is":
        return _cmp(text, value, lambda a, b: a == b)
    if op == "is_not":
        return _or([text is None, _cmp(text, value, lambda a, b: a != b)])
    return _cmp(text, value, lambda a, b: a in b)  # is_any_of


def _multi(op: str, stored: Any, value: Any) -> bool:
    present = isinstance(stored, list) and len(stored) > 0
    items = set(stored) if present else set()
    if op == "is_empty":
        return not present
    if op == "is_not_empty":
        return present
    if op == "has_any_of":
        return present and bool(items & set(value))
    if op == "has_all_of":
        return present and set(value) <= items
    return not present or not items & set(value)  # has_none_of


def _json_value(values: dict, key: str, kind: str) -> Any:
    stored = values.get(key)
    if kind == "number":
        is_number = isinstance(stored, int | float) and not isinstance(stored, bool)
        return stored if is_number else None
    return stored


def _custom(info, op: str, values: dict, value: Any) -> Any:
    stored = _json_value(values, info.json_key, info.kind)
    if info.kind == "multi_select":
        return _multi(op, stored, value)
    if info.kind == "number":
        return _number(op, stored, value)
    if info.kind == "date":
        return _iso_date(op, stored, value)
    if info.kind == "select":
        return _select(op, stored, value)
    digits = None
    if stored is not None:
        digits = stored
        for mark in "+ -()./":
            digits = digits.replace(mark, "")
    return _text(op, stored, value, digits, info.field_type == "phone")


def _holds(person: dict, condition, world: World) -> bool | None:
    info = world.catalog.fields[condition.field]
    op, value = condition.operator, condition.value
    if info.source == "conversation":
        return any(_custom(info, op, values, value) is True for values in person["conversations"])
    if info.source == "contact":
        return _custom(info, op, person["custom_fields"], value)
    if info.key in ("name", "email", "phone"):
        digits = digits_only(person["phone"]) or None
        return _text(op, person[info.key], value, digits, info.key == "phone")
    if info.key == "channel":
        return _select(op, person["channel"], value)
    if info.key in ("created_at", "last_interaction_at"):
        return _timestamp(op, person[info.key], value)
    if info.key == "campaign_opt_in":
        return person["campaign_opt_in"] is value
    if info.key == "has_conversations":
        return bool(person["conversations"]) is value
    if info.key == "notes":
        notes = NOTES.get(person["name"], [])
        if op == "is_empty":
            return not notes
        if op == "is_not_empty":
            return bool(notes)
        found = any(value.lower() in note.lower() for note in notes)
        return found if op == "contains" else not found
    names = {name for name, label_id in world.labels.items() if label_id in value}
    has = set(person["labels"])
    if op == "has_any_of":
        return bool(has & names)
    if op == "has_all_of":
        return names <= has
    return not has & names  # has_none_of


def reference(spec: FilterSpec, world: World) -> set[str]:
    combine = _and if spec.match == "all" else _or
    return {
        person["name"]
        for person in PEOPLE
        if not spec.conditions
        or combine([_holds(person, condition, world) for condition in spec.conditions]) is True
    }


def reference_applies(spec: FilterSpec) -> bool:
    """ASCII text only: SQLite folds the case of ASCII letters only, so beyond ASCII the
    two databases may legitimately differ (both run; neither crashes)."""
    return all(
        not isinstance(condition.value, str) or condition.value.isascii()
        for condition in spec.conditions
    )


# --------------------------------------------------------------------------- strategies

ANY_FIELD_KEYS = [
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
]
KIND_OF = {
    "name": "text",
    "email": "text",
    "phone": "text",
    "channel": "select",
    "created_at": "date",
    "last_interaction_at": "date",
    "campaign_opt_in": "boolean",
    "label": "label",
    "has_conversations": "boolean",
    "notes": "notes",
}
for _prefix, _fields in (("cf.", CONTACT_FIELDS), ("conv.", CONVERSATION_FIELDS)):
    for _key, _label, _type, _options in _fields:
        KIND_OF[_prefix + _key] = {
            "url": "text",
            "phone": "text",
            "email": "text",
        }.get(_type, _type)
OPTIONS_OF = {
    "channel": ["whatsapp", "instagram", "facebook", "webchat", "imported"],
    **{f"cf.{k}": o for k, _, _, o in CONTACT_FIELDS if o},
    **{f"conv.{k}": o for k, _, _, o in CONVERSATION_FIELDS if o},
}
ALL_OPERATOR_KEYS = sorted({key for operators in OPERATORS.values() for key in operators})

SNIPPETS = [
    "a",
    "Ar",
    "er",
    "o'",
    "%",
    "_",
    "\\",
    "50% o",
    "example",
    ".example",
    "@",
    "555",
    "+44",
    "(415) 555",
    "0800",
    "h-90",
    "A-10",
    "corp",
    "DROP",
    "'; DROP",
    "Bob Baker",
    "acme ltd",
    "HAL",
    "ü",
    "K",
    "ß",
    "İ",
]
HOSTILE_SCALARS = [
    "9999-12-31",
    "0001-01-01",
    "1899-12-31",
    "3000-01-01",
    10**15,
    -(10**20),
    2**63,
    2**70,
    10**400,
    1e300,
    math.nan,
    math.inf,
    -math.inf,
    "nan",
    "Infinity",
    "\x00",
    "a\x00b",
    "\ud800",
    "x" * 201,
    "%" * 5000,
    "",
    "   ",
    True,
    False,
    None,
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(HOSTILE_SCALARS),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)
text_values = st.one_of(
    st.sampled_from(SNIPPETS),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=6),
    st.text(max_size=8),
)
numbers = st.one_of(
    st.sampled_from([0, -5, 12, 45.5, 99, 120, 250, 1200.5, 999999999999999, 15.5, -0.5]),
    st.integers(-300, 1500),
    st.floats(-2000, 2000, allow_nan=False),
    st.text(alphabet="0123456789.-e ", max_size=6),
)
days_values = st.one_of(
    st.integers(-3, 40),
    st.sampled_from([1, 7, 30, 365, 36500, 36501, 0]),
    st.integers(),
)
# The days of the world's dates, and the days either side: where before / after / between
# change their minds.
WORLD_DAYS = sorted(
    {
        (day + timedelta(days=shift)).isoformat()
        for day in [
            date(2026, 6, 15),
            date(2026, 6, 10),
            date(2026, 5, 1),
            date(2025, 11, 27),
            date(1990, 3, 14),
            date(1950, 3, 7),
            date(1901, 5, 16),
            date(2999, 1, 1),
        ]
        for shift in (-1, 0, 1)
    }
    | {"1900-01-01", "2999-12-31"}
)
dates = st.one_of(
    st.sampled_from(WORLD_DAYS),
    st.dates(min_value=date(1890, 1, 1), max_value=date(3010, 12, 31)).map(date.isoformat),
    st.dates().map(date.isoformat),
)


@st.composite
def valid_conditions(draw, kind: str | None = None) -> dict[str, Any]:
    """A condition on a real field (of `kind`, if given) with one of its kind's operators,
    and a value of about the right shape (sometimes out of bounds)."""
    fields = [key for key in ANY_FIELD_KEYS if kind in (None, KIND_OF[key])]
    field = draw(st.sampled_from(fields))
    kind = KIND_OF[field]
    operator = draw(st.sampled_from(list(OPERATORS[kind].values())))
    shape = operator.shape
    if shape == "none":
        value = draw(st.one_of(st.none(), json_scalars))
    elif shape == "text":
        value = draw(text_values)
    elif shape == "number":
        value = draw(numbers)
    elif shape == "number_range":
        value = draw(st.lists(numbers, min_size=2, max_size=2).map(sorted_if_numbers))
    elif shape == "date":
        value = draw(dates)
    elif shape == "date_range":
        value = draw(st.lists(dates, min_size=2, max_size=2).map(sorted))
    elif shape == "days":
        value = draw(days_values)
    elif shape == "option":
        value = draw(st.sampled_from([*OPTIONS_OF[field], "Legacy", "pro"]))
    elif shape == "options":
        choices = st.sampled_from([*OPTIONS_OF[field], "Legacy"])
        value = draw(st.lists(choices, min_size=0, max_size=4))
    elif shape == "boolean":
        value = draw(st.sampled_from([True, False, "yes", "no", "maybe", 1]))
    else:  # labels
        value = draw(st.lists(st.sampled_from([1, 2, 3, 4, 5, 6, "2", 0, 2**70]), max_size=4))
    return {"field": field, "operator": operator.key, "value": value}


def sorted_if_numbers(pair: list) -> list:
    try:
        return sorted(pair)
    except TypeError:
        return pair


hostile_conditions = st.fixed_dictionaries(
    {
        "field": st.one_of(
            st.sampled_from(ANY_FIELD_KEYS), st.sampled_from(["cf.gone", "cf.", ""]), st.text()
        ),
        "operator": st.one_of(st.sampled_from(ALL_OPERATOR_KEYS), st.text(max_size=12)),
        "value": json_values,
    }
)


# Mostly real fields with their own operators (so that most specs run and are checked
# against the reference), some hostile conditions, many conditions, and non-specs.
def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, each `weight` times as often (one_of draws them alike)."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(pool) - 1).flatmap(lambda index: pool[index])


conditions = weighted((6, valid_conditions()), (1, hostile_conditions))
small_specs = st.fixed_dictionaries(
    {"match": st.sampled_from(["all", "any"]), "conditions": st.lists(conditions, max_size=5)}
)
many_conditions = st.fixed_dictionaries(
    {
        "match": st.sampled_from(["all", "any"]),
        "conditions": st.integers(45, 56).flatmap(
            lambda n: st.lists(valid_conditions(), min_size=1, max_size=3).map(
                lambda few: (few * n)[:n]
            )
        ),
    }
)
not_specs = st.one_of(
    json_values, st.fixed_dictionaries({"match": json_values, "conditions": json_values})
)
specs = weighted((8, small_specs), (1, many_conditions), (1, not_specs))


# --------------------------------------------------------------------------- the properties


def _names(world: World, where) -> set[str]:
    with Session(world.engine) as session:
        statement = sa.select(Contact.name).where(Contact.workspace_id == world.ws, where)
        return set(session.execute(statement).scalars())


def check_spec(worlds: dict[str, World], spec: Any) -> None:
    """Either both databases refuse `spec` with the same readable FilterError, or both run
    it and return the reference's rows."""
    outcomes = {}
    for dialect in DIALECTS:
        world = worlds[dialect]
        try:
            compiled = compile_spec(spec, world.catalog, CompileContext(dialect, NOW))
        except FilterError as error:
            message = str(error)
            assert message and len(message) < 300
            for jargon in ("Traceback", "sqlalchemy", "\x00", "object at 0x"):
                assert jargon not in message
            outcomes[dialect] = ("refused", message)
            continue
        assert len(compiled.chips) == len(compiled.spec.conditions) <= 50
        rows = _names(world, compiled.where)
        assert "Mallory" not in rows
        if reference_applies(compiled.spec):
            assert rows == reference(compiled.spec, world), compiled.words
            # Each condition alone too: in a spec, one wrong condition can be hidden by
            # the others ("all" with one that matches nobody, "any" with one that matches
            # everybody).
            for condition in compiled.spec.conditions if len(compiled.chips) > 1 else ():
                alone = FilterSpec(conditions=[condition])
                where = compile_spec(alone, world.catalog, CompileContext(dialect, NOW)).where
                assert _names(world, where) == reference(alone, world), condition
        outcomes[dialect] = ("rows", frozenset(rows))
    # Both databases refuse it with the same words, or both run it.
    kind, result = outcomes["sqlite"]
    assert outcomes["postgresql"][0] == kind
    if kind == "refused":
        assert outcomes["postgresql"] == outcomes["sqlite"]
    # What was tried (pytest --hypothesis-show-statistics).
    event(f"refused: {result.split(': ')[-1][:25]}" if kind == "refused" else "ran")


@PROPERTY_SETTINGS
@given(spec=specs)
def test_any_spec_is_a_readable_error_or_the_reference_rows(worlds, spec):
    check_spec(worlds, spec)


# Hypothesis favours the first fields and operators of a list: a run per field kind makes
# sure that every operator of every kind is tried with many values.
@pytest.mark.parametrize("kind", list(OPERATORS))
@settings(PROPERTY_SETTINGS, max_examples=30)
@given(data=st.data())
def test_specs_of_each_kind_are_a_readable_error_or_the_reference_rows(worlds, kind, data):
    of_kind = valid_conditions(kind)
    rules = weighted((3, of_kind), (1, conditions))
    spec = data.draw(
        st.fixed_dictionaries(
            {
                "match": st.sampled_from(["all", "any"]),
                "conditions": st.lists(rules, min_size=1, max_size=4),
            }
        )
    )
    check_spec(worlds, spec)


def _search_reference(term: str) -> set[str]:
    """What search_condition promises: name or email contains the term (any case), or,
    for enough digits, the phone's digits contain them."""
    term = term.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")
    term = " ".join(term.split())[:200].strip()
    if not term:
        return {person["name"] for person in PEOPLE}
    digits = digits_only(term)
    search_phone = len(digits) >= 3 or (bool(digits) and len(term) < 3)
    found = set()
    for person in PEOPLE:
        texts = [person["name"].lower(), (person["email"] or "").lower()]
        phone = digits_only(person["phone"])
        if any(term.lower() in text for text in texts) or (search_phone and digits in phone):
            found.add(person["name"])
    return found


search_terms = st.one_of(
    st.text(alphabet="abcdefhiklmnorstAEHLORT '\"%_\\*^():{}-+@.0123456789", max_size=12),
    st.sampled_from(["AND", "OR", "NOT", "NEAR(a b)", "ali", "ALICE", "555", "(415) 555-0", '"']),
    st.lists(
        st.one_of(st.characters(), st.sampled_from(["\x00", "\ud800", "\udfff", '"', " "])),
        max_size=20,
    ).map("".join),
    st.text(min_size=190, max_size=400),
)


@settings(PROPERTY_SETTINGS, max_examples=100)
@given(term=search_terms)
def test_any_search_term_runs_and_finds_what_it_says(worlds, term):
    found = {}
    for dialect in DIALECTS:
        world = worlds[dialect]
        found[dialect] = _names(world, search_condition(term, CompileContext(dialect, NOW)))
    cleaned = term.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")
    if cleaned.isascii():
        assert found["sqlite"] == found["postgresql"] == _search_reference(term)
