"""A spec, checked once, into both the SQL expression and its words (`compile_spec`).

Everything here raises FilterError and nothing else: a spec comes from a URL or a stored
segment, and a bad one must be a message on the page, never a page that fails to load.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from cloodot_app import json_sql
from cloodot_app.errors import FilterError
from cloodot_app.filters.operators import (
    ArrayOperand,
    BooleanOperand,
    DateOperand,
    LabelOperand,
    NotesOperand,
    NumberOperand,
    SelectOperand,
    TextOperand,
    operator_for,
)
from cloodot_app.filters.spec import (
    CompileContext,
    Condition,
    FieldCatalog,
    FieldInfo,
    FilterSpec,
    check_condition_count,
)
from cloodot_app.filters.values import check_size, shown
from cloodot_app.models import Contact, Conversation

logger = logging.getLogger(__name__)

ALL_JOINER = " · "
ANY_JOINER = " or "


@dataclass(frozen=True)
class CompiledFilter:
    """A spec checked against a workspace's fields, as SQL and as words."""

    spec: FilterSpec  # values coerced to their types: what a segment stores
    where: sa.ColumnElement[bool]  # over `contact`; true() when there are no conditions
    chips: tuple[str, ...]  # each condition in words, in order ("Plan is Pro")
    words: str  # the whole spec in words ("Plan is Pro · Label has any of VIP"; "" if none)


def compile_spec(
    spec: FilterSpec | dict[str, Any] | object, catalog: FieldCatalog, ctx: CompileContext
) -> CompiledFilter:
    """Validate `spec` (a FilterSpec, or its stored / URL JSON) against `catalog` and
    compile it once into the WHERE expression, the chips and the words. Raises FilterError
    naming the condition (1-based), and nothing else."""
    checked = validate_spec(FilterSpec.parse(spec), catalog)
    parts, chips = [], []
    for number, condition in enumerate(checked.conditions, start=1):
        with _condition_errors(number, condition):
            info = catalog.get(condition.field)
            operator = info.operator(condition.operator)
            where = operator.where_clause(_operand(info, ctx), condition.value, ctx)
            if info.source == "conversation":
                # A conversation field matches when any of the contact's conversations does.
                where = sa.exists().where(Conversation.contact_id == Contact.id, where)
            parts.append(where)
            chips.append(operator.human_clause(info, condition.value))
    if not parts:
        where = sa.true()
    else:
        where = sa.and_(*parts) if checked.match == "all" else sa.or_(*parts)
    joiner = ALL_JOINER if checked.match == "all" else ANY_JOINER
    return CompiledFilter(spec=checked, where=where, chips=tuple(chips), words=joiner.join(chips))


def validate_spec(spec: FilterSpec, catalog: FieldCatalog) -> FilterSpec:
    """Return the spec with every value coerced to its type, or raise a FilterError
    that names the condition (1-based) and what is wrong with it."""
    spec = FilterSpec.parse(spec)
    check_condition_count(len(spec.conditions))
    checked = []
    for number, condition in enumerate(spec.conditions, start=1):
        with _condition_errors(number, condition):
            info = catalog.get(condition.field)
            operator = info.operator(condition.operator)
            check_size(info, condition.value)
            value = operator.coerce(info, condition.value)
            checked.append(
                Condition(field=condition.field, operator=condition.operator, value=value)
            )
    return FilterSpec(match=spec.match, conditions=checked)


@contextmanager
def _condition_errors(number: int, condition: Condition) -> Iterator[None]:
    """Prefix a FilterError with the condition's number; turn anything else into one (and
    log it: a value the bounds let through but Python or SQLAlchemy refused is a bug)."""
    try:
        yield
    except FilterError as error:
        raise FilterError(f"Condition {number}: {error}") from None
    except Exception as error:
        logger.warning(
            "filter condition %s (%s %s) could not be compiled: %r",
            number,
            shown(condition.field),
            shown(condition.operator),
            error,
        )
        raise FilterError(
            f"Condition {number}: this condition cannot be applied; change its value."
        ) from None


def compile_filter(
    spec: FilterSpec, catalog: FieldCatalog, ctx: CompileContext
) -> sa.ColumnElement[bool]:
    """One boolean expression over `contact` (validated first; raises FilterError)."""
    return compile_spec(spec, catalog, ctx).where


# --------------------------------------------------------------------------- operands


Operand = (
    TextOperand
    | NumberOperand
    | DateOperand
    | SelectOperand
    | ArrayOperand
    | BooleanOperand
    | LabelOperand
    | NotesOperand
)


def _operand(info: FieldInfo, ctx: CompileContext) -> Operand:
    """What the field is in SQL, in the form its kind's operators take."""
    if info.source == "builtin":
        return _BUILTIN_OPERANDS[info.key]()
    table = Contact if info.source == "contact" else Conversation
    column = sa.inspect(table).local_table.c.custom_fields
    key = info.json_key
    if info.kind == "multi_select":
        return ArrayOperand(column, key)
    if info.kind == "number":
        return NumberOperand(json_sql.number(column, key, ctx.dialect))
    text = json_sql.text(column, key, ctx.dialect)
    if info.kind == "date":
        return DateOperand(text, timestamp=False)
    if info.kind == "select":
        return SelectOperand(text)
    if info.field_type == "phone":
        digits = text
        for mark in "+ -()./":
            digits = sa.func.replace(digits, mark, "")
        return TextOperand(text, digits=digits)
    return TextOperand(text)


def _has_conversations(value: bool) -> sa.ColumnElement[bool]:
    # A column kept by triggers on conversation (models.Contact.has_conversations), not an
    # EXISTS probe per contact: "no reply in 7 days" matches most of a workspace.
    return Contact.has_conversations.is_(value)


_BUILTIN_OPERANDS: dict[str, Callable[[], Operand]] = {
    "name": lambda: TextOperand(Contact.name),
    "email": lambda: TextOperand(Contact.email),
    "phone": lambda: TextOperand(Contact.phone, digits=Contact.phone_digits),
    "channel": lambda: SelectOperand(Contact.channel),
    "created_at": lambda: DateOperand(Contact.created_at, timestamp=True),
    "last_interaction_at": lambda: DateOperand(Contact.last_interaction_at, timestamp=True),
    "campaign_opt_in": lambda: BooleanOperand(lambda value: Contact.campaign_opt_in.is_(value)),
    "label": LabelOperand,
    "has_conversations": lambda: BooleanOperand(_has_conversations),
    "notes": NotesOperand,
}


# --------------------------------------------------------------------------- in words


def describe_condition(condition: Condition, catalog: FieldCatalog) -> str:
    """'Label has any of VIP, Lead' — how chips, banners and the Segments list say it."""
    info = catalog.get(condition.field)
    operator = operator_for(info.kind, condition.operator)
    if operator is None:
        return f"{info.label} {shown(condition.operator)} {shown(condition.value)}"
    return operator.human_clause(info, condition.value)


def describe_spec(spec: FilterSpec, catalog: FieldCatalog) -> str:
    joiner = ALL_JOINER if spec.match == "all" else ANY_JOINER
    return joiner.join(describe_condition(c, catalog) for c in spec.conditions)
