"""The condition builder: draft conditions a user edits before a spec is applied or saved."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from cloodot_app.access import Capability
from cloodot_app.filters import FieldCatalog, FilterSpec, operator_for
from cloodot_app.services.workspaces import field_catalog
from cloodot_app.state.access import in_workspace, requires


@dataclasses.dataclass
class FieldChoice:
    """A field the drawer offers, with what its value inputs need."""

    key: str = ""
    label: str = ""
    kind: str = ""
    operators: list[list[str]] = dataclasses.field(default_factory=list)  # [value, label]
    options: list[list[str]] = dataclasses.field(default_factory=list)  # [value, label]


@dataclasses.dataclass
class DraftCondition:
    field: str = ""
    operator: str = ""
    value: str = ""
    value2: str = ""
    chosen: list[str] = dataclasses.field(default_factory=list)
    # Derived from the field and operator (see _input_kind): which inputs to show.
    input_kind: str = "text"
    operators: list[list[str]] = dataclasses.field(default_factory=list)
    options: list[list[str]] = dataclasses.field(default_factory=list)


def _input_kind(kind: str, operator: str) -> str:
    """The input the operator's record asks for (filters.operators)."""
    record = operator_for(kind, operator)
    return record.input_kind if record is not None else "none"


def field_choices(catalog: FieldCatalog) -> list[FieldChoice]:
    choices = []
    for info in catalog.fields.values():
        if info.kind == "label":
            options = [
                [str(i), name] for i, name in sorted(info.label_names.items(), key=lambda x: x[1])
            ]
        else:
            options = [[o, o] for o in info.options]
        choices.append(
            FieldChoice(
                key=info.key,
                label=info.label,
                kind=info.kind,
                operators=[[value, label] for value, label in info.operators.items()],
                options=options,
            )
        )
    return choices


def draft_from_condition(condition: dict[str, Any], choice: FieldChoice) -> DraftCondition:
    draft = _fresh_draft(choice, condition.get("operator") or choice.operators[0][0])
    value = condition.get("value")
    if isinstance(value, list):
        if draft.input_kind.endswith("_range") and len(value) == 2:
            draft.value, draft.value2 = _text(value[0]), _text(value[1])
        else:
            draft.chosen = [str(v) for v in value]
    elif isinstance(value, bool):
        draft.value = "true" if value else "false"
    elif value is not None:
        draft.value = _text(value)
    return draft


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fresh_draft(choice: FieldChoice, operator: str) -> DraftCondition:
    operators = [op for op, _ in choice.operators]
    operator = operator if operator in operators else operators[0]
    return DraftCondition(
        field=choice.key,
        operator=operator,
        value="true" if choice.kind == "boolean" else "",
        input_kind=_input_kind(choice.kind, operator),
        operators=choice.operators,
        options=choice.options,
    )


def spec_from_drafts(match: str, drafts: list[DraftCondition]) -> dict[str, Any]:
    conditions = []
    for draft in drafts:
        kind = draft.input_kind
        if kind == "none":
            value: Any = None
        elif kind.endswith("_range"):
            value = [draft.value, draft.value2]
        elif kind == "options":
            value = list(draft.chosen)
        else:
            value = draft.value
        conditions.append({"field": draft.field, "operator": draft.operator, "value": value})
    return {"match": match, "conditions": conditions}


class ConditionBuilderMixin(rx.State, mixin=True):
    """Draft conditions being built (the filter drawer and the segment editor share it)."""

    match: str = "all"
    drafts: list[DraftCondition] = []
    fields: list[FieldChoice] = []

    @rx.var
    def field_options(self) -> list[list[str]]:
        return [[f.key, f.label] for f in self.fields]

    def _choice(self, key: str) -> FieldChoice:
        return next((f for f in self.fields if f.key == key), self.fields[0])

    async def _catalog(self) -> FieldCatalog:
        return await in_workspace(field_catalog)

    async def _load_drafts(self, spec: dict[str, Any]) -> None:
        """Show `spec` in the builder (conditions on fields that no longer exist are
        dropped from the draft; saving is what would change the stored spec)."""
        catalog = await self._catalog()
        self.fields = field_choices(catalog)
        parsed = FilterSpec.parse(spec or {})
        self.match = parsed.match
        self.drafts = [
            draft_from_condition(c.model_dump(), self._choice(c.field))
            for c in parsed.conditions
            if c.field in catalog.fields
        ] or [_fresh_draft(self.fields[0], "contains")]

    def _draft_spec(self) -> dict[str, Any]:
        return spec_from_drafts(self.match, self.drafts)

    def _changed(self):
        """Hook: what to run after any edit of the drafts (the segment editor previews)."""
        return None

    def _replace(self, index: int, draft: DraftCondition) -> None:
        # Reassign the list so Reflex sees the change to one of its items.
        drafts = list(self.drafts)
        drafts[index] = draft
        self.drafts = drafts

    @requires(Capability.VIEW)
    def set_match(self, value: str):
        self.match = "any" if value == "any" else "all"
        return self._changed()

    @requires(Capability.VIEW)
    def add_condition(self):
        if not self.fields:  # the builder has not been opened (a crafted event)
            return
        self.drafts = [*self.drafts, _fresh_draft(self.fields[0], "contains")]
        return self._changed()

    @requires(Capability.VIEW)
    def remove_condition(self, index: int):
        if 0 <= index < len(self.drafts):
            self.drafts = [d for i, d in enumerate(self.drafts) if i != index]
        return self._changed()

    @requires(Capability.VIEW)
    def set_field(self, index: int, key: str):
        if 0 <= index < len(self.drafts):
            choice = self._choice(key)
            self._replace(index, _fresh_draft(choice, choice.operators[0][0]))
        return self._changed()

    @requires(Capability.VIEW)
    def set_operator(self, index: int, operator: str):
        if 0 <= index < len(self.drafts):
            draft = self.drafts[index]
            fresh = _fresh_draft(self._choice(draft.field), operator)
            if fresh.input_kind == draft.input_kind:
                fresh.value, fresh.value2, fresh.chosen = draft.value, draft.value2, draft.chosen
            self._replace(index, fresh)
        return self._changed()

    @requires(Capability.VIEW)
    def set_value(self, index: int, value: str):
        if 0 <= index < len(self.drafts):
            self._replace(index, dataclasses.replace(self.drafts[index], value=value))
        return self._changed()

    @requires(Capability.VIEW)
    def set_value2(self, index: int, value: str):
        if 0 <= index < len(self.drafts):
            self._replace(index, dataclasses.replace(self.drafts[index], value2=value))
        return self._changed()

    @requires(Capability.VIEW)
    def toggle_option(self, index: int, option: str, checked: bool):
        if 0 <= index < len(self.drafts):
            values = [v for v in self.drafts[index].chosen if v != option]
            if checked:
                values.append(option)
            self._replace(index, dataclasses.replace(self.drafts[index], chosen=values))
        return self._changed()
