"""CSV import of contacts: read the file, guess the column mapping, preview, import.

The flow the UI drives:

1. `read_csv(data)` reads the uploaded bytes (encoding and delimiter detected, every cell a
   string) or raises CsvImportError with a message for the user.
2. `guess_mapping(parsed.headers, definitions)` proposes header -> target; the user edits
   it (targets: `import_targets(definitions)`); `validate_mapping` checks it.
3. `preview(...)` shows the first rows as they would be stored, with per-field errors.
4. `run_import(...)` imports every row in chunks and returns an ImportReport; its
   `errors_csv()` is the "download the problems" file.

Rules:

- Imported contacts get channel "imported". A row is validated with the validators inline
  editing uses (cloodot_app.fieldtypes): an email is lower-cased, a phone stored in E.164.
  A row with any error is not written at all (failed); the other rows still are.
- Duplicates: a row is the same contact as an existing one in the workspace (or as an
  earlier row of the file) when its email matches, else when its phone (E.164) matches.
  `on_duplicate="skip"` leaves that contact alone; `"update"` writes the row's mapped,
  non-empty fields over it, merges custom fields and adds labels (never removes any).
- Labels are matched by name (case-insensitive) against the workspace's labels. The import
  never creates labels: an unknown name is a *warning* ("Unknown label ...") and the row is
  imported with the labels that do exist.
- Select / multi-select values are matched to the field's options case-insensitively
  ("vip" -> "VIP"); a multi-select cell may separate values with "," or ";".
- Formula-looking cells ("=cmd|...") are stored as the plain text they are; only the
  problems file neutralises them (services.export.neutralize), as the export does.
- Row numbers are the spreadsheet's: the header is row 1, the first data row row 2. Blank
  rows are ignored but still counted, so the numbers match what Excel shows.

No Reflex import here.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.errors import CsvImportError, ImportInterrupted
from cloodot_app.fieldtypes import FieldValueError, digits_only, field_type
from cloodot_app.filters import CONTACT_FIELD_PREFIX
from cloodot_app.models import (
    Channel,
    Contact,
    ContactLabel,
    CustomFieldDefinition,
    FieldEntity,
    Label,
    utcnow,
)
from cloodot_app.services.export import neutralize
from cloodot_app.services.ingestion import AVATAR_COLORS
from cloodot_app.services.workspaces import bump_data_version
from cloodot_app.settings import PROJECT_ROOT

MAX_ROWS = 100_000
MAX_BYTES = 20 * 1024 * 1024
DEFAULT_CHUNK_SIZE = 1000
PREVIEW_ROWS = 10
NAME_MAX_LENGTH = 200
LINE_TERMINATOR = "\r\n"
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# How much of the file csv.Sniffer looks at.
SNIFF_BYTES = 16 * 1024

OnDuplicate = Literal["skip", "update"]
SessionFactory = Callable[[], AbstractContextManager[Session]]
Progress = Callable[[int, int], None]

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

NO_IDENTITY_MESSAGE = "Row has no name, email or phone"


# --------------------------------------------------------------------------- reading


@dataclass
class ParsedCsv:
    """An uploaded file, read: headers (stripped, unique) and the data rows as strings.

    Blank rows are dropped; `total_rows` counts the others. Picklable, but it holds the
    whole file: keep it on the backend (or keep the bytes and call read_csv again), never
    in a state var.
    """

    headers: list[str]
    frame: pd.DataFrame
    # Spreadsheet row number of each data row (header = 1), in frame order.
    row_numbers: list[int]
    encoding: str  # "utf-8-sig" | "utf-8" | "utf-16" | "cp1252" | "latin-1"
    delimiter: str  # "," | ";" | "\t"

    @property
    def total_rows(self) -> int:
        return len(self.row_numbers)

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES[self.delimiter]

    def chunks(self, size: int = DEFAULT_CHUNK_SIZE) -> Iterator[list[tuple[int, list[str]]]]:
        """(row number, cells in header order) lists of at most `size` rows."""
        size = max(1, size)
        for start in range(0, self.total_rows, size):
            cells = self.frame.iloc[start : start + size].to_numpy(dtype=object).tolist()
            yield list(zip(self.row_numbers[start : start + size], cells, strict=True))

    def sample_values(self, header: str, count: int = 3) -> list[str]:
        """The first `count` non-blank values of a column (for the mapping screen)."""
        values: list[str] = []
        for value in self.frame[header]:
            text = str(value).strip()
            if text:
                values.append(text)
                if len(values) >= count:
                    break
        return values


def read_csv(data: bytes) -> ParsedCsv:
    """Read an uploaded CSV file. Raises CsvImportError (message for the user) for a file
    that is empty, too big (MAX_BYTES, MAX_ROWS), not text, without a header row, with
    duplicate column names, with only a header, or that is not valid CSV."""
    if len(data) > MAX_BYTES:
        raise CsvImportError(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB. Split it into smaller files."
        )
    text, encoding = _decode(data)
    if not text.strip():
        raise CsvImportError("The file is empty.")
    if "\x00" in text:
        raise CsvImportError(
            "This does not look like a CSV file. Save the spreadsheet as CSV and try again."
        )
    # Blank lines before the header are skipped, but counted in the row numbers.
    blank = _LEADING_BLANK_LINES.match(text)
    leading_blank = len(_LINE_BREAK.findall(blank.group())) if blank else 0
    text = text[blank.end() :] if blank else text
    delimiter = _detect_delimiter(text)

    try:
        # header=None: the header line fixes the column count, so a row with more values
        # than the header is an error, never silently shifted into an index or dropped.
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise CsvImportError("The file has no header row.") from None
    except pd.errors.ParserError as error:
        raise CsvImportError(_parser_message(str(error), leading_blank)) from None
    frame = frame.fillna("").astype(object)
    headers = _headers([str(cell) for cell in frame.iloc[0]])
    frame = frame.iloc[1:]
    frame.columns = headers
    # Blank rows (every cell empty or spaces) are not contacts.
    filled = frame.apply(lambda column: column.str.strip() != "").any(axis=1)
    frame = frame[filled]
    # Spreadsheet numbering: the header line (frame index 0) is row 1.
    row_numbers = [int(index) + 1 + leading_blank for index in frame.index]
    frame = frame.reset_index(drop=True)
    if not row_numbers:
        raise CsvImportError("The file has a header row but no contacts.")
    if len(row_numbers) > MAX_ROWS:
        raise CsvImportError(
            f"The file has {len(row_numbers):,} contacts; you can import at most "
            f"{MAX_ROWS:,} at a time. Split it into smaller files."
        )
    return ParsedCsv(headers, frame, row_numbers, encoding, delimiter)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LEADING_BLANK_LINES = re.compile(r"(?:[ \t\f\v]*(?:\r\n|\r|\n))+")


def _decode(data: bytes) -> tuple[str, str]:
    """UTF-16 (with a BOM), UTF-8 (with or without BOM), else Windows-1252, else Latin-1."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _detect_delimiter(text: str) -> str:
    """csv.Sniffer on the first few KB, checked against the header line."""
    sample = text[:SNIFF_BYTES]
    if len(text) > SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]  # whole lines only
    header_line = _LINE_BREAK.split(text, maxsplit=1)[0]
    counts = {d: _count_outside_quotes(header_line, d) for d in DELIMITERS}
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in counts and (counts[sniffed] or not any(counts.values())):
        return sniffed
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _headers(cells: list[str]) -> list[str]:
    headers = [cell.strip() for cell in cells]
    if not any(headers):
        raise CsvImportError("The file has no header row.")
    if _looks_like_data(headers):
        raise CsvImportError(
            "The first row should hold column names (such as Name, Email, Phone), "
            "but it looks like a contact. Add a header row and try again."
        )
    # A column without a name (e.g. after a trailing delimiter) gets one: "Column 3".
    named = [header or f"Column {position}" for position, header in enumerate(headers, 1)]
    seen: dict[str, int] = {}
    duplicates: list[str] = []
    for header in named:
        seen[header] = seen.get(header, 0) + 1
        if seen[header] == 2:
            duplicates.append(header)
    if duplicates:
        names = ", ".join(f"“{name}”" for name in duplicates)
        raise CsvImportError(
            f"Two columns have the same name ({names}). Rename one of them and try again."
        )
    return named


_EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{7,}$")


def _looks_like_data(headers: list[str]) -> bool:
    return any(
        _EMAIL_LIKE.match(header) or (_PHONE_LIKE.match(header) and len(digits_only(header)) >= 7)
        for header in headers
    )


def _parser_message(message: str, leading_blank: int) -> str:
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if fields:
        expected, line, saw = (int(value) for value in fields.groups())
        return (
            f"Row {line + leading_blank} has {saw} values but the header has {expected} "
            "columns. Check that values containing the delimiter are in quotes."
        )
    if "EOF inside string" in message:
        return 'The file ends inside a quoted value: a quote (") is not closed.'
    return "The file could not be read as CSV."


# --------------------------------------------------------------------------- mapping


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


def _contact_definitions(
    definitions: Sequence[CustomFieldDefinition],
) -> list[CustomFieldDefinition]:
    return [d for d in definitions if d.entity == FieldEntity.CONTACT.value]


def import_targets(definitions: Sequence[CustomFieldDefinition]) -> list[tuple[str, str]]:
    """(target, label) for the mapping dropdowns: ignore first, built-ins, custom fields."""
    targets = [(IGNORE, "Don't import"), *BUILTIN_TARGETS.items()]
    targets.extend(
        (CONTACT_FIELD_PREFIX + d.key, d.label) for d in _contact_definitions(definitions)
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
    for definition in _contact_definitions(definitions):
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


# --------------------------------------------------------------------------- checking rows


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


class _RowChecker:
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
            for d in _contact_definitions(definitions)
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
                except FieldValueError as error:
                    fail(target, str(error))
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
            except FieldValueError as error:
                fail(target, str(error))
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


def _workspace_labels(session: Session, workspace_id: int) -> list[tuple[int, str]]:
    return [
        (label_id, name)
        for label_id, name in session.execute(
            sa.select(Label.id, Label.name).where(Label.workspace_id == workspace_id)
        )
    ]


# --------------------------------------------------------------------------- duplicates


@dataclass
class _Existing:
    id: int
    custom_fields: dict[str, Any]


def _existing_contacts(
    session: Session, workspace_id: int, checks: Sequence[RowCheck]
) -> tuple[dict[str, _Existing], dict[str, _Existing]]:
    """The workspace's contacts with an email / phone of these rows (oldest first wins)."""
    emails = sorted({c.values["email"] for c in checks if "email" in c.values})
    phones = sorted({c.values["phone"] for c in checks if "phone" in c.values})
    by_email: dict[str, _Existing] = {}
    by_phone: dict[str, _Existing] = {}
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
        for contact_id, key, custom in session.execute(
            sa.select(Contact.id, column, Contact.custom_fields)
            .where(Contact.workspace_id == workspace_id, in_keys)
            .order_by(Contact.id)
        ):
            index.setdefault(key, _Existing(contact_id, dict(custom or {})))
    return by_email, by_phone


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
    checker = _RowChecker(
        parsed.headers,
        mapping,
        contact_field_definitions(session, workspace_id),
        _workspace_labels(session, workspace_id),
    )
    first = next(parsed.chunks(max(1, rows)), [])
    checks = [checker.check(row_number, cells) for row_number, cells in first]
    by_email, by_phone = _existing_contacts(session, workspace_id, checks)
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


# --------------------------------------------------------------------------- importing


@dataclass
class ImportReport:
    """What an import did. created + updated + skipped + failed == rows read so far.

    skipped: duplicates left alone (on_duplicate="skip"); failed: rows with errors (not
    written). `errors` hold every error of the failed rows, `warnings` the unknown labels
    of imported rows.
    """

    total_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.created + self.updated + self.skipped + self.failed

    def errors_csv(self) -> str:
        """The problems (errors and warnings, by row) as a CSV file: Row, Column, Value,
        Message. RFC 4180 with CRLF, like the export; text cells that a spreadsheet would
        read as a formula get a leading "'"."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=LINE_TERMINATOR)
        writer.writerow(["Row", "Column", "Value", "Message"])
        problems = sorted([*self.errors, *self.warnings], key=lambda problem: problem.row_number)
        for problem in problems:
            writer.writerow(
                [
                    problem.row_number,
                    neutralize(problem.column),
                    neutralize(problem.value),
                    neutralize(problem.message),
                ]
            )
        return buffer.getvalue()


@dataclass
class _Pending:
    """A contact this chunk creates (id None until inserted) or updates, with what the
    rows gave it. For an update, `custom_fields` starts from the stored ones (merged)."""

    id: int | None
    values: dict[str, Any] = field(default_factory=dict)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    label_ids: list[int] = field(default_factory=list)
    touched: bool = False
    custom_changed: bool = False

    def merge(self, check: RowCheck) -> None:
        self.touched = True
        for key, value in check.values.items():
            if key.startswith(CONTACT_FIELD_PREFIX):
                self.custom_fields[key.removeprefix(CONTACT_FIELD_PREFIX)] = value
                self.custom_changed = True
            elif key != "labels":
                self.values[key] = value
        for label_id in check.label_ids:
            if label_id not in self.label_ids:
                self.label_ids.append(label_id)


def run_import(
    session_factory: SessionFactory,
    workspace_id: int,
    parsed: ParsedCsv,
    mapping: Mapping[str, str],
    on_duplicate: OnDuplicate = "skip",
    progress: Progress | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> ImportReport:
    """Import every row of `parsed` into the workspace; return what was done.

    Each chunk of `chunk_size` rows is validated, then written in its own transaction
    (`with session_factory() as session`, e.g. cloodot_app.db.session_scope) that bumps
    the workspace's data_version once. `progress(done, total)` is called with 0 first and
    after each committed chunk; an exception raised by it stops the import there (the
    chunks already committed stay). Raises CsvImportError for an invalid mapping or
    on_duplicate, ImportInterrupted when the database fails part-way.
    """
    if on_duplicate not in ("skip", "update"):
        raise CsvImportError("Choose whether to skip or update contacts that already exist.")
    with session_factory() as session:
        definitions = contact_field_definitions(session, workspace_id)
        labels = _workspace_labels(session, workspace_id)
    checker = _RowChecker(parsed.headers, mapping, definitions, labels)
    report = ImportReport(total_rows=parsed.total_rows)
    if progress is not None:
        progress(0, report.total_rows)
    for chunk in parsed.chunks(chunk_size):
        checks = [checker.check(row_number, cells) for row_number, cells in chunk]
        chunk_report = ImportReport()
        try:
            with session_factory() as session:
                _write_chunk(session, workspace_id, checks, on_duplicate, chunk_report)
        except sa.exc.SQLAlchemyError:
            first = chunk[0][0]
            raise ImportInterrupted(
                f"The import stopped at row {first} because the database failed. "
                f"{report.created + report.updated:,} contacts were imported before that; "
                "import the file again (with “update”) to finish.",
                report,
            ) from None
        for name in ("created", "updated", "skipped", "failed"):
            setattr(report, name, getattr(report, name) + getattr(chunk_report, name))
        report.errors.extend(chunk_report.errors)
        report.warnings.extend(chunk_report.warnings)
        if progress is not None:
            progress(report.done, report.total_rows)
    return report


def _write_chunk(
    session: Session,
    workspace_id: int,
    checks: list[RowCheck],
    on_duplicate: OnDuplicate,
    report: ImportReport,
) -> None:
    # A write first: on SQLite it takes the write lock before anything is read, so a
    # concurrent writer cannot invalidate what this transaction reads (no SQLITE_BUSY on
    # upgrade); on PostgreSQL it queues concurrent importers of the same workspace.
    bump_data_version(session, workspace_id)
    live_labels = {label_id for label_id, _ in _workspace_labels(session, workspace_id)}
    by_email_db, by_phone_db = _existing_contacts(session, workspace_id, checks)
    # email / phone -> the contact (existing or new in this chunk) it now belongs to.
    by_email: dict[str, _Pending] = {}
    by_phone: dict[str, _Pending] = {}
    updates: dict[int, _Pending] = {}
    creates: list[_Pending] = []

    def find(kind: str, key: str | None) -> _Pending | None:
        if not key:
            return None
        index, database = (by_email, by_email_db) if kind == "email" else (by_phone, by_phone_db)
        if key in index:
            return index[key]
        existing = database.get(key)
        if existing is None:
            return None
        if existing.id not in updates:
            updates[existing.id] = _Pending(existing.id, custom_fields=existing.custom_fields)
        return updates[existing.id]

    for check in checks:
        if check.errors:
            report.failed += 1
            report.errors.extend(check.errors)
            continue
        email, phone = check.values.get("email"), check.values.get("phone")
        target = find("email", email) or find("phone", phone)
        if target is not None and on_duplicate == "skip":
            report.skipped += 1
            continue
        if target is None:
            target = _Pending(None)
            creates.append(target)
            report.created += 1
        else:
            report.updated += 1
        target.merge(check)
        target.label_ids = [i for i in target.label_ids if i in live_labels]
        report.warnings.extend(check.warnings)
        if email:
            by_email[email] = target
        if phone:
            by_phone[phone] = target

    now = utcnow()
    if creates:
        rows = [_new_row(workspace_id, pending, now) for pending in creates]
        ids = session.execute(
            sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True), rows
        ).scalars()
        for pending, contact_id in zip(creates, ids, strict=True):
            pending.id = contact_id
    touched = [pending for pending in updates.values() if pending.touched]
    _update_contacts(session, touched, now)
    _add_labels(session, creates, touched)


def _new_row(workspace_id: int, pending: _Pending, now) -> dict[str, Any]:
    values = pending.values
    name = values.get("name") or values.get("email") or values.get("phone") or ""
    return {
        "workspace_id": workspace_id,
        "name": name,
        "email": values.get("email"),
        "phone": values.get("phone"),
        "phone_digits": digits_only(values.get("phone")) or None,
        "image_url": None,
        "avatar_color": avatar_color(name),
        "channel": Channel.IMPORTED.value,
        "external_id": None,
        "created_at": now,
        "updated_at": now,
        "last_interaction_at": None,
        "last_message_text": None,
        "last_message_direction": None,
        "campaign_opt_in": bool(values.get("campaign_opt_in", False)),
        "custom_fields": pending.custom_fields,
    }


def avatar_color(name: str) -> str:
    """The same name always gets the same colour."""
    return AVATAR_COLORS[sum(map(ord, name)) % len(AVATAR_COLORS)]


def _update_contacts(session: Session, touched: list[_Pending], now) -> None:
    """Write only what the rows gave (an edit made meanwhile to another field stays)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for pending in touched:
        row: dict[str, Any] = {"id": pending.id, "updated_at": now}
        for key in ("name", "email", "phone", "campaign_opt_in"):
            if key in pending.values:
                row[key] = pending.values[key]
        if "phone" in row:
            row["phone_digits"] = digits_only(row["phone"]) or None
        if pending.custom_changed:
            row["custom_fields"] = pending.custom_fields
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for rows in groups.values():
        session.execute(sa.update(Contact), rows)


def _add_labels(session: Session, creates: list[_Pending], touched: list[_Pending]) -> None:
    pairs = {(p.id, label_id) for p in creates for label_id in p.label_ids}
    updated = {p.id: p.label_ids for p in touched if p.label_ids}
    if updated:
        existing = {
            (contact_id, label_id)
            for contact_id, label_id in session.execute(
                sa.select(ContactLabel.contact_id, ContactLabel.label_id).where(
                    ContactLabel.contact_id.in_(list(updated))
                )
            )
        }
        pairs.update(
            (contact_id, label_id)
            for contact_id, label_ids in updated.items()
            for label_id in label_ids
            if (contact_id, label_id) not in existing
        )
    if pairs:
        session.execute(
            sa.insert(ContactLabel),
            [{"contact_id": c, "label_id": label} for c, label in sorted(pairs)],
        )


# --------------------------------------------------------------------------- files

IMPORT_DIR = PROJECT_ROOT / "data" / "imports"


def import_file(token: str, suffix: str = ".csv") -> Path:
    """Where an upload (or its error report) waits between steps, named by a random token
    (secrets.token_urlsafe) that only the uploading tab knows."""
    return IMPORT_DIR / f"{token}{suffix}"
