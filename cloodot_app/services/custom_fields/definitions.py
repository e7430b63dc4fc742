"""Field definitions: the settings list and what uses each field, create, save, reorder
and delete."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import json_sql
from cloodot_app.fieldtypes import FIELD_TYPES
from cloodot_app.models import CustomFieldDefinition, FieldEntity
from cloodot_app.services.custom_fields.checks import (
    ENTITIES,
    KEY_MAX_LENGTH,
    KEY_PATTERN,
    PREFIXES,
    clean_entity,
    clean_label,
    clean_options,
    clean_type,
    definitions_of,
    owned_field,
)
from cloodot_app.services.custom_fields.indexes import sync_field_indexes
from cloodot_app.services.custom_fields.options import update_field
from cloodot_app.services.custom_fields.stored_values import TABLES, dialect_of
from cloodot_app.services.custom_fields.type_change import change_field_type
from cloodot_app.services.segments import readable_specs
from cloodot_app.services.workspaces import bump_data_version


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


SummaryT = TypeVar("SummaryT", bound=FieldDefinitionSummary)


def field_definitions(
    session: Session, workspace_id: int, entity: str | None = None
) -> list[FieldDefinitionSummary]:
    """Every field (of one entity, or contact fields then conversation fields) in position
    order. One indexed query: cheap enough for every page load."""
    entities = [clean_entity(entity)] if entity else list(ENTITIES)
    return [
        _summary(FieldDefinitionSummary, d)
        for name in entities
        for d in definitions_of(session, workspace_id, name)
    ]


def list_fields(session: Session, workspace_id: int, entity: str) -> list[FieldSummary]:
    """The entity's fields in position order, each with how many rows have a value and
    which segments name it (one scan of the entity's rows for all the counts)."""
    entity = clean_entity(entity)
    definitions = definitions_of(session, workspace_id, entity)
    counts = _value_counts(session, workspace_id, entity, [d.key for d in definitions])
    segments = _segments_by_field(session, workspace_id)
    return [
        _summary(
            FieldSummary,
            d,
            value_count=counts.get(d.key, 0),
            segments=segments.get(PREFIXES[entity] + d.key, []),
        )
        for d in definitions
    ]


def field_usage(session: Session, workspace_id: int, field_id: int) -> FieldUsage:
    """What the delete confirmation tells."""
    definition = owned_field(session, workspace_id, field_id)
    counts = _value_counts(session, workspace_id, definition.entity, [definition.key])
    segments = _segments_by_field(session, workspace_id)
    return FieldUsage(
        value_count=counts.get(definition.key, 0),
        segments=segments.get(PREFIXES[definition.entity] + definition.key, []),
    )


def _summary(cls: type[SummaryT], definition: CustomFieldDefinition, **extra: Any) -> SummaryT:
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


def _value_counts(
    session: Session, workspace_id: int, entity: str, keys: list[str]
) -> dict[str, int]:
    """Key -> how many of the workspace's rows hold a non-empty value: one scan for all."""
    if not keys:
        return {}
    table = TABLES[entity]
    dialect = dialect_of(session)
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
    for name, spec in readable_specs(session, workspace_id):
        for field_key in dict.fromkeys(condition.field for condition in spec.conditions):
            result.setdefault(field_key, []).append(name)
    return result


def create_field(
    session: Session,
    workspace_id: int,
    entity: str,
    label: str,
    type_: str,
    options: list[str] | None = None,
) -> CustomFieldDefinition:
    """Validate and store a new field, last in its entity's order."""
    entity = clean_entity(entity)
    label = clean_label(session, workspace_id, entity, label, None)
    type_name = clean_type(type_)
    cleaned_options = clean_options(type_name, options)
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
    sync_field_indexes(session)
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
    definition = owned_field(session, workspace_id, field_id)
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


def move_field(session: Session, workspace_id: int, field_id: int, offset: int) -> None:
    """Move a field up (-1) or down (+1) among its entity's fields; positions become
    0..n-1. Moving past either end leaves it there."""
    definition = owned_field(session, workspace_id, field_id)
    ordered = definitions_of(session, workspace_id, definition.entity)
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


def delete_field(session: Session, workspace_id: int, field_id: int) -> None:
    """Delete the definition and its key from every contact's (or conversation's) values
    in the workspace. Segments naming it are not edited: they report it as missing."""
    definition = owned_field(session, workspace_id, field_id)
    table = TABLES[definition.entity]
    dialect = dialect_of(session)
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
    _renumber(session, definitions_of(session, workspace_id, entity))
    sync_field_indexes(session)
    bump_data_version(session, workspace_id)
