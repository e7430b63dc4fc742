"""What a field definition may be: the limits, and the checks every change goes through."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.errors import FieldDefinitionError, NotFound
from cloodot_app.fieldtypes import FIELD_TYPES
from cloodot_app.filters import CONTACT_FIELD_PREFIX, CONVERSATION_FIELD_PREFIX
from cloodot_app.models import CustomFieldDefinition, FieldEntity

ENTITIES: tuple[str, ...] = tuple(entity.value for entity in FieldEntity)
FIELD_LABEL_MAX_LENGTH = 120
OPTION_MAX_LENGTH = 80
MAX_OPTIONS = 100
KEY_MAX_LENGTH = 64
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# How a segment's condition names a field of each entity ("cf.plan", "conv.topic").
PREFIXES = {
    FieldEntity.CONTACT.value: CONTACT_FIELD_PREFIX,
    FieldEntity.CONVERSATION.value: CONVERSATION_FIELD_PREFIX,
}


def owned_field(session: Session, workspace_id: int, field_id: int) -> CustomFieldDefinition:
    definition = session.execute(
        sa.select(CustomFieldDefinition).where(
            CustomFieldDefinition.workspace_id == workspace_id,
            CustomFieldDefinition.id == field_id,
        )
    ).scalar_one_or_none()
    if definition is None:
        raise NotFound("That field no longer exists.")
    return definition


def clean_entity(entity: str) -> str:
    value = entity.value if isinstance(entity, FieldEntity) else str(entity or "")
    if value not in ENTITIES:
        raise FieldDefinitionError("A field belongs to contacts or to conversations.")
    return value


def nouns(entity: str) -> tuple[str, str]:
    return (entity, f"{entity}s")


def clean_label(
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


def clean_type(type_: str) -> str:
    if type_ not in FIELD_TYPES:
        names = ", ".join(t.label for t in FIELD_TYPES.values())
        raise FieldDefinitionError(f"Choose a field type: {names}.")
    return type_


def clean_options(type_name: str, options: list[str] | None) -> list[str]:
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


def definitions_of(session: Session, workspace_id: int, entity: str) -> list[CustomFieldDefinition]:
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
