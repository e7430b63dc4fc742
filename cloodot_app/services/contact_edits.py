"""Editing a contact: one field at a time (one JSON key for a custom field), compared
with the value the editor started from, and its labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import json_sql
from cloodot_app.access import Identity
from cloodot_app.errors import EditConflict, FieldValueError, NotFound
from cloodot_app.fieldtypes import digits_only, field_type
from cloodot_app.filters import (
    CONTACT_FIELD_PREFIX,
)
from cloodot_app.models import (
    Contact,
    ContactLabel,
    CustomFieldDefinition,
    FieldEntity,
    Label,
    utcnow,
)
from cloodot_app.services import contact_audit
from cloodot_app.services.audit import ConsentSource
from cloodot_app.services.contact_rows import (
    display,
)
from cloodot_app.services.contacts import owned_contact
from cloodot_app.services.workspaces import bump_data_version

# Built-in fields a user may edit, with the field type that validates them.
EDITABLE_BUILTINS = {"name": "text", "email": "email", "phone": "phone", "image_url": "url"}


def update_contact_field(
    session: Session,
    workspace_id: int,
    contact_id: int,
    field_key: str,
    raw: Any,
    expected: str | None = None,
    *,
    actor: Identity | None = None,
    source: ConsentSource | str = ConsentSource.AGENT,
) -> Any:
    """Validate and store one field; return the stored value.

    Only that field is written (one JSON key for a custom field), so edits of different
    fields at the same time never undo each other. With `expected` (the value as it was
    shown when the editor opened, see `shown_value`), a value someone else has changed
    since is not overwritten: EditConflict carries theirs, and nothing is saved. The check
    and the write are one conditional UPDATE, so nothing can slip in between.

    A change of campaign opt-in is also written to the contact's consent history (from
    which value, by `actor` or else `source`) and the audit log, in the same transaction.

    Raises FieldValueError, NotFound or EditConflict.
    """
    contact = owned_contact(session, workspace_id, contact_id)
    name = contact.name
    edit = _validated_edit(session, workspace_id, contact, field_key, raw)
    if expected is not None and edit.shown(edit.current) != expected:
        raise _conflict(edit.shown(edit.current))
    where = [Contact.id == contact.id, Contact.workspace_id == workspace_id]
    if expected is not None:
        where.append(edit.unchanged)
    result = session.execute(
        sa.update(Contact).where(*where).values(**edit.values, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    session.expire(contact)
    if result.rowcount == 0:
        # Changed between our read and our write: show what it is now.
        current = _validated_edit(session, workspace_id, contact, field_key, raw).current
        raise _conflict(edit.shown(current))
    if field_key == "campaign_opt_in":
        contact_audit.record_opt_in(
            session, workspace_id, actor, contact_id, name, edit.current, edit.stored, source
        )
    bump_data_version(session, workspace_id)
    session.flush()
    return edit.stored


def shown_value(field_key: str, value: Any, type_name: str = "text") -> str:
    """A field's value as an editor shows it: what `expected` is compared with."""
    if field_key == "campaign_opt_in":
        return "on" if value else "off"
    return display(type_name, value)


def _conflict(theirs: str) -> EditConflict:
    return EditConflict(
        f"Changed by someone else since you opened it: “{theirs or 'empty'}”.", current=theirs
    )


@dataclass
class _Edit:
    stored: Any  # the validated value (None clears it)
    current: Any  # what the row holds now
    values: dict[str, Any]  # the UPDATE's SET
    unchanged: sa.ColumnElement[bool]  # true while the row still holds `current`
    type_name: str = "text"
    field_key: str = ""

    def shown(self, value: Any) -> str:
        return shown_value(self.field_key, value, self.type_name)


def _validated_edit(
    session: Session, workspace_id: int, contact: Contact, field_key: str, raw: Any
) -> _Edit:
    if field_key == "campaign_opt_in":
        if not isinstance(raw, bool):
            raise FieldValueError("Campaign opt-in is either on or off.")
        current: Any = contact.campaign_opt_in
        return _Edit(
            raw,
            current,
            {"campaign_opt_in": raw},
            Contact.campaign_opt_in.is_(current),
            field_key=field_key,
        )
    if field_key in EDITABLE_BUILTINS:
        stored = field_type(EDITABLE_BUILTINS[field_key]).validate(raw)
        if field_key == "name":
            if not stored:
                raise FieldValueError("A contact needs a name.")
            if len(stored) > 200:
                raise FieldValueError("Keep the name under 200 characters.")
        values: dict[str, Any] = {field_key: stored}
        if field_key == "phone":
            values["phone_digits"] = digits_only(stored) or None
        column = getattr(Contact, field_key)
        current = getattr(contact, field_key)
        return _Edit(
            stored, current, values, column.is_not_distinct_from(current), field_key=field_key
        )
    if not field_key.startswith(CONTACT_FIELD_PREFIX):
        raise FieldValueError(f"“{field_key}” cannot be edited.")
    key = field_key.removeprefix(CONTACT_FIELD_PREFIX)
    definition = session.execute(
        sa.select(CustomFieldDefinition).where(
            CustomFieldDefinition.workspace_id == workspace_id,
            CustomFieldDefinition.entity == FieldEntity.CONTACT.value,
            CustomFieldDefinition.key == key,
        )
    ).scalar_one_or_none()
    if definition is None:
        raise FieldValueError("That field no longer exists.")
    stored = field_type(definition.type).validate(raw, definition.options)
    dialect = session.get_bind().dialect.name
    current = (contact.custom_fields or {}).get(key)
    return _Edit(
        stored,
        current,
        {"custom_fields": json_sql.set_key(Contact.custom_fields, key, stored, dialect)},
        json_sql.key_is(Contact.custom_fields, key, current, dialect),
        type_name=definition.type,
        field_key=field_key,
    )


def set_contact_labels(
    session: Session, workspace_id: int, contact_id: int, label_ids: list[int]
) -> list[int]:
    contact = owned_contact(session, workspace_id, contact_id)
    wanted = set(label_ids)
    owned = set(
        session.execute(
            sa.select(Label.id).where(Label.workspace_id == workspace_id, Label.id.in_(wanted))
        ).scalars()
    )
    if owned != wanted:
        raise NotFound("A label you chose no longer exists.")
    session.execute(sa.delete(ContactLabel).where(ContactLabel.contact_id == contact.id))
    if wanted:
        session.execute(
            sa.insert(ContactLabel),
            [{"contact_id": contact.id, "label_id": label_id} for label_id in sorted(wanted)],
        )
    contact.updated_at = utcnow()
    session.add(contact)
    bump_data_version(session, workspace_id)
    session.flush()
    return sorted(wanted)
