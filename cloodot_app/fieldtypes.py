"""The eight custom-field types: each owns its validator and the filter kind it is queried by.

The UI maps the same type names to editors (components/cells.py); nothing else branches on
a field's type.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar
from urllib.parse import urlparse

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from cloodot_app.errors import FieldValueError

TEXT_MAX_LENGTH = 500
# Beyond 15 significant digits a float no longer holds every whole number exactly, and a
# spreadsheet shows it rounded: a "number" that large is an id or a mistake.
NUMBER_LIMIT = 1e15
# The dates a date field accepts (birthdays, renewals, events): outside them a value is a
# typo, and years 1 or 9999 break date arithmetic in filters and exports.
DATE_MIN_YEAR = 1900
DATE_MAX_YEAR = 2999


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []


def _real_number(raw: Any) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _bounded(number: float) -> bool:
    # Compared as given: math.isfinite(10**400) or float(10**400) would raise OverflowError.
    if isinstance(number, float) and not math.isfinite(number):
        return False
    return -NUMBER_LIMIT < number < NUMBER_LIMIT


def clean_text(value: str) -> str:
    """Refuse what no database column can hold as text: NUL characters (PostgreSQL refuses
    them) and lone surrogates (not encodable as UTF-8)."""
    if "\x00" in value:
        raise FieldValueError("Remove the NUL character (\\0) from the text.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldValueError("The text contains a character that is not valid Unicode.") from None
    return value


def _as_text(raw: Any) -> str:
    """A value sent for a text-like field: text, or a number written as text. Anything else
    (an object, a list, true/false) is refused rather than stored as its Python spelling."""
    if isinstance(raw, str):
        return clean_text(raw)
    # (Bounded: str() of an integer of thousands of digits raises ValueError.)
    if _real_number(raw) and _bounded(raw):
        return str(raw)
    raise FieldValueError(f"Enter text, not {_kind(raw)}.")


def _kind(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true or false"
    if isinstance(raw, dict):
        return "an object"
    if isinstance(raw, list | tuple | set | frozenset):
        return "a list"
    if _real_number(raw):
        return "a number" if _bounded(raw) else "that number"
    return "a value of another kind"


@dataclass(frozen=True)
class FieldType:
    """Base type: a trimmed, length-limited string."""

    name: ClassVar[str] = "text"
    label: ClassVar[str] = "Text"
    # The filter language's kind for this type (see filters.OPERATORS_BY_KIND).
    filter_kind: ClassVar[str] = "text"
    has_options: ClassVar[bool] = False

    def validate(self, raw: Any, options: list[str] | None = None) -> Any:
        """Return the value to store (None clears it) or raise FieldValueError."""
        if _blank(raw):
            return None
        return self.clean(_as_text(raw).strip(), options or [])

    def clean(self, value: str, options: list[str]) -> Any:
        if len(value) > TEXT_MAX_LENGTH:
            raise FieldValueError(f"Keep it under {TEXT_MAX_LENGTH} characters.")
        return value

    def display(self, value: Any) -> str:
        return "" if value is None else str(value)


class TextType(FieldType):
    pass


class UrlType(FieldType):
    name = "url"
    label = "URL"

    def clean(self, value: str, options: list[str]) -> str:
        if "://" not in value:
            value = "https://" + value
        try:
            parsed = urlparse(value)
            scheme, hostname = parsed.scheme, parsed.hostname or ""
        except ValueError:  # e.g. "http://[not-an-ip"
            scheme = hostname = ""
        if scheme not in ("http", "https") or "." not in hostname:
            raise FieldValueError("Enter a web address such as https://example.com.")
        return super().clean(value, options)


class EmailType(FieldType):
    name = "email"
    label = "Email"

    def clean(self, value: str, options: list[str]) -> str:
        try:
            # Lower-cased whole: mail providers ignore case, and a channel that sends
            # "Ana@X.com" must find the contact saved as "ana@x.com".
            return validate_email(value, check_deliverability=False).normalized.lower()
        except EmailNotValidError as error:
            raise FieldValueError(f"That is not a valid email address: {error}") from None


class PhoneType(FieldType):
    name = "phone"
    label = "Phone"

    def clean(self, value: str, options: list[str]) -> str:
        return normalize_phone(value)


class NumberType(FieldType):
    name = "number"
    label = "Number"
    filter_kind = "number"

    def validate(self, raw: Any, options: list[str] | None = None) -> Any:
        if _blank(raw):
            return None
        if _real_number(raw):
            number = raw
        elif isinstance(raw, str):
            text = clean_text(raw).strip().replace(",", "")
            try:
                number = float(text)
            except ValueError:
                raise FieldValueError(f"“{raw}” is not a number.") from None
        else:
            raise FieldValueError(f"Enter a number. ({_kind(raw).capitalize()} is not one.)")
        if isinstance(number, float) and not math.isfinite(number):
            raise FieldValueError("Enter a finite number.")
        if not _bounded(number):
            raise FieldValueError("Enter a number between -10^15 and 10^15.")
        number = float(number)
        return int(number) if number.is_integer() else number


class SelectType(FieldType):
    name = "select"
    label = "Select"
    filter_kind = "select"
    has_options = True

    def clean(self, value: str, options: list[str]) -> str:
        if value not in options:
            raise FieldValueError(f"“{value}” is not one of the options: {', '.join(options)}.")
        return value


class MultiSelectType(FieldType):
    name = "multi_select"
    label = "Multi-select"
    filter_kind = "multi_select"
    has_options = True

    def validate(self, raw: Any, options: list[str] | None = None) -> Any:
        if _blank(raw):
            return None
        if isinstance(raw, str):
            values = [v.strip() for v in clean_text(raw).split(",")]
        elif isinstance(raw, list | tuple | set | frozenset):
            values = [v.strip() if isinstance(v, str) else v for v in raw]
        else:
            # A number, a boolean, an object: not something to pick options from.
            raise FieldValueError(f"Choose from the options: {', '.join(options or [])}.")
        chosen: list[str] = []
        for value in values:
            if not isinstance(value, str) or value not in (options or []):
                raise FieldValueError(
                    f"“{value}” is not one of the options: {', '.join(options or [])}."
                )
            if value not in chosen:
                chosen.append(value)
        return chosen or None

    def display(self, value: Any) -> str:
        return ", ".join(value) if isinstance(value, list) else super().display(value)


class DateType(FieldType):
    name = "date"
    label = "Date"
    filter_kind = "date"

    def validate(self, raw: Any, options: list[str] | None = None) -> Any:
        if _blank(raw):
            return None
        if isinstance(raw, datetime):
            value = raw.date()
        elif isinstance(raw, date):
            value = raw
        elif isinstance(raw, str):
            text = clean_text(raw).strip()
            try:
                value = date.fromisoformat(text[:10])
            except ValueError:
                raise FieldValueError("Pick a date (YYYY-MM-DD).") from None
        else:
            raise FieldValueError(f"Pick a date (YYYY-MM-DD), not {_kind(raw)}.")
        if not DATE_MIN_YEAR <= value.year <= DATE_MAX_YEAR:
            raise FieldValueError(
                f"Pick a date between the years {DATE_MIN_YEAR} and {DATE_MAX_YEAR}."
            )
        return value.isoformat()


FIELD_TYPES: dict[str, FieldType] = {
    t.name: t()
    for t in (
        TextType,
        UrlType,
        PhoneType,
        EmailType,
        NumberType,
        SelectType,
        MultiSelectType,
        DateType,
    )
}


def field_type(name: str) -> FieldType:
    try:
        return FIELD_TYPES[name]
    except KeyError:
        raise FieldValueError(f"Unknown field type “{name}”.") from None


_NON_DIGITS = re.compile(r"\D+")


def digits_only(value: str | None) -> str:
    return _NON_DIGITS.sub("", value or "")


def normalize_phone(value: str) -> str:
    """E.164 for any number written in international form ("+44 20 7946 0958")."""
    text = value.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+") and len(digits_only(text)) >= 10:
        text = "+" + text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise FieldValueError(
            "Enter the phone number with its country code, e.g. +44 20 7946 0958."
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise FieldValueError(f"“{value}” is not a possible phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
