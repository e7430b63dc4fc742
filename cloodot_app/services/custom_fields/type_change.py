"""Changing a field's type: every stored value converted to the new type's form, or the
change refused (saying how many and which) until the caller confirms clearing them."""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable
from typing import Any, TypedDict

from sqlmodel import Session

from cloodot_app.errors import FieldDefinitionError, FieldValueError
from cloodot_app.fieldtypes import FIELD_TYPES
from cloodot_app.models import CustomFieldDefinition
from cloodot_app.services.custom_fields.checks import clean_options, clean_type, owned_field
from cloodot_app.services.custom_fields.indexes import sync_field_indexes
from cloodot_app.services.custom_fields.stored_values import chunks, row_ids, write_values
from cloodot_app.services.workspaces import bump_data_version

# progress(done, total): rows handled so far, of how many.
Progress = Callable[[int, int], None]
# How many invalid values a type-change report quotes.
EXAMPLES = 5


class TypeChangeReport(TypedDict):
    """What a type change does (or did) to the non-empty stored values."""

    convertible: int
    invalid: int
    examples: list[str]  # up to EXAMPLES of the values that cannot be converted


def preview_type_change(
    session: Session,
    workspace_id: int,
    field_id: int,
    new_type: str,
    options: list[str] | None = None,
    progress: Progress | None = None,
) -> TypeChangeReport:
    """What changing the type would do, without doing it: {"convertible", "invalid",
    "examples"} over the non-empty stored values. `options` (for select / multi-select)
    defaults to the field's current ones. `progress(done, total)` is called after each
    chunk of rows."""
    definition = owned_field(session, workspace_id, field_id)
    _, _, convert = _type_change(definition, new_type, options)
    ids = row_ids(session, workspace_id, definition)
    tick = _ticker(progress, len(ids))
    return _dry_run(session, workspace_id, definition, ids, convert, tick).as_dict()


def change_field_type(
    session: Session,
    workspace_id: int,
    field_id: int,
    new_type: str,
    options: list[str] | None = None,
    drop_invalid: bool = False,
    progress: Progress | None = None,
) -> TypeChangeReport:
    """Convert every stored value to the new type's stored form and change the type.

    If any value cannot be converted and `drop_invalid` is False, raises
    FieldDefinitionError and changes nothing; with `drop_invalid` the invalid values are
    cleared. Returns the same report as preview_type_change (as applied).

    `progress(done, total)` is called after each chunk: without `drop_invalid` every row
    is read twice (a check, then the conversion), and `total` counts both passes.
    """
    definition = owned_field(session, workspace_id, field_id)
    new_type, new_options, convert = _type_change(definition, new_type, options)
    ids = row_ids(session, workspace_id, definition)
    tick = _ticker(progress, len(ids) * (1 if drop_invalid else 2))
    if not drop_invalid:
        # A read-only pass first, so that a refusal leaves every value as it was.
        report = _dry_run(session, workspace_id, definition, ids, convert, tick)
        if report.invalid:
            raise FieldDefinitionError(_invalid_message(report, new_type))
    report = _Report()
    for chunk in chunks(session, workspace_id, definition, ids):
        patches = [(row_id, report.convert(convert, value)) for row_id, value in chunk]
        if report.invalid and not drop_invalid:
            # Only if a value was written between the two passes: the caller's transaction
            # (db.session_scope) rolls back what this pass has written so far.
            raise FieldDefinitionError(_invalid_message(report, new_type))
        write_values(session, workspace_id, definition, chunk, patches)
        tick(len(chunk))
    definition.type = new_type
    definition.options = new_options
    session.add(definition)
    session.flush()
    sync_field_indexes(session)
    bump_data_version(session, workspace_id)
    return report.as_dict()


def _dry_run(
    session: Session,
    workspace_id: int,
    definition: CustomFieldDefinition,
    ids: array[int],
    convert: Callable[[Any], Any],
    tick: Callable[[int], None],
) -> _Report:
    report = _Report()
    for chunk in chunks(session, workspace_id, definition, ids):
        for _, value in chunk:
            report.convert(convert, value)
        tick(len(chunk))
    return report


def _ticker(progress: Progress | None, total: int) -> Callable[[int], None]:
    """Counts rows done and tells `progress(done, total)`; (0, total) straight away."""
    done = 0

    def tick(rows: int) -> None:
        nonlocal done
        done += rows
        if progress is not None:
            progress(done, total)

    tick(0)
    return tick


class _Report:
    def __init__(self) -> None:
        self.convertible = 0
        self.invalid = 0
        self.examples: list[str] = []

    def convert(self, convert: Callable[[Any], Any], value: Any) -> Any:
        """The value in the new type's stored form (None: cleared), counted."""
        if _blank(value):
            return None
        try:
            converted = convert(value)
        except FieldValueError:
            self.invalid += 1
            text = _as_text(value)
            if len(self.examples) < EXAMPLES and text not in self.examples:
                self.examples.append(text)
            return None
        if converted is not None:
            self.convertible += 1
        return converted

    def as_dict(self) -> TypeChangeReport:
        return TypeChangeReport(
            convertible=self.convertible, invalid=self.invalid, examples=list(self.examples)
        )


def _invalid_message(report: _Report, new_type: str) -> str:
    n = report.invalid
    return (
        f"{n} value{'s' if n != 1 else ''} cannot become {FIELD_TYPES[new_type].label} "
        f"(e.g. “{report.examples[0]}”). Confirm to clear {'them' if n != 1 else 'it'}."
    )


def _type_change(
    definition: CustomFieldDefinition, new_type: str, options: list[str] | None
) -> tuple[str, list[str], Callable[[Any], Any]]:
    new_type = clean_type(new_type)
    target = FIELD_TYPES[new_type]
    if options is None and target.has_options and FIELD_TYPES[definition.type].has_options:
        options = list(definition.options or [])
    new_options = clean_options(new_type, options)
    old_type = definition.type

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            raise FieldValueError("not a single value")
        if new_type == "multi_select":
            if isinstance(value, list) or (old_type == "text" and isinstance(value, str)):
                # A list is checked as is; free text as "a, b" (like an imported cell).
                return target.validate(value, new_options)
            # One select value (or number, date, ...) becomes a list of one.
            return target.validate([_as_text(value)], new_options)
        if isinstance(value, list):
            items = [item for item in value if not _blank(item)]
            if not items:
                return None
            if new_type == "text":
                return target.validate(", ".join(_as_text(item) for item in items), new_options)
            if len(items) > 1:
                raise FieldValueError("more than one value")
            value = items[0]
        return target.validate(value, new_options)

    return new_type, new_options, convert


def _blank(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_as_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
