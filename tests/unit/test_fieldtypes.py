"""The eight custom-field types: what each one stores, and what it refuses (with words a
person can act on). Pure Python: no database."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from cloodot_app.fieldtypes import (
    FIELD_TYPES,
    FieldValueError,
    digits_only,
    field_type,
    normalize_phone,
)

OPTIONS = ["Free", "Pro", "Enterprise"]


def validate(type_name: str, raw, options=None):
    return FIELD_TYPES[type_name].validate(raw, options)


def test_all_eight_types_are_registered_with_their_filter_kind():
    assert {name: t.filter_kind for name, t in FIELD_TYPES.items()} == {
        "text": "text",
        "url": "text",
        "phone": "text",
        "email": "text",
        "number": "number",
        "select": "select",
        "multi_select": "multi_select",
        "date": "date",
    }
    assert {name for name, t in FIELD_TYPES.items() if t.has_options} == {
        "select",
        "multi_select",
    }


def test_unknown_type_is_a_readable_error():
    with pytest.raises(FieldValueError, match="Unknown field type “colour”"):
        field_type("colour")


@pytest.mark.parametrize("type_name", sorted(FIELD_TYPES))
@pytest.mark.parametrize("blank", [None, "", "   ", "\t\n", []])
def test_blank_clears_the_value(type_name, blank):
    assert validate(type_name, blank, OPTIONS) is None


# --------------------------------------------------------------------------- good values


@pytest.mark.parametrize(
    ("type_name", "raw", "stored"),
    [
        # text: trimmed, kept as typed otherwise
        ("text", "  Acme Ltd  ", "Acme Ltd"),
        ("text", "'; DROP TABLE contact; --", "'; DROP TABLE contact; --"),
        ("text", "x" * 500, "x" * 500),
        ("text", 42, "42"),
        # url: scheme added when missing, kept otherwise
        ("url", "example.com", "https://example.com"),
        ("url", " https://acme.example.com/path?q=1 ", "https://acme.example.com/path?q=1"),
        ("url", "http://eve.example.net", "http://eve.example.net"),
        # email: lower-cased whole, so channels that vary the case find the same contact
        ("email", "Someone@EXAMPLE.COM", "someone@example.com"),
        ("email", "  bob@Sample.Org ", "bob@sample.org"),
        # phone: E.164, whatever punctuation or international prefix was typed
        ("phone", "+44 20 7946 0958", "+442079460958"),
        ("phone", "+44 (20) 7946-0958", "+442079460958"),
        ("phone", "0044 20 7946 0958", "+442079460958"),
        ("phone", "442079460958", "+442079460958"),
        ("phone", "+1 (415) 555-0199", "+14155550199"),
        # number: thousands separators, whole numbers as int
        ("number", "1,200.50", 1200.5),
        ("number", " 42 ", 42),
        ("number", "-0.5", -0.5),
        ("number", 3.0, 3),
        ("number", 7, 7),
        ("number", "1e3", 1000),
        # select: one of the options, exactly
        ("select", "Pro", "Pro"),
        ("select", "  Enterprise ", "Enterprise"),
        # multi-select: a list or comma-separated text, duplicates dropped, order kept
        ("multi_select", "Pro, Free", ["Pro", "Free"]),
        ("multi_select", ["Enterprise", "Free", "Enterprise"], ["Enterprise", "Free"]),
        ("multi_select", ("Free",), ["Free"]),
        # date: ISO, from text, date or datetime
        ("date", "2026-02-03", "2026-02-03"),
        ("date", "2026-02-03T10:30:00+02:00", "2026-02-03"),
        ("date", " 2024-02-29 ", "2024-02-29"),
        ("date", date(2026, 1, 2), "2026-01-02"),
        ("date", datetime(2026, 1, 2, 23, 59), "2026-01-02"),
    ],
)
def test_good_values_are_normalized(type_name, raw, stored):
    result = validate(type_name, raw, OPTIONS)
    assert result == stored
    assert type(result) is type(stored)


# --------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("type_name", "raw", "message"),
    [
        ("text", "x" * 501, "Keep it under 500 characters."),
        ("url", "ftp://files.example.com", "Enter a web address such as https://example.com."),
        ("url", "javascript:alert(1)", "Enter a web address such as https://example.com."),
        ("url", "http://localhost", "Enter a web address such as https://example.com."),
        ("url", "https://" + "a" * 500 + ".com", "Keep it under 500 characters."),
        ("email", "not-an-email", "That is not a valid email address: "),
        ("email", "someone@nodot", "That is not a valid email address: "),
        ("email", "a@@example.com", "That is not a valid email address: "),
        ("phone", "12", "Enter the phone number with its country code"),
        ("phone", "call me", "Enter the phone number with its country code"),
        ("phone", "020 7946 0958", "Enter the phone number with its country code"),
        ("phone", "+44 20", "“+44 20” is not a possible phone number."),
        ("number", "abc", "“abc” is not a number."),
        ("number", "12 apples", "“12 apples” is not a number."),
        ("number", True, "Enter a number."),
        ("number", "nan", "Enter a finite number."),
        ("number", "inf", "Enter a finite number."),
        ("number", float("-inf"), "Enter a finite number."),
        ("select", "Gold", "“Gold” is not one of the options: Free, Pro, Enterprise."),
        ("select", "pro", "“pro” is not one of the options: Free, Pro, Enterprise."),
        ("multi_select", "Pro, Gold", "“Gold” is not one of the options: Free, Pro, Enterprise."),
        ("multi_select", ["Free", 3], "“3” is not one of the options"),
        ("multi_select", 5, "Free, Pro, Enterprise"),
        ("multi_select", True, "Free, Pro, Enterprise"),
        ("date", "31/02/2026", "Pick a date (YYYY-MM-DD)."),
        ("date", "2026-02-30", "Pick a date (YYYY-MM-DD)."),
        ("date", "tomorrow", "Pick a date (YYYY-MM-DD)."),
    ],
)
def test_bad_values_raise_a_readable_error(type_name, raw, message):
    with pytest.raises(FieldValueError) as caught:
        validate(type_name, raw, OPTIONS)
    text = str(caught.value)
    assert message in text
    # Written for a person: a sentence, no Python or library internals.
    assert text[:1].isupper() or text[:1] == "“"
    assert "Traceback" not in text and "Error(" not in text


def test_select_without_options_accepts_nothing():
    with pytest.raises(FieldValueError):
        validate("select", "Pro", None)
    with pytest.raises(FieldValueError):
        validate("multi_select", ["Pro"], [])


# --------------------------------------------------------------------------- helpers


def test_display():
    assert FIELD_TYPES["multi_select"].display(["Pro", "Free"]) == "Pro, Free"
    assert FIELD_TYPES["multi_select"].display(None) == ""
    assert FIELD_TYPES["number"].display(1200.5) == "1200.5"
    assert FIELD_TYPES["text"].display(None) == ""
    assert FIELD_TYPES["date"].display("2026-02-03") == "2026-02-03"


def test_digits_only_and_normalize_phone():
    assert digits_only("+44 (20) 7946-0958") == "442079460958"
    assert digits_only(None) == ""
    assert digits_only("no digits") == ""
    assert normalize_phone("+33 1 23 45 67 89") == "+33123456789"


# --------------------------------------------------------------------------- wrong kinds
# Event handlers pass JSON from the browser straight to validate(): a value of the wrong
# kind is refused with a sentence, never stored as its Python spelling nor left to crash.

TEXT_LIKE = ["text", "url", "phone", "email", "select"]


@pytest.mark.parametrize("type_name", TEXT_LIKE)
@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"first": "Ann"}, "not an object"),
        (["Pro"], "not a list"),
        (True, "not true or false"),
        (False, "not true or false"),
        (10**400, "not that number"),
        (float("nan"), "not that number"),
    ],
    ids=["object", "list", "true", "false", "huge-int", "nan"],
)
def test_text_like_types_refuse_values_that_are_not_text(type_name, raw, needle):
    with pytest.raises(FieldValueError, match=needle):
        validate(type_name, raw, OPTIONS)


@pytest.mark.parametrize("type_name", ["text", "url", "email", "phone", "select", "number", "date"])
@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("Acme\x00Ltd", "NUL character"),
        ("\ud800", "not valid Unicode"),
    ],
)
def test_text_with_nul_or_broken_unicode_is_refused(type_name, raw, needle):
    with pytest.raises(FieldValueError, match=needle):
        validate(type_name, raw, OPTIONS)


def test_multi_select_refuses_nul_and_non_text_items():
    with pytest.raises(FieldValueError, match="NUL character"):
        validate("multi_select", "Pro,\x00", OPTIONS)
    with pytest.raises(FieldValueError, match="is not one of the options"):
        validate("multi_select", [{"Pro": 1}], OPTIONS)
    with pytest.raises(FieldValueError, match="is not one of the options"):
        validate("multi_select", ["Pro", ["Free"]], OPTIONS)
    with pytest.raises(FieldValueError, match="Choose from the options"):
        validate("multi_select", {"Pro": True}, OPTIONS)
    assert validate("multi_select", [" Pro "], OPTIONS) == ["Pro"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (10**400, "Enter a number between -10^15 and 10^15."),
        (-(10**20), "Enter a number between -10^15 and 10^15."),
        (1e15, "Enter a number between -10^15 and 10^15."),
        ("1e400", "Enter a finite number."),
        ("9" * 400, "Enter a finite number."),
        ("1" * 30, "Enter a number between -10^15 and 10^15."),
        ({"value": 3}, "Enter a number."),
        ([3], "Enter a number."),
        (False, "Enter a number."),
    ],
)
def test_number_refuses_what_is_not_a_number_in_bounds(raw, message):
    with pytest.raises(FieldValueError) as caught:
        validate("number", raw)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (999_999_999_999_999, 999_999_999_999_999),
        ("-999,999,999,999,999", -999_999_999_999_999),
        (0.1, 0.1),
        ("0", 0),
    ],
)
def test_number_accepts_values_up_to_the_bound(raw, stored):
    result = validate("number", raw)
    assert result == stored
    assert type(result) is type(stored)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0001-01-01", "between the years 1900 and 2999"),
        ("1899-12-31", "between the years 1900 and 2999"),
        ("3000-01-01", "between the years 1900 and 2999"),
        (date(9999, 12, 31), "between the years 1900 and 2999"),
        (20260101, "Pick a date (YYYY-MM-DD)"),
        ({"year": 2026}, "Pick a date (YYYY-MM-DD)"),
        (["2026-01-01"], "Pick a date (YYYY-MM-DD)"),
        (True, "Pick a date (YYYY-MM-DD)"),
    ],
)
def test_date_refuses_other_kinds_and_far_years(raw, message):
    with pytest.raises(FieldValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate("date", raw)


def test_date_bounds_are_inclusive():
    assert validate("date", "1900-01-01") == "1900-01-01"
    assert validate("date", "2999-12-31") == "2999-12-31"


def test_numbers_are_still_accepted_as_text():
    """A number field changed to text keeps its values ("12.5"), and select options may be
    numbers written as text."""
    assert validate("text", 12.5) == "12.5"
    assert validate("select", 12, ["12"]) == "12"


@pytest.mark.parametrize("raw", ["http://[not-an-ip", "https://[::1"])
def test_url_that_cannot_be_parsed_is_a_readable_error(raw):
    with pytest.raises(FieldValueError, match="Enter a web address"):
        validate("url", raw)
