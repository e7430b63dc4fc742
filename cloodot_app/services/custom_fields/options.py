"""Renaming a field and changing a select's options, with what that does to stored values
(a removed option in use is refused until confirmed; a renamed one moves its values)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import json_sql
from cloodot_app.errors import FieldDefinitionError
from cloodot_app.models import CustomFieldDefinition
from cloodot_app.services.custom_fields.checks import (
    clean_label,
    clean_options,
    nouns,
    owned_field,
)
from cloodot_app.services.custom_fields.stored_values import (
    TABLES,
    chunks,
    dialect_of,
    row_ids,
    write_values,
)
from cloodot_app.services.workspaces import bump_data_version


def update_field(
    session: Session,
    workspace_id: int,
    field_id: int,
    label: str,
    options: list[str] | None = None,
    drop_values: bool = False,
    renamed_options: dict[str, str] | None = None,
) -> CustomFieldDefinition:
    """Rename the field and, for a select / multi-select, replace its options (None keeps
    them). The key never changes.

    Removing an option that stored values use is refused (FieldDefinitionError saying how
    many) unless `drop_values`, which clears those values (select) or takes the option out
    of the lists (multi-select). `renamed_options` ({old: new}, `new` among `options`) moves
    the stored values to the new name instead of clearing them.
    """
    definition = owned_field(session, workspace_id, field_id)
    new_label = clean_label(session, workspace_id, definition.entity, label, definition.id)
    old_options = list(definition.options or [])
    new_options = old_options if options is None else clean_options(definition.type, options)
    renames = _clean_renames(renamed_options, old_options, new_options)
    removed = [o for o in old_options if o not in new_options and o not in renames]
    if removed or renames:
        noun = nouns(definition.entity)
        used = _option_use(session, workspace_id, definition, removed)
        if used and not drop_values:
            rows = _rows_using(session, workspace_id, definition, list(used))
            names = _or_list(list(used))
            what = "it" if len(used) == 1 else "those options"
            whom = f"that {noun[0]}" if rows == 1 else "them"
            raise FieldDefinitionError(
                f"{rows} {noun[rows != 1]} {'has' if rows == 1 else 'have'} {names}, which "
                f"you removed. Confirm to clear {what} from {whom}."
            )
        gone, renamed = set(removed), renames

        def transform(value: Any) -> Any:
            if isinstance(value, list):
                kept: list[Any] = []
                for item in value:
                    if isinstance(item, str) and item in gone:
                        continue
                    item = renamed.get(item, item) if isinstance(item, str) else item
                    if item not in kept:
                        kept.append(item)
                return kept or None
            if isinstance(value, str):
                if value in gone:
                    return None
                return renamed.get(value, value)
            return value

        touched = [*used, *renames]
        if touched:
            where = _uses_any(session, definition, touched)
            ids = row_ids(session, workspace_id, definition, where)
            for chunk in chunks(session, workspace_id, definition, ids):
                patches = [(row_id, transform(value)) for row_id, value in chunk]
                write_values(session, workspace_id, definition, chunk, patches)
    definition.label = new_label
    definition.options = list(new_options)
    session.add(definition)
    session.flush()
    bump_data_version(session, workspace_id)
    return definition


def _clean_renames(
    renamed: dict[str, str] | None, old_options: list[str], new_options: list[str]
) -> dict[str, str]:
    result = {}
    for old, new in (renamed or {}).items():
        if old not in old_options:
            raise FieldDefinitionError(f"“{old}” is not one of the field's options.")
        new = new.strip() if isinstance(new, str) else new
        if new not in new_options:
            raise FieldDefinitionError(f"“{new}” is not one of the new options.")
        if old != new:
            result[old] = new
    return result


def _option_use(
    session: Session, workspace_id: int, definition: CustomFieldDefinition, options: list[str]
) -> dict[str, int]:
    """Option -> how many rows hold it (only options some row holds), in one scan."""
    if not options:
        return {}
    table = TABLES[definition.entity]
    columns = [
        sa.func.coalesce(sa.func.sum(sa.case((_uses(session, definition, o), 1), else_=0)), 0)
        for o in options
    ]
    row = session.execute(
        sa.select(*columns)
        .select_from(table)
        .where(
            table.c.workspace_id == workspace_id,
            json_sql.key_present(table.c.custom_fields, definition.key, dialect_of(session)),
        )
    ).one()
    return {option: int(n) for option, n in zip(options, row, strict=True) if n}


def _rows_using(
    session: Session, workspace_id: int, definition: CustomFieldDefinition, options: list[str]
) -> int:
    table = TABLES[definition.entity]
    return session.execute(
        sa.select(sa.func.count())
        .select_from(table)
        .where(table.c.workspace_id == workspace_id, _uses_any(session, definition, options))
    ).scalar_one()


def _uses_any(
    session: Session, definition: CustomFieldDefinition, options: list[str]
) -> sa.ColumnElement[bool]:
    return sa.or_(*(_uses(session, definition, option) for option in options))


def _uses(
    session: Session, definition: CustomFieldDefinition, option: str
) -> sa.ColumnElement[bool]:
    """Does the row's value hold `option` (equal to it, or a list containing it)? The same
    test for select and multi-select, on both databases."""
    column = TABLES[definition.entity].c.custom_fields
    holds: sa.ColumnElement[bool] = json_sql.holds(
        column, definition.key, option, dialect_of(session)
    )
    return holds


def _or_list(options: list[str]) -> str:
    quoted = [f"“{o}”" for o in options]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
