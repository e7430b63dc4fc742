"""Checking rows: each row validated into what would be stored, its errors and warnings;
duplicates found by email, then phone; the preview of the first rows.

A row is validated with the validators inline editing uses (cloodot_app.fieldtypes): an
email is lower-cased, a phone stored in E.164. Labels are matched by name
(case-insensitive); an unknown name is a warning, never a new label. Select /
multi-select values are matched to the field's options case-insensitively ("vip" ->
"VIP"); a multi-select cell may separate values with "," or ";".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.fieldtypes import FieldValueError, field_type
from cloodot_app.filters import CONTACT_FIELD_PREFIX
from cloodot_app.models import Contact, ContactMerge, CustomFieldDefinition, Label
from cloodot_app.services.importer.mapping import (
    IDENTITY_TARGETS,
    NAME_TARGETS,
    contact_definitions,
    contact_field_definitions,
    validate_mapping,
)
from cloodot_app.services.importer.parse import ParsedCsv

PREVIEW_ROWS = 10
NAME_MAX_LENGTH = 200
NO_IDENTITY_MESSAGE = "Row has no name, email or phone"


@dataclass(frozen=True)
class RowError:
    """A problem with one cell (or the whole row, column ""). row_number is the
    spreadsheet's: the header is row 1."""

    row_number: int
    column: str
    value: str
    message: str


@dataclass
class RowCheck:
    """One row as it would be stored.

    `values` holds what the row provides, validated: "name" (from Name, or First + Last
    name), "email", "phone", "campaign_opt_in" (bool), "labels" (names of existing labels),
    "cf.<key>". A new contact without a name is named after its email, else its phone.
    `errors` make the row fail; `warnings` (unknown labels) do not. `duplicate`: the row
    matches an existing contact of the workspace, or an earlier row of the file.
    """

    row_number: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    duplicate: bool = False
    label_ids: list[int] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors


_TRUE = {"yes", "y", "true", "t", "1", "on", "x", "✓", "✔", "subscribed", "optedin", "optin"}
_FALSE = {"no", "n", "false", "f", "0", "off", "-", "unsubscribed", "optedout", "optout"}


def parse_opt_in(raw: str) -> bool | None:
    """yes/no, true/false, 1/0, on/off, subscribed/unsubscribed, ... None when blank."""
    text = raw.strip().casefold()
    if not text:
        return None
    word = re.sub(r"[\s_-]+", "", text)
    if text in _TRUE or word in _TRUE:
        return True
    if text in _FALSE or word in _FALSE:
        return False
    raise FieldValueError(f"“{raw.strip()}” is not yes or no.")


def _cell_message(error: ValueError, raw: str) -> str:
    """A validator's message for the user. A validator that fails with a plain ValueError
    (a library's, e.g. urlparse on "http://[x") fails that cell, not the whole import."""
    if isinstance(error, FieldValueError):
        return str(error)
    return f"“{raw[:100]}” cannot be stored in this field."


class RowChecker:
    """Validates rows against a mapping, the field definitions and the labels."""

    def __init__(
        self,
        headers: Sequence[str],
        mapping: Mapping[str, str],
        definitions: Sequence[CustomFieldDefinition],
        labels: Sequence[tuple[int, str]],
    ) -> None:
        by_target = validate_mapping(headers, mapping, definitions)
        position = {header: index for index, header in enumerate(headers)}
        # target -> (header, index of its cell)
        self.columns = {target: (h, position[h]) for target, h in by_target.items()}
        self.fields = {
            CONTACT_FIELD_PREFIX + d.key: d
            for d in contact_definitions(definitions)
            if CONTACT_FIELD_PREFIX + d.key in by_target
        }
        self.labels_exact = {name: (label_id, name) for label_id, name in labels}
        self.labels_folded: dict[str, tuple[int, str]] = {}
        for label_id, name in sorted(labels):
            self.labels_folded.setdefault(name.casefold(), (label_id, name))
        self._email = field_type("email")
        self._phone = field_type("phone")

    def check(self, row_number: int, cells: Sequence[Any]) -> RowCheck:
        result = RowCheck(row_number)
        raw: dict[str, str] = {
            target: str(cells[index] if cells[index] is not None else "").strip()
            for target, (_, index) in self.columns.items()
        }

        def fail(target: str, message: str) -> None:
            header = self.columns[target][0] if target in self.columns else ""
            value = raw.get(target, "")
            result.errors.append(RowError(row_number, header, value, message))

        # Name: the Name column, else First name + Last name.
        name = raw.get("name") or " ".join(
            part for part in (raw.get("first_name"), raw.get("last_name")) if part
        )
        if len(name) > NAME_MAX_LENGTH:
            fail(
                next(t for t in NAME_TARGETS if raw.get(t)),
                f"Keep the name under {NAME_MAX_LENGTH} characters.",
            )
        elif name:
            result.values["name"] = name
        for target, validator in (("email", self._email), ("phone", self._phone)):
            if raw.get(target):
                try:
                    result.values[target] = validator.validate(raw[target])
                except ValueError as error:
                    fail(target, _cell_message(error, raw[target]))
        if raw.get("campaign_opt_in"):
            try:
                result.values["campaign_opt_in"] = parse_opt_in(raw["campaign_opt_in"])
            except FieldValueError as error:
                fail("campaign_opt_in", str(error))
        for target, definition in self.fields.items():
            if not raw.get(target):
                continue
            try:
                stored = self._custom(definition, raw[target])
            except ValueError as error:
                fail(target, _cell_message(error, raw[target]))
            else:
                if stored is not None:
                    result.values[target] = stored
        if raw.get("labels"):
            self._labels(result, raw["labels"])
        if not any(raw.get(target) for target in IDENTITY_TARGETS):
            result.errors.append(RowError(row_number, "", "", NO_IDENTITY_MESSAGE))
        return result

    @staticmethod
    def _custom(definition: CustomFieldDefinition, raw: str) -> Any:
        options = list(definition.options or [])
        folded = {option.casefold(): option for option in options}
        value: Any = raw
        if definition.type == "select":
            value = folded.get(raw.casefold(), raw)
        elif definition.type == "multi_select":
            value = [folded.get(v.strip().casefold(), v.strip()) for v in re.split(r"[,;]", raw)]
            value = [v for v in value if v]
        return field_type(definition.type).validate(value, options)

    def _labels(self, result: RowCheck, raw: str) -> None:
        header = self.columns["labels"][0]
        names: list[str] = []
        for part in re.split(r"[,;]", raw):
            name = part.strip()
            if not name:
                continue
            found = self.labels_exact.get(name) or self.labels_folded.get(name.casefold())
            if found is None:
                result.warnings.append(
                    RowError(
                        result.row_number,
                        header,
                        name,
                        f"Unknown label “{name}”: the contact was imported without it.",
                    )
                )
            elif found[0] not in result.label_ids:
                result.label_ids.append(found[0])
                names.append(found[1])
        if names:
            result.values["labels"] = names


def workspace_labels(session: Session, workspace_id: int) -> list[tuple[int, str]]:
    return [
        (label_id, name)
        for label_id, name in session.execute(
            sa.select(Label.id, Label.name).where(Label.workspace_id == workspace_id)
        )
    ]


# --------------------------------------------------------------------------- duplicates


@dataclass
class Existing:
    id: int
    custom_fields: dict[str, Any]
    # Its opt-in before the import (what the consent history says it changed from).
    campaign_opt_in: bool = False


def existing_contacts(
    session: Session, workspace_id: int, checks: Sequence[RowCheck]
) -> tuple[dict[str, Existing], dict[str, Existing]]:
    """The workspace's contacts with an email / phone of these rows (oldest first wins)."""
    emails = sorted({c.values["email"] for c in checks if "email" in c.values})
    phones = sorted({c.values["phone"] for c in checks if "phone" in c.values})
    by_email: dict[str, Existing] = {}
    by_phone: dict[str, Existing] = {}
    for column, keys, index in (
        (Contact.email, emails, by_email),
        (Contact.phone, phones, by_phone),
    ):
        if not keys:
            continue
        # The keys are written into the SQL (safely quoted) rather than bound: psycopg
        # prepares a statement run five times, and PostgreSQL's generic plan for
        # "IN ($2, ..., $1001)" scans the whole workspace (250 ms a chunk at 20,000
        # contacts, instead of 3 ms through ix_contact_ws_email / ix_contact_ws_phone).
        in_keys = column.in_(sa.bindparam(f"{column.key}_keys", keys, literal_execute=True))
        for contact_id, key, custom, opt_in in session.execute(
            sa.select(Contact.id, column, Contact.custom_fields, Contact.campaign_opt_in)
            .where(Contact.workspace_id == workspace_id, in_keys)
            .order_by(Contact.id)
        ):
            index.setdefault(key, Existing(contact_id, dict(custom or {}), bool(opt_in)))
        _merged_contacts(session, workspace_id, column.key, keys, index)
    return by_email, by_phone


def _merged_contacts(
    session: Session, workspace_id: int, key_name: str, keys: list[str], index: dict[str, Existing]
) -> None:
    """Keys no contact has, that a contact merged into another one had: they belong to the
    contact it was merged into (so an import never re-creates a merged contact)."""
    missing = [key for key in keys if key not in index]
    if not missing:
        return
    column = ContactMerge.email if key_name == "email" else ContactMerge.phone
    in_keys = column.in_(sa.bindparam("merged_keys", missing, literal_execute=True))
    for contact_id, key, custom, opt_in in session.execute(
        sa.select(Contact.id, column, Contact.custom_fields, Contact.campaign_opt_in)
        .join(Contact, Contact.id == ContactMerge.contact_id)
        .where(ContactMerge.workspace_id == workspace_id, in_keys)
        .order_by(ContactMerge.id)
    ):
        index.setdefault(key, Existing(contact_id, dict(custom or {}), bool(opt_in)))


# --------------------------------------------------------------------------- preview


def preview(
    parsed: ParsedCsv,
    mapping: Mapping[str, str],
    session: Session,
    workspace_id: int,
    rows: int = PREVIEW_ROWS,
) -> list[RowCheck]:
    """The first `rows` rows as they would be stored, with their errors and warnings.
    Raises CsvImportError for an invalid mapping. Reads only."""
    checker = RowChecker(
        parsed.headers,
        mapping,
        contact_field_definitions(session, workspace_id),
        workspace_labels(session, workspace_id),
    )
    first = next(parsed.chunks(max(1, rows)), [])
    checks = [checker.check(row_number, cells) for row_number, cells in first]
    by_email, by_phone = existing_contacts(session, workspace_id, checks)
    seen_emails: set[str] = set()
    seen_phones: set[str] = set()
    for check in checks:
        email, phone = check.values.get("email"), check.values.get("phone")
        check.duplicate = bool(
            (email and (email in by_email or email in seen_emails))
            or (phone and (phone in by_phone or phone in seen_phones))
        )
        if check.ok:
            seen_emails.update([email] if email else [])
            seen_phones.update([phone] if phone else [])
    return checks
