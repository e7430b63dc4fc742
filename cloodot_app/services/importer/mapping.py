"""Which column of the file goes into which contact field: the targets, the guess, the check.

A mapping is header -> target, where a target is a built-in ("name", "email", ...), a
contact custom field ("cf.<key>") or "" (ignore the column).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.errors import CsvImportError
from cloodot_app.filters import CONTACT_FIELD_PREFIX
from cloodot_app.models import CustomFieldDefinition, FieldEntity

# Targets a column can be imported into (besides "cf.<key>" and "" = ignore).
BUILTIN_TARGETS: dict[str, str] = {
    "name": "Name",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "campaign_opt_in": "Campaign opt-in",
    "labels": "Labels",
}
IGNORE = ""
NAME_TARGETS = ("name", "first_name", "last_name")
IDENTITY_TARGETS = (*NAME_TARGETS, "email", "phone")


def contact_field_definitions(session: Session, workspace_id: int) -> list[CustomFieldDefinition]:
    """The workspace's contact custom fields, in their display order."""
    return list(
        session.execute(
            sa.select(CustomFieldDefinition)
            .where(
                CustomFieldDefinition.workspace_id == workspace_id,
                CustomFieldDefinition.entity == FieldEntity.CONTACT.value,
            )
            .order_by(CustomFieldDefinition.position, CustomFieldDefinition.id)
        ).scalars()
    )


def contact_definitions(
    definitions: Sequence[CustomFieldDefinition],
) -> list[CustomFieldDefinition]:
    return [d for d in definitions if d.entity == FieldEntity.CONTACT.value]


def import_targets(definitions: Sequence[CustomFieldDefinition]) -> list[tuple[str, str]]:
    """(target, label) for the mapping dropdowns: ignore first, built-ins, custom fields."""
    targets = [(IGNORE, "Don't import"), *BUILTIN_TARGETS.items()]
    targets.extend(
        (CONTACT_FIELD_PREFIX + d.key, d.label) for d in contact_definitions(definitions)
    )
    return targets


def _norm(text: str) -> str:
    """Case, accents, spaces and punctuation ignored: "E-mail " -> "email"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if char.isalnum())


_CANONICAL: dict[str, str] = {
    "name": "name",
    "firstname": "first_name",
    "lastname": "last_name",
    "email": "email",
    "phone": "phone",
    "campaignoptin": "campaign_opt_in",
    "labels": "labels",
}

# Normalised header (see _norm) -> target, after the exact names and the custom fields.
_SYNONYMS: dict[str, str] = {
    "name": "fullname contactname contact displayname customername customer clientname "
    "client leadname person nombre nombrecompleto nom nomcomplet",
    "first_name": "first givenname forename fname prenom vorname",
    "last_name": "last surname familyname lname nachname apellido apellidos nomdefamille",
    "email": "emailaddress mail emailid mailaddress emails correo correoelectronico courriel "
    "emailadresse workemail primaryemail contactemail",
    "phone": "phonenumber phoneno phones mobile mobilenumber mobilephone mobileno cell "
    "cellphone cellnumber telephone telephonenumber tel whatsapp whatsappnumber "
    "whatsappphone whatsappno contactnumber msisdn telefono telefone handy handynummer "
    "primaryphone",
    "campaign_opt_in": "optin optedin marketingoptin emailoptin smsoptin whatsappoptin consent "
    "marketingconsent subscribed newsletter acceptsmarketing",
    "labels": "label tags tag",
}
_SYNONYM_TARGET = {word: target for target, words in _SYNONYMS.items() for word in words.split()}


def guess_mapping(
    headers: Sequence[str], definitions: Sequence[CustomFieldDefinition]
) -> dict[str, str]:
    """header -> target for every header ("" = ignore). Each target is given to one header
    at most, the first that matches. Tried in order: the built-ins' own names, a contact
    custom field's key or label, common synonyms ("E-mail", "Mobile", "Full name",
    "Opt-in", "Tags", ...), then a header containing "email" or "phone"."""
    fields = {}
    for definition in contact_definitions(definitions):
        target = CONTACT_FIELD_PREFIX + definition.key
        fields.setdefault(_norm(definition.key), target)
        fields.setdefault(_norm(definition.label), target)
    mapping = dict.fromkeys(headers, IGNORE)
    taken: set[str] = set()

    def assign(pick: Callable[[str], str | None]) -> None:
        for header in headers:
            if mapping[header]:
                continue
            target = pick(_norm(header))
            if target and target not in taken:
                mapping[header] = target
                taken.add(target)

    assign(_CANONICAL.get)
    assign(fields.get)
    assign(_SYNONYM_TARGET.get)
    assign(lambda word: "email" if "email" in word else None)
    assign(lambda word: "phone" if "phone" in word or "mobile" in word else None)
    return mapping


def validate_mapping(
    headers: Sequence[str],
    mapping: Mapping[str, str],
    definitions: Sequence[CustomFieldDefinition],
) -> dict[str, str]:
    """The mapping's used part, target -> header. Raises CsvImportError for a header not in
    the file, an unknown target, two headers on one target, or no name/email/phone."""
    valid = {target for target, _ in import_targets(definitions)}
    labels = dict(import_targets(definitions))
    by_target: dict[str, str] = {}
    for header, target in mapping.items():
        if header not in headers:
            raise CsvImportError(f"The file has no column “{header}”.")
        if not target:
            continue
        if target not in valid:
            raise CsvImportError(f"Column “{header}” cannot be imported into “{target}”.")
        if target in by_target:
            raise CsvImportError(
                f"Both “{by_target[target]}” and “{header}” are set to {labels[target]}; "
                "choose one of them."
            )
        by_target[target] = header
    if not any(target in by_target for target in IDENTITY_TARGETS):
        raise CsvImportError("Choose the column that holds the name, the email or the phone.")
    return by_target
