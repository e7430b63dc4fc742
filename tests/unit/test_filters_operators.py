"""The operator records and compile_spec: one declaration per operator carries its label,
value shape, input kind, SQL and words, and a spec is compiled once into the SQL, the
chips and the words (no database needed here; the rows each operator selects are in
test_filters.py)."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from cloodot_app.filters import (
    INPUT_KINDS,
    OPERATORS,
    OPERATORS_BY_KIND,
    CompileContext,
    CompiledFilter,
    FilterError,
    FilterSpec,
    Operator,
    compile_filter,
    compile_spec,
    describe_condition,
    describe_spec,
    operator_for,
    validate_spec,
)
from cloodot_app.filters.values import SHAPES
from cloodot_app.state.condition_builder import _input_kind, field_choices
from tests.unit.test_filters import FIELD_KINDS, memory_catalog

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
KINDS = ("text", "number", "date", "select", "multi_select", "boolean", "label", "notes")
ALL_OPERATORS = [
    pytest.param(operator, id=f"{kind}-{key}")
    for kind, operators in OPERATORS.items()
    for key, operator in operators.items()
]
# A value each shape accepts, for the memory catalog's fields (label ids 1-3).
SAMPLE_VALUES = {
    "none": None,
    "text": "a",
    "number": 5,
    "number_range": [1, 9],
    "date": "2026-06-01",
    "date_range": ["2026-06-01", "2026-06-10"],
    "days": 7,
    "option": None,  # the field's first option
    "options": None,  # the field's first option, in a list
    "boolean": True,
    "labels": [1],
}
# A field of each kind in the memory catalog (a conversation one too).
FIELD_OF_KIND = {
    "text": ["name", "phone", "cf.mobile", "conv.order_id"],
    "number": ["cf.score", "conv.amount"],
    "date": ["created_at", "cf.birthday", "conv.due"],
    "select": ["channel", "cf.plan", "conv.topic"],
    "multi_select": ["cf.interests", "conv.tags"],
    "boolean": ["campaign_opt_in", "has_conversations"],
    "label": ["label"],
    "notes": ["notes"],
}


def sample_value(operator: Operator, field: str):
    catalog = memory_catalog()
    options = catalog.fields[field].options
    if operator.shape == "option":
        return options[0]
    if operator.shape == "options":
        return [options[0]]
    return SAMPLE_VALUES[operator.shape]


def ctx(dialect: str = "sqlite") -> CompileContext:
    return CompileContext(dialect=dialect, now=NOW)


# --------------------------------------------------------------------------- the records


def test_every_kind_has_its_operators_and_nothing_else():
    assert set(OPERATORS) == set(KINDS) == set(OPERATORS_BY_KIND) == set(FIELD_KINDS.values())
    for kind, operators in OPERATORS.items():
        assert operators, kind
        assert OPERATORS_BY_KIND[kind] == {key: op.label for key, op in operators.items()}


@pytest.mark.parametrize("operator", ALL_OPERATORS)
def test_every_operator_record_is_complete(operator: Operator):
    assert operator is operator_for(operator.kind, operator.key)
    assert operator.key and set(operator.key) <= set(string.ascii_lowercase + "_")
    assert operator.label.strip() == operator.label and operator.label
    assert operator.shape in SHAPES
    assert operator.input_kind in INPUT_KINDS
    assert callable(operator.where)
    assert "{field}" in operator.words
    # The words use only the placeholders the value shape fills in.
    operator.words.format(field="F", op="O", value="V", low="L", high="H")
    if operator.shape == "none":
        assert "{value}" not in operator.words and operator.input_kind == "none"
    if operator.shape.endswith("_range"):
        assert "{low}" in operator.words and "{high}" in operator.words
        assert operator.input_kind == operator.shape


@pytest.mark.parametrize("operator", ALL_OPERATORS)
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_every_operator_compiles_and_says_itself_on_every_field_of_its_kind(operator, dialect):
    catalog = memory_catalog()
    for field in FIELD_OF_KIND[operator.kind]:
        condition = {"field": field, "operator": operator.key}
        condition["value"] = sample_value(operator, field)
        compiled = compile_spec({"conditions": [condition]}, catalog, ctx(dialect))
        engine_dialect = sqlite.dialect() if dialect == "sqlite" else postgresql.dialect()
        sql = str(compiled.where.compile(dialect=engine_dialect))
        assert "contact" in sql
        (chip,) = compiled.chips
        label = catalog.fields[field].label
        assert chip.startswith(f"{label} ") and chip == compiled.words
        assert "{" not in chip and "None" not in chip


def test_the_words_of_each_shape():
    catalog = memory_catalog()
    cases = [
        ({"field": "cf.score", "operator": "gte", "value": "120"}, "Score ≥ 120"),
        (
            {"field": "cf.score", "operator": "between", "value": [1, 2.5]},
            "Score between 1 and 2.5",
        ),
        ({"field": "created_at", "operator": "within_last_days", "value": "7"}, None),
        ({"field": "cf.birthday", "operator": "more_than_days_ago", "value": 30}, None),
        ({"field": "label", "operator": "has_none_of", "value": [2, 1]}, None),
        ({"field": "campaign_opt_in", "operator": "is", "value": "no"}, None),
        ({"field": "cf.interests", "operator": "is_empty", "value": "ignored"}, None),
        ({"field": "conv.topic", "operator": "is_any_of", "value": ["Billing", "Returns"]}, None),
    ]
    expected = [
        "Score ≥ 120",
        "Score between 1 and 2.5",
        "Created at within the last 7 days",
        "Birthday more than 30 days ago",
        "Label has none of Lead, VIP",
        "Campaign opt-in is no",
        "Interests is empty",
        "Topic (conversation) is any of Billing, Returns",
    ]
    spec = {"match": "any", "conditions": [condition for condition, _ in cases]}
    compiled = compile_spec(spec, catalog, ctx())
    assert list(compiled.chips) == expected
    assert compiled.words == " or ".join(expected)


# --------------------------------------------------------------------------- the builder


@pytest.mark.parametrize("operator", ALL_OPERATORS)
def test_the_condition_builder_takes_its_input_from_the_record(operator: Operator):
    assert _input_kind(operator.kind, operator.key) == operator.input_kind


def test_the_builder_offers_each_fields_operators_in_record_order():
    catalog = memory_catalog()
    for choice in field_choices(catalog):
        expected = [[op.key, op.label] for op in OPERATORS[choice.kind].values()]
        assert choice.operators == expected


# --------------------------------------------------------------------------- compile_spec


def test_compile_spec_validates_once_into_sql_chips_and_words():
    catalog = memory_catalog()
    stored = {
        "match": "all",
        "conditions": [
            {"field": "label", "operator": "has_any_of", "value": ["1", 3]},
            {"field": "cf.score", "operator": "between", "value": ["2", " 3 "]},
            {"field": "name", "operator": "contains", "value": "  al "},
        ],
    }
    compiled = compile_spec(stored, catalog, ctx())
    assert isinstance(compiled, CompiledFilter)
    assert [c.value for c in compiled.spec.conditions] == [[1, 3], [2.0, 3.0], "al"]
    assert compiled.chips == (
        "Label has any of VIP, Churned",
        "Score between 2 and 3",
        "Name contains al",
    )
    assert compiled.words == " · ".join(compiled.chips)
    # The older faces agree with it.
    spec = FilterSpec.parse(stored)
    assert validate_spec(spec, catalog) == compiled.spec
    assert describe_spec(compiled.spec, catalog) == compiled.words
    assert [describe_condition(c, catalog) for c in compiled.spec.conditions] == list(
        compiled.chips
    )
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        old_face = compile_filter(spec, catalog, ctx()).compile(dialect=dialect)
        new_face = compiled.where.compile(dialect=dialect)
        assert str(old_face) == str(new_face) and old_face.params == new_face.params


@pytest.mark.parametrize("empty", [None, {}, {"match": "any"}, FilterSpec()])
def test_an_empty_spec_matches_everything_and_says_nothing(empty):
    compiled = compile_spec(empty, memory_catalog(), ctx())
    assert compiled.chips == () and compiled.words == ""
    assert compiled.where.compare(sa.true())


def test_compile_spec_names_the_broken_condition():
    spec = {"conditions": [{"field": "name", "operator": "contains", "value": "a"}] * 2}
    spec["conditions"].append({"field": "cf.gone", "operator": "is_empty"})
    with pytest.raises(FilterError, match="^Condition 3: The field “gone” no longer exists.$"):
        compile_spec(spec, memory_catalog(), ctx())


def test_describe_condition_of_an_operator_the_kind_does_not_have():
    """The Segments list can still say a rule that no longer validates."""
    condition = FilterSpec.parse(
        {"conditions": [{"field": "name", "operator": "gt", "value": 3}]}
    ).conditions[0]
    assert describe_condition(condition, memory_catalog()) == "Name gt 3"
