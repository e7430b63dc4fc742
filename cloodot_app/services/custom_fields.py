"""Custom field definitions: the settings list, create / rename / options, type changes,
ordering and deletion — and what each does to the values already stored.

Values live in `contact.custom_fields` / `conversation.custom_fields` (JSON) under the
definition's `key`. A key is made once, from the first label, and never changes: segments
("cf.<key>" / "conv.<key>") and stored values refer to it. Nothing here corrupts a stored
value silently: a change that would lose values is refused with a message saying how many,
and only goes ahead when the caller confirms (drop_values / drop_invalid).

Values are rewritten in chunks of CHUNK_SIZE rows (the matching ids read first, then each
chunk by primary key; SQLAlchemy Core), one key at a time (`cloodot_app.json_sql`: SQLite
json_set / json_remove, PostgreSQL jsonb `||` / `-`), so other keys edited meanwhile are
left alone and a million contacts are never loaded at once. Rows are changed with Core
statements: Contact / Conversation objects already loaded in the same session are not
refreshed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from cloodot_app import json_sql
from cloodot_app.errors import FieldDefinitionError, NotFound
from cloodot_app.fieldtypes import FIELD_TYPES, FieldValueError
from cloodot_app.filters import (
    CONTACT_FIELD_PREFIX,
    CONVERSATION_FIELD_PREFIX,
    FilterError,
    FilterSpec,
)
from cloodot_app.models import Contact, Conversation, CustomFieldDefinition, FieldEntity, Segment
from cloodot_app.services.workspaces import bump_data_version

ENTITIES: tuple[str, ...] = tuple(entity.value for entity in FieldEntity)
FIELD_LABEL_MAX_LENGTH = 120
OPTION_MAX_LENGTH = 80
MAX_OPTIONS = 100
KEY_MAX_LENGTH = 64
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CHUNK_SIZE = 2000
# progress(done, total): rows handled so far, of how many.
Progress = Callable[[int, int], None]
# How many invalid values a type-change report quotes.
EXAMPLES = 5

_TABLES: dict[str, sa.Table] = {
    FieldEntity.CONTACT.value: Contact.__table__,  # type: ignore[dict-item]
    FieldEntity.CONVERSATION.value: Conversation.__table__,  # type: ignore[dict-item]
}
_PREFIXES = {
    FieldEntity.CONTACT.value: CONTACT_FIELD_PREFIX,
    FieldEntity.CONVERSATION.value: CONVERSATION_FIELD_PREFIX,
}


# --------------------------------------------------------------------------- reading


@dataclass
class FieldDefinitionSummary:
    """A field definition as the table's columns and the details drawer need it."""

    id: int = 0
    key: str = ""  # the JSON key values are stored under
    label: str = ""
    type: str = "text"  # a fieldtypes.FIELD_TYPES name
    type_label: str = ""
    options: list[str] = field(default_factory=list)
    position: int = 0
    entity: str = FieldEntity.CONTACT.value


@dataclass
class FieldUsage:
    """What uses a field: what its delete confirmation tells."""

    value_count: int = 0  # rows holding a value ("values" would shadow a Var's .values())
    segments: list[str] = field(default_factory=list)  # segment names, in list order


@dataclass
class FieldSummary(FieldDefinitionSummary, FieldUsage):
    """A row of the Custom fields settings page."""


def field_definitions(
    session: Session, workspace_id: int, entity: str | None = None
) -> list[FieldDefinitionSummary]:
    """Every field (of one entity, or contact fields then conversation fields) in position
    order. One indexed query: cheap enough for every page load."""
    entities = [_clean_entity(entity)] if entity else list(ENTITIES)
    return [
        _summary(FieldDefinitionSummary, d)
        for name in entities
        for d in _definitions(session, workspace_id, name)
    ]


def list_fields(session: Session, workspace_id: int, entity: str) -> list[FieldSummary]:
    """The entity's fields in position order, each with how many rows have a value and
    which segments name it (one scan of the entity's rows for all the counts)."""
    entity = _clean_entity(entity)
    definitions = _definitions(session, workspace_id, entity)
    counts = _value_counts(session, workspace_id, entity, [d.key for d in definitions])
    segments = _segments_by_field(session, workspace_id)
    return [
        _summary(
            FieldSummary,
            d,
            value_count=counts.get(d.key, 0),
            segments=segments.get(_PREFIXES[entity] + d.key, []),
        )
        for d in definitions
    ]


def field_usage(session: Session, workspace_id: int, field_id: int) -> FieldUsage:
    """What the delete confirmation tells."""
    definition = _owned_field(session, workspace_id, field_id)
    counts = _value_counts(session, workspace_id, definition.entity, [definition.key])
    segments = _segments_by_field(session, workspace_id)
    return FieldUsage(
        value_count=counts.get(definition.key, 0),
        segments=segments.get(_PREFIXES[definition.entity] + definition.key, []),
    )


def _summary(cls, definition: CustomFieldDefinition, **extra):
    return cls(
        id=definition.id or 0,
        key=definition.key,
        label=definition.label,
        type=definition.type,
        type_label=FIELD_TYPES[definition.type].label if definition.type in FIELD_TYPES else "",
        options=list(definition.options or []),
        position=definition.position,
        entity=definition.entity,
        **extra,
    )


def _definitions(session: Session, workspace_id: int, entity: str) -> list[CustomFieldDefinition]:
    return list(
        session.execute(
            sa.select(CustomFieldDefinition)
            .where(
                CustomFieldDefinition.workspace_id == workspace_id,
                CustomFieldDefinition.entity == entity,
            )
            .order_by(CustomFieldDefinition.position, CustomFieldDefinition.id)
        ).scalars()
    )


def _value_counts(
    session: Session, workspace_id: int, entity: str, keys: list[str]
) -> dict[str, int]:
    """Key -> how many of the workspace's rows hold a non-empty value: one scan for all."""
    if not keys:
        return {}
    table = _TABLES[entity]
    dialect = _dialect(session)
    columns = [
        sa.func.coalesce(sa.func.sum(json_sql.non_empty(table.c.custom_fields, key, dialect)), 0)
        for key in keys
    ]
    row = session.execute(
        sa.select(*columns).select_from(table).where(table.c.workspace_id == workspace_id)
    ).one()
    return {key: int(count) for key, count in zip(keys, row, strict=True)}


def _segments_by_field(session: Session, workspace_id: int) -> dict[str, list[str]]:
    """Condition field ("cf.plan", "conv.topic", ...) -> names of the segments (in list
    order) naming it. A spec that cannot be read names nothing."""
    result: dict[str, list[str]] = {}
    segments = session.execute(
        sa.select(Segment.name, Segment.filter_spec)
        .where(Segment.workspace_id == workspace_id)
        .order_by(Segment.position, Segment.id)
    )
    for name, filter_spec in segments:
        try:
            spec = FilterSpec.parse(filter_spec)
        except FilterError:
            continue
        for field_key in dict.fromkeys(condition.field for condition in spec.conditions):
            result.setdefault(field_key, []).append(name)
    return result


# --------------------------------------------------------------------------- creating


def create_field(
    session: Session,
    workspace_id: int,
    entity: str,
    label: str,
    type_: str,
    options: list[str] | None = None,
) -> CustomFieldDefinition:
    """Validate and store a new field, last in its entity's order."""
    entity = _clean_entity(entity)
    label = _clean_label(session, workspace_id, entity, label, None)
    type_name = _clean_type(type_)
    cleaned_options = _clean_options(type_name, options)
    taken = set(
        session.execute(
            sa.select(CustomFieldDefinition.key).where(
                CustomFieldDefinition.workspace_id == workspace_id,
                CustomFieldDefinition.entity == entity,
            )
        ).scalars()
    )
    position = session.execute(
        sa.select(sa.func.coalesce(sa.func.max(CustomFieldDefinition.position), -1) + 1).where(
            CustomFieldDefinition.workspace_id == workspace_id,
            CustomFieldDefinition.entity == entity,
        )
    ).scalar_one()
    definition = CustomFieldDefinition(
        workspace_id=workspace_id,
        entity=entity,
        key=unique_key(slugify(label), taken),
        label=label,
        type=type_name,
        options=cleaned_options,
        position=position,
    )
    session.add(definition)
    session.flush()
    bump_data_version(session, workspace_id)
    return definition


def save_field(
    session: Session,
    workspace_id: int,
    field_id: int,
    label: str,
    type_: str,
    options: list[str],
    confirmed: bool = False,
) -> CustomFieldDefinition:
    """What the field editor's Save does for an existing field: a type change, then the
    rename and options, in the caller's one transaction (a refused rename undoes the type
    change). `confirmed` is the user's consent to clear values that would not survive."""
    definition = _owned_field(session, workspace_id, field_id)
    if definition.type != type_:
        change_field_type(
            session, workspace_id, field_id, type_, options or None, drop_invalid=confirmed
        )
    has_options = type_ in FIELD_TYPES and FIELD_TYPES[type_].has_options
    return update_field(
        session,
        workspace_id,
        field_id,
        label,
        options if has_options else None,
        drop_values=confirmed,
    )


def slugify(label: str) -> str:
    """ "Lifetime value (€)" -> "lifetime_value": lowercase ASCII letters, digits and
    underscores, starting with a letter, at most 64 characters."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if not slug[:1].isalpha():
        slug = f"field_{slug}".rstrip("_")
    return slug[:KEY_MAX_LENGTH].rstrip("_")


def unique_key(base: str, taken: set[str]) -> str:
    """`base`, or `base_2`, `base_3`, ... (shortened to fit) if that is taken."""
    key, number = base, 1
    while key in taken:
        number += 1
        suffix = f"_{number}"
        key = base[: KEY_MAX_LENGTH - len(suffix)].rstrip("_") + suffix
    assert KEY_PATTERN.match(key), key
    return key


# --------------------------------------------------------------------------- renaming / options


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
    definition = _owned_field(session, workspace_id, field_id)
    new_label = _clean_label(session, workspace_id, definition.entity, label, definition.id)
    old_options = list(definition.options or [])
    new_options = old_options if options is None else _clean_options(definition.type, options)
    renames = _clean_renames(renamed_options, old_options, new_options)
    removed = [o for o in old_options if o not in new_options and o not in renames]
    if removed or renames:
        noun = _nouns(definition.entity)
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
            ids = _row_ids(session, workspace_id, definition, where)
            for chunk in _chunks(session, workspace_id, definition, ids):
                patches = [(row_id, transform(value)) for row_id, value in chunk]
                _write(session, workspace_id, definition, chunk, patches)
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
    table = _TABLES[definition.entity]
    columns = [
        sa.func.coalesce(sa.func.sum(sa.case((_uses(session, definition, o), 1), else_=0)), 0)
        for o in options
    ]
    row = session.execute(
        sa.select(*columns)
        .select_from(table)
        .where(
            table.c.workspace_id == workspace_id,
            json_sql.key_present(table.c.custom_fields, definition.key, _dialect(session)),
        )
    ).one()
    return {option: int(n) for option, n in zip(options, row, strict=True) if n}


def _rows_using(
    session: Session, workspace_id: int, definition: CustomFieldDefinition, options: list[str]
) -> int:
    table = _TABLES[definition.entity]
    return session.execute(
        sa.select(sa.func.count())
        .select_from(table)
        .where(table.c.workspace_id == workspace_id, _uses_any(session, definition, options))
    ).scalar_one()


def _uses_any(session: Session, definition: CustomFieldDefinition, options: list[str]):
    return sa.or_(*(_uses(session, definition, option) for option in options))


def _uses(session: Session, definition: CustomFieldDefinition, option: str):
    """Does the row's value hold `option` (equal to it, or a list containing it)? The same
    test for select and multi-select, on both databases."""
    column = _TABLES[definition.entity].c.custom_fields
    return json_sql.holds(column, definition.key, option, _dialect(session))


def _or_list(options: list[str]) -> str:
    quoted = [f"“{o}”" for o in options]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


# --------------------------------------------------------------------------- changing type


def preview_type_change(
    session: Session,
    workspace_id: int,
    field_id: int,
    new_type: str,
    options: list[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """What changing the type would do, without doing it: {"convertible", "invalid",
    "examples"} over the non-empty stored values. `options` (for select / multi-select)
    defaults to the field's current ones. `progress(done, total)` is called after each
    chunk of rows."""
    definition = _owned_field(session, workspace_id, field_id)
    _, _, convert = _type_change(definition, new_type, options)
    ids = _row_ids(session, workspace_id, definition)
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
) -> dict[str, Any]:
    """Convert every stored value to the new type's stored form and change the type.

    If any value cannot be converted and `drop_invalid` is False, raises
    FieldDefinitionError and changes nothing; with `drop_invalid` the invalid values are
    cleared. Returns the same report as preview_type_change (as applied).

    `progress(done, total)` is called after each chunk: without `drop_invalid` every row
    is read twice (a check, then the conversion), and `total` counts both passes.
    """
    definition = _owned_field(session, workspace_id, field_id)
    new_type, new_options, convert = _type_change(definition, new_type, options)
    ids = _row_ids(session, workspace_id, definition)
    tick = _ticker(progress, len(ids) * (1 if drop_invalid else 2))
    if not drop_invalid:
        # A read-only pass first, so that a refusal leaves every value as it was.
        report = _dry_run(session, workspace_id, definition, ids, convert, tick)
        if report.invalid:
            raise FieldDefinitionError(_invalid_message(report, new_type))
    report = _Report()
    for chunk in _chunks(session, workspace_id, definition, ids):
        patches = [(row_id, report.convert(convert, value)) for row_id, value in chunk]
        if report.invalid and not drop_invalid:
            # Only if a value was written between the two passes: the caller's transaction
            # (db.session_scope) rolls back what this pass has written so far.
            raise FieldDefinitionError(_invalid_message(report, new_type))
        _write(session, workspace_id, definition, chunk, patches)
        tick(len(chunk))
    definition.type = new_type
    definition.options = new_options
    session.add(definition)
    session.flush()
    bump_data_version(session, workspace_id)
    return report.as_dict()


def _dry_run(
    session: Session,
    workspace_id: int,
    definition: CustomFieldDefinition,
    ids: array,
    convert: Callable[[Any], Any],
    tick: Callable[[int], None],
) -> _Report:
    report = _Report()
    for chunk in _chunks(session, workspace_id, definition, ids):
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "convertible": self.convertible,
            "invalid": self.invalid,
            "examples": list(self.examples),
        }


def _invalid_message(report: _Report, new_type: str) -> str:
    n = report.invalid
    return (
        f"{n} value{'s' if n != 1 else ''} cannot become {FIELD_TYPES[new_type].label} "
        f"(e.g. “{report.examples[0]}”). Confirm to clear {'them' if n != 1 else 'it'}."
    )


def _type_change(
    definition: CustomFieldDefinition, new_type: str, options: list[str] | None
) -> tuple[str, list[str], Callable[[Any], Any]]:
    new_type = _clean_type(new_type)
    target = FIELD_TYPES[new_type]
    if options is None and target.has_options and FIELD_TYPES[definition.type].has_options:
        options = list(definition.options or [])
    new_options = _clean_options(new_type, options)
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


# --------------------------------------------------------------------------- ordering


def move_field(session: Session, workspace_id: int, field_id: int, offset: int) -> None:
    """Move a field up (-1) or down (+1) among its entity's fields; positions become
    0..n-1. Moving past either end leaves it there."""
    definition = _owned_field(session, workspace_id, field_id)
    ordered = _definitions(session, workspace_id, definition.entity)
    index = next(i for i, d in enumerate(ordered) if d.id == definition.id)
    target = max(0, min(len(ordered) - 1, index + offset))
    ordered.insert(target, ordered.pop(index))
    _renumber(session, ordered)
    bump_data_version(session, workspace_id)


def _renumber(session: Session, ordered: list[CustomFieldDefinition]) -> None:
    for position, definition in enumerate(ordered):
        if definition.position != position:
            definition.position = position
            session.add(definition)
    session.flush()


# --------------------------------------------------------------------------- deleting


def delete_field(session: Session, workspace_id: int, field_id: int) -> None:
    """Delete the definition and its key from every contact's (or conversation's) values
    in the workspace. Segments naming it are not edited: they report it as missing."""
    definition = _owned_field(session, workspace_id, field_id)
    table = _TABLES[definition.entity]
    dialect = _dialect(session)
    column = table.c.custom_fields
    session.execute(
        sa.update(table)
        .where(
            table.c.workspace_id == workspace_id,
            json_sql.key_present(column, definition.key, dialect),
        )
        .values(custom_fields=json_sql.without_key(column, definition.key, dialect))
    )
    entity = definition.entity
    session.delete(definition)
    session.flush()
    _renumber(session, _definitions(session, workspace_id, entity))
    bump_data_version(session, workspace_id)


# --------------------------------------------------------------------------- helpers


def _owned_field(session: Session, workspace_id: int, field_id: int) -> CustomFieldDefinition:
    definition = session.execute(
        sa.select(CustomFieldDefinition).where(
            CustomFieldDefinition.workspace_id == workspace_id,
            CustomFieldDefinition.id == field_id,
        )
    ).scalar_one_or_none()
    if definition is None:
        raise NotFound("That field no longer exists.")
    return definition


def _clean_entity(entity: str) -> str:
    value = entity.value if isinstance(entity, FieldEntity) else str(entity or "")
    if value not in ENTITIES:
        raise FieldDefinitionError("A field belongs to contacts or to conversations.")
    return value


def _nouns(entity: str) -> tuple[str, str]:
    return (entity, f"{entity}s")


def _clean_label(
    session: Session, workspace_id: int, entity: str, label: str, except_id: int | None
) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise FieldDefinitionError("Give the field a name.")
    if len(label) > FIELD_LABEL_MAX_LENGTH:
        raise FieldDefinitionError(
            f"Keep the field name to {FIELD_LABEL_MAX_LENGTH} characters or fewer."
        )
    # Compared here, not with SQL lower(): SQLite's only folds ASCII.
    for field_id, existing in session.execute(
        sa.select(CustomFieldDefinition.id, CustomFieldDefinition.label).where(
            CustomFieldDefinition.workspace_id == workspace_id,
            CustomFieldDefinition.entity == entity,
        )
    ):
        if field_id != except_id and existing.casefold() == label.casefold():
            raise FieldDefinitionError(f"A {entity} field called “{existing}” already exists.")
    return label


def _clean_type(type_: str) -> str:
    if type_ not in FIELD_TYPES:
        names = ", ".join(t.label for t in FIELD_TYPES.values())
        raise FieldDefinitionError(f"Choose a field type: {names}.")
    return type_


def _clean_options(type_name: str, options: list[str] | None) -> list[str]:
    if not FIELD_TYPES[type_name].has_options:
        if options:
            raise FieldDefinitionError("Only select and multi-select fields have options.")
        return []
    if not options:
        raise FieldDefinitionError("Add at least one option.")
    if len(options) > MAX_OPTIONS:
        raise FieldDefinitionError(f"A field can have at most {MAX_OPTIONS} options.")
    cleaned: list[str] = []
    seen: dict[str, str] = {}
    for raw in options:
        if not isinstance(raw, str):
            raise FieldDefinitionError("Each option must be text.")
        option = raw.strip()
        if not option:
            raise FieldDefinitionError("Options cannot be blank.")
        if len(option) > OPTION_MAX_LENGTH:
            raise FieldDefinitionError(
                f"Keep each option to {OPTION_MAX_LENGTH} characters or fewer "
                f"(“{option[:20]}…” is {len(option)})."
            )
        if type_name == "multi_select" and ("," in option or ";" in option):
            # Multi-select text is split on them (fieldtypes: commas; CSV import: both).
            raise FieldDefinitionError(
                f"A multi-select option cannot contain a comma or semicolon (“{option}”)."
            )
        folded = option.casefold()
        if folded in seen:
            raise FieldDefinitionError(f"“{option}” is listed twice.")
        seen[folded] = option
        cleaned.append(option)
    return cleaned


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _row_ids(
    session: Session,
    workspace_id: int,
    definition: CustomFieldDefinition,
    where: sa.ColumnElement[bool] | None = None,
) -> array:
    """Ids of the workspace's rows holding the key (and matching `where`), in order: one
    query over the workspace's rows, ids only (8 bytes a row)."""
    table = _TABLES[definition.entity]
    conditions = [
        table.c.workspace_id == workspace_id,
        json_sql.key_present(table.c.custom_fields, definition.key, _dialect(session)),
    ]
    if where is not None:
        conditions.append(where)
    query = sa.select(table.c.id).where(*conditions).order_by(table.c.id)
    return array("q", session.execute(query).scalars())


def _chunks(
    session: Session, workspace_id: int, definition: CustomFieldDefinition, ids: array
) -> Iterator[list[tuple[int, Any]]]:
    """(row id, value) for those ids, CHUNK_SIZE rows at a time, each chunk read whole
    before the caller writes. Looked up by primary key: a keyset `id > last ... LIMIT`
    query would let the planner walk the workspace index and sort every remaining row
    once per chunk."""
    table = _TABLES[definition.entity]
    for start in range(0, len(ids), CHUNK_SIZE):
        rows = session.execute(
            sa.select(table.c.id, table.c.custom_fields)
            .where(
                table.c.id.in_(ids[start : start + CHUNK_SIZE].tolist()),
                _in(table, workspace_id),
            )
            .order_by(table.c.id)
        ).all()
        yield [(row_id, (values or {}).get(definition.key)) for row_id, values in rows]


def _in(table: sa.Table, workspace_id: int) -> sa.ColumnElement[bool]:
    """The workspace guard for statements that look rows up by id. Written `+ 0` so that
    no planner reads the workspace index instead of the primary key (SQLite without
    statistics would, and then scan the whole workspace for each chunk)."""
    return (table.c.workspace_id + 0) == workspace_id


def _write(
    session: Session,
    workspace_id: int,
    definition: CustomFieldDefinition,
    chunk: list[tuple[int, Any]],
    patches: list[tuple[int, Any]],
) -> int:
    """Store the chunk's new values (None removes the key), touching only rows whose value
    changes and only this key. Returns how many rows changed."""
    table = _TABLES[definition.entity]
    column, key = table.c.custom_fields, definition.key
    dialect = _dialect(session)
    old = dict(chunk)
    # Every row of a chunk holds the key: None (even over a stored null) removes it.
    changed = [
        (row_id, new) for row_id, new in patches if new is None or _json(new) != _json(old[row_id])
    ]
    removals = [row_id for row_id, new in changed if new is None]
    updates = [
        {"row_id": row_id, "new_value": _json(new)} for row_id, new in changed if new is not None
    ]
    if removals:
        session.execute(
            sa.update(table)
            .where(table.c.id.in_(removals), _in(table, workspace_id))
            .values(custom_fields=json_sql.without_key(column, key, dialect))
        )
    if updates and dialect == "postgresql":
        # One statement per chunk: the new values joined in from two unnested arrays.
        rows = sa.select(
            sa.func.unnest(sa.literal([u["row_id"] for u in updates], ARRAY(sa.BigInteger))).label(
                "row_id"
            ),
            sa.func.unnest(sa.literal([u["new_value"] for u in updates], ARRAY(sa.Text))).label(
                "new_value"
            ),
        ).subquery("new_values")
        session.execute(
            sa.update(table)
            .where(
                table.c.id == rows.c.row_id,
                # Redundant with the join, but it has the rows looked up by primary key
                # (else the planner hashes a scan of the whole table for every chunk).
                table.c.id.in_([u["row_id"] for u in updates]),
                _in(table, workspace_id),
            )
            .values(custom_fields=json_sql.with_key(column, key, rows.c.new_value, dialect))
        )
    elif updates:
        value = sa.bindparam("new_value", type_=sa.Text)
        session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("row_id"), _in(table, workspace_id))
            .values(custom_fields=json_sql.with_key(column, key, value, dialect)),
            updates,
        )
    return len(changed)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
