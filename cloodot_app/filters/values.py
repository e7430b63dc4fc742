"""Value shapes: what each operator's value must look like, coerced to its type or refused
with a FilterError written for the user. Every bound of limits.py is applied here."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from cloodot_app.errors import FilterError
from cloodot_app.filters.limits import (
    MAX_DATE,
    MAX_DAYS,
    MAX_ID,
    MAX_NUMBER,
    MAX_TEXT_LENGTH,
    MAX_VALUES,
    MIN_DATE,
    MIN_DAYS,
)

if TYPE_CHECKING:
    from cloodot_app.filters.spec import FieldInfo

SHOWN_LENGTH = 40


def shown(value: Any) -> str:
    """A value as an error message may quote it: short, without NUL, never raising (a
    5,000-digit integer cannot even be turned into text)."""
    try:
        text = value if isinstance(value, str) else str(value)
    except (ValueError, RecursionError):
        return "…"
    text = text.replace("\x00", "")
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 1] + "…"


def is_text(value: str) -> bool:
    """Can the databases store it? (A lone surrogate, which JSON can carry, cannot be
    encoded as UTF-8.)"""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_size(info: FieldInfo, value: Any) -> None:
    """Bounds every operator shares: lists of at most MAX_VALUES scalars, strings of at most
    MAX_TEXT_LENGTH characters and without NUL (PostgreSQL refuses NUL in text)."""
    if isinstance(value, list | tuple):
        if len(value) > MAX_VALUES:
            raise FilterError(f"Choose at most {MAX_VALUES} values for “{info.label}”.")
        for item in value:
            if isinstance(item, list | tuple | dict):
                raise FilterError(f"“{info.label}” takes a value or a list of values.")
            _check_text(info, item)
    else:
        _check_text(info, value)


def _check_text(info: FieldInfo, value: Any) -> None:
    if not isinstance(value, str):
        return
    if "\x00" in value:
        raise FilterError(f"A value for “{info.label}” contains a NUL character.")
    if not is_text(value):
        raise FilterError(f"A value for “{info.label}” contains characters that are not text.")
    if len(value) > MAX_TEXT_LENGTH:
        raise FilterError(
            f"Keep values for “{info.label}” to {MAX_TEXT_LENGTH} characters or fewer."
        )


def _none(info: FieldInfo, value: Any) -> None:
    return None


def _text(info: FieldInfo, value: Any) -> str:
    try:
        text = str(value).strip() if isinstance(value, str | int | float) else ""
    except ValueError:  # an integer of thousands of digits
        text = "x" * (MAX_TEXT_LENGTH + 1)
    if not text:
        raise FilterError(f"Type a value for “{info.label}”.")
    if len(text) > MAX_TEXT_LENGTH:
        raise FilterError(
            f"Keep values for “{info.label}” to {MAX_TEXT_LENGTH} characters or fewer."
        )
    return text


def number(info: FieldInfo, value: Any) -> float:
    if isinstance(value, bool):
        raise FilterError(f"“{info.label}” needs a number.")
    if isinstance(value, int) and not _finite_and_bounded(value):
        raise FilterError(_number_range(info))
    try:
        result = float(value.strip() if isinstance(value, str) else str(value))
    except (TypeError, ValueError, OverflowError):
        raise FilterError(f"“{info.label}” needs a number, not “{shown(value)}”.") from None
    if not math.isfinite(result):
        raise FilterError(f"“{info.label}” needs a number, not “{shown(value)}”.")
    if abs(result) >= MAX_NUMBER:
        raise FilterError(_number_range(info))
    return result


def _finite_and_bounded(value: int | float) -> bool:
    # Compared as numbers (a 5,000-digit integer can be neither a float nor text).
    if isinstance(value, int):
        return abs(value) < MAX_NUMBER
    return math.isfinite(value) and abs(value) < MAX_NUMBER


def _number_range(info: FieldInfo) -> str:
    return f"“{info.label}” needs a number between -{MAX_NUMBER:,.0f} and {MAX_NUMBER:,.0f}."


def day(info: FieldInfo, value: Any) -> date:
    try:
        result = date.fromisoformat(value.strip()[:10] if isinstance(value, str) else "")
    except ValueError:
        raise FilterError(
            f"“{info.label}” needs a date (YYYY-MM-DD), not “{shown(value)}”."
        ) from None
    if not MIN_DATE <= result <= MAX_DATE:
        raise FilterError(
            f"“{info.label}” needs a date between {MIN_DATE.isoformat()} and "
            f"{MAX_DATE.isoformat()}, not {result.isoformat()}."
        )
    return result


def _date(info: FieldInfo, value: Any) -> str:
    return day(info, value).isoformat()


def _days(info: FieldInfo, value: Any) -> int:
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        days = int(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        raise FilterError(f"“{info.label}” needs a whole number of days.") from None
    if days < MIN_DAYS or days > MAX_DAYS:
        raise FilterError(f"The number of days must be between {MIN_DAYS} and {MAX_DAYS}.")
    return days


def _pair(info: FieldInfo, value: Any) -> tuple[Any, Any]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise FilterError(f"“{info.label}” between needs two values.")
    return value[0], value[1]


def _number_range_value(info: FieldInfo, value: Any) -> list[float]:
    low, high = (number(info, v) for v in _pair(info, value))
    if low > high:
        raise FilterError(f"“{info.label}”: the first number must not be above the second.")
    return [low, high]


def _date_range(info: FieldInfo, value: Any) -> list[str]:
    start, end = (day(info, v) for v in _pair(info, value))
    if start > end:
        raise FilterError(f"“{info.label}”: the start date must not be after the end date.")
    return [start.isoformat(), end.isoformat()]


def _options(info: FieldInfo, value: Any) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    texts = [shown(v) if not isinstance(v, str) else v for v in values if v is not None]
    texts = [t for t in texts if t != ""]
    if not texts:
        raise FilterError(f"Choose at least one option for “{info.label}”.")
    for option in texts:
        if option not in info.options:
            raise FilterError(f"“{info.label}” has no option “{shown(option)}”.")
    return list(dict.fromkeys(texts))


def _option(info: FieldInfo, value: Any) -> str:
    return _options(info, [value])[0]


def _boolean(info: FieldInfo, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no"):
        return value.lower() in ("true", "yes")
    raise FilterError(f"“{info.label}” needs yes or no.")


def _labels(info: FieldInfo, value: Any) -> list[int]:
    values = value if isinstance(value, list | tuple) else [value]
    if not values:
        raise FilterError("Choose at least one label.")
    ids = []
    for item in values:
        try:
            if isinstance(item, bool) or (isinstance(item, float) and not item.is_integer()):
                raise ValueError(item)
            label_id = int(item.strip() if isinstance(item, str) else item)
        except (TypeError, ValueError, OverflowError):
            raise FilterError(f"“{shown(item)}” is not a label.") from None
        if not 1 <= label_id <= MAX_ID or label_id not in info.label_names:
            raise FilterError(f"A label used here (#{shown(label_id)}) has been deleted.")
        ids.append(label_id)
    return list(dict.fromkeys(ids))


# Shape name -> coercer. An operator record names its shape.
SHAPES: dict[str, Callable[[FieldInfo, Any], Any]] = {
    "none": _none,
    "text": _text,
    "number": number,
    "number_range": _number_range_value,
    "date": _date,
    "date_range": _date_range,
    "days": _days,
    "option": _option,
    "options": _options,
    "boolean": _boolean,
    "labels": _labels,
}


# --------------------------------------------------------------------------- in words


def word(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return shown(value) if not isinstance(value, str) else value


def words_for(shape: str, info: FieldInfo, value: Any) -> dict[str, str]:
    """The placeholders an operator's words template may use: {value}, {low}, {high}."""
    if shape == "boolean":
        return {"value": "yes" if value else "no"}
    if shape == "labels" and isinstance(value, list):
        value = [info.label_names.get(_as_id(v), f"#{word(v)}") for v in value]
    if shape.endswith("_range") and isinstance(value, list) and len(value) == 2:
        return {"low": word(value[0]), "high": word(value[1])}
    if isinstance(value, list):
        return {"value": ", ".join(word(v) for v in value)}
    return {"value": word(value)}


def _as_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0
