"""What a filter is made of: the spec (pydantic), the fields a workspace may filter on, and
the context a spec is compiled in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session

from cloodot_app.errors import FilterError
from cloodot_app.fieldtypes import FIELD_TYPES
from cloodot_app.filters.limits import MAX_CONDITIONS, MAX_DEPTH
from cloodot_app.filters.operators import OPERATORS, Operator
from cloodot_app.filters.values import shown
from cloodot_app.models import Channel, CustomFieldDefinition, FieldEntity, Label


class Condition(BaseModel):
    field: str
    operator: str
    value: Any = None


class FilterSpec(BaseModel):
    match: Literal["all", "any"] = "all"
    conditions: list[Condition] = Field(default_factory=list)

    @classmethod
    def parse(cls, data: Any) -> FilterSpec:
        """From stored JSON or a request; an unreadable spec is a FilterError."""
        if isinstance(data, FilterSpec):
            return data
        conditions = data.get("conditions") if isinstance(data, dict) else None
        if isinstance(conditions, list):
            check_condition_count(len(conditions))
        if _nested_deeper_than(data, MAX_DEPTH):
            raise FilterError("This filter cannot be read: it is nested too deeply.")
        try:
            return cls.model_validate(data or {})
        except ValidationError as error:
            raise FilterError(f"This filter cannot be read: {error.errors()[0]['msg']}") from None


def check_condition_count(count: int) -> None:
    if count > MAX_CONDITIONS:
        raise FilterError(
            f"A filter can have at most {MAX_CONDITIONS} conditions (this one has {count})."
        )


def _nested_deeper_than(data: Any, depth: int) -> bool:
    """Is there a list or dict more than `depth` levels down? (Never recurses deeper than
    `depth`, so a 5,000-deep value is refused without a RecursionError.)"""
    if not isinstance(data, dict | list | tuple):
        return False
    if depth <= 0:
        return True
    items = data.values() if isinstance(data, dict) else data
    return any(_nested_deeper_than(item, depth - 1) for item in items)


@dataclass(frozen=True)
class FieldInfo:
    """One field a condition can name."""

    key: str
    label: str
    kind: str
    source: Literal["builtin", "contact", "conversation"] = "builtin"
    options: tuple[str, ...] = ()
    # For label fields: label id -> name.
    label_names: dict[int, str] = field(default_factory=dict, hash=False, compare=False)
    json_key: str = ""
    field_type: str = ""

    @property
    def operators(self) -> dict[str, str]:
        """Operator key -> the label the UI shows, in the order the UI offers them."""
        return {key: operator.label for key, operator in OPERATORS[self.kind].items()}

    def operator(self, key: str) -> Operator:
        """The operator record this field's kind has under `key`, or a FilterError that
        lists the ones it has."""
        operators = OPERATORS[self.kind]
        if key not in operators:
            allowed = ", ".join(f"“{operator.label}”" for operator in operators.values())
            raise FilterError(f"“{self.label}” cannot use “{shown(key)}”; choose one of {allowed}.")
        return operators[key]


CONTACT_FIELD_PREFIX = "cf."
CONVERSATION_FIELD_PREFIX = "conv."

_BUILTINS: tuple[FieldInfo, ...] = (
    FieldInfo("name", "Name", "text"),
    FieldInfo("email", "Email", "text"),
    FieldInfo("phone", "Phone", "text"),
    FieldInfo("channel", "Channel", "select", options=tuple(c.value for c in Channel)),
    FieldInfo("created_at", "Created at", "date"),
    FieldInfo("last_interaction_at", "Last interaction", "date"),
    FieldInfo("campaign_opt_in", "Campaign opt-in", "boolean"),
    FieldInfo("label", "Label", "label"),
    FieldInfo("has_conversations", "Has conversations", "boolean"),
    FieldInfo("notes", "Notes", "notes"),
)


@dataclass
class FieldCatalog:
    """Every field a workspace's filters may name, keyed as conditions name them."""

    fields: dict[str, FieldInfo]

    @classmethod
    def build(cls, definitions: list[CustomFieldDefinition], labels: list[Label]) -> FieldCatalog:
        label_names = {label.id: label.name for label in labels if label.id is not None}
        fields: dict[str, FieldInfo] = {}
        for builtin in _BUILTINS:
            if builtin.kind == "label":
                builtin = FieldInfo(builtin.key, builtin.label, "label", label_names=label_names)
            fields[builtin.key] = builtin
        for definition in sorted(definitions, key=lambda d: (d.entity, d.position, d.id or 0)):
            contact_field = definition.entity == FieldEntity.CONTACT
            prefix = CONTACT_FIELD_PREFIX if contact_field else CONVERSATION_FIELD_PREFIX
            kind = FIELD_TYPES[definition.type].filter_kind
            fields[prefix + definition.key] = FieldInfo(
                key=prefix + definition.key,
                label=definition.label if contact_field else f"{definition.label} (conversation)",
                kind=kind,
                source="contact" if contact_field else "conversation",
                options=tuple(definition.options or ()),
                json_key=definition.key,
                field_type=definition.type,
            )
        return cls(fields)

    def get(self, key: str) -> FieldInfo:
        try:
            return self.fields[key]
        except (KeyError, TypeError):
            name = key.split(".", 1)[-1] if isinstance(key, str) else key
            raise FilterError(f"The field “{shown(name)}” no longer exists.") from None


@dataclass(frozen=True)
class CompileContext:
    dialect: str  # "sqlite" | "postgresql"
    now: datetime
    # A page query of a view matching very many contacts: on SQLite, `contact.id IN (…)`
    # is written `contact.id + 0 IN (…)`, which the planner cannot turn into a lookup of
    # every match by rowid (then a sort of all of them); it walks the sort index instead,
    # probing the list, and stops at the page. Same rows, same order.
    walk_sort_index: bool = False

    def walking(self) -> bool:
        """Is this the page query of a view with very many matches, on SQLite?"""
        return self.walk_sort_index and self.dialect == "sqlite"

    def contact_id(self) -> sa.ColumnElement[int]:
        """`contact.id` as the left side of an `IN (subquery)` (see walk_sort_index)."""
        from cloodot_app.models import Contact

        column: sa.ColumnElement[int] = sa.inspect(Contact).c.id
        if self.walking():
            return column + 0
        return column

    @classmethod
    def for_session(cls, session: Session, now: datetime | None = None) -> CompileContext:
        return cls(dialect=session.get_bind().dialect.name, now=now or datetime.now(UTC))
