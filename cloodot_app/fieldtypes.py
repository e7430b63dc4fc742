"""The eight custom-field types: each owns its validator and the filter kind it is queried by.

The UI maps the same type names to editors (components/cells.py); nothing else branches on
a field's type.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar
from urllib.parse import urlparse

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from cloodot_app.errors import FieldValueError

TEXT_MAX_LENGTH = 500


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []


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
        return self.clean(str(raw).strip(), options or [])

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
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or "." not in (parsed.hostname or ""):
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
        if isinstance(raw, bool):
            raise FieldValueError("Enter a number.")
        if isinstance(raw, int | float):
            number = float(raw)
        else:
            text = str(raw).strip().replace(",", "")
            try:
                number = float(text)
            except ValueError:
                raise FieldValueError(f"“{raw}” is not a number.") from None
        if not math.isfinite(number):
            raise FieldValueError("Enter a finite number.")
        return int(number) if number.is_integer() and abs(number) < 2**53 else number


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
            values = [v.strip() for v in raw.split(",")]
        elif isinstance(raw, list | tuple | set | frozenset):
            values = list(raw)
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
        if isinstance(raw, date):
            return raw.isoformat()[:10]
        try:
            return date.fromisoformat(str(raw).strip()[:10]).isoformat()
        except ValueError:
            raise FieldValueError("Pick a date (YYYY-MM-DD).") from None


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
