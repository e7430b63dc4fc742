"""What the webhook parsers produce, and the careful reading of a provider's JSON.

A parser turns one POST into a `Batch`: the messages to store (each with its sender's id
on the channel, the provider's message id and a readable preview) and how many updates
were acknowledged without storing anything (delivery and read statuses, reads, template
updates…). A body that does not have the documented shape raises `MalformedPayload`
naming where (the route answers 400 and nothing is stored).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cloodot_app.errors import UserError
from cloodot_app.models import Direction, utcnow

UNSUPPORTED = "Unsupported message"
# The longest preview and name stored (the message column holds 4,000 characters).
MAX_TEXT = 4000
MAX_NAME = 200
# Ids longer than this are not a provider's: the columns hold 200 characters.
MAX_ID = 200
# Times a provider gives that are not plausible (before 2000, or in the future) are
# replaced by the time of arrival rather than refused.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_CLOCK_SKEW = timedelta(minutes=5)


class MalformedPayload(UserError):
    """The body is not what the provider's schema says (HTTP 400, nothing stored)."""


@dataclass(frozen=True)
class ParsedMessage:
    sender_id: str  # the contact's id on the channel (wa_id, PSID, IGSID, visitor id)
    message_id: str  # the provider's id: a retried delivery is stored once
    text: str  # a readable preview: "📷 Photo: caption"
    direction: Direction = Direction.INCOMING
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    sent_at: datetime | None = None


@dataclass
class Batch:
    messages: list[ParsedMessage] = field(default_factory=list)
    # Updates acknowledged and not stored (statuses, reads, deliveries, other fields).
    ignored: int = 0


def storable(text: str, limit: int = MAX_TEXT) -> str:
    """Text any database column can hold: no NUL, no lone surrogate, at most `limit`."""
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def with_caption(label: str, caption: str | None) -> str:
    """ "📷 Photo" or "📷 Photo: caption"."""
    caption = (caption or "").strip()
    return f"{label}: {caption}" if caption else label


# --------------------------------------------------------------------------- reading JSON


def where(path: list[str | int]) -> str:
    shown = ""
    for part in path:
        shown += f"[{part}]" if isinstance(part, int) else (f".{part}" if shown else part)
    return shown or "body"


def obj(value: Any, path: list[str | int]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where(path)} must be an object.")
    return value


def items(value: Any, path: list[str | int], *, optional: bool = True) -> list[Any]:
    """A list (a missing one is empty when `optional`)."""
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{where(path)} must be a list.")
    return value


def ident(value: Any, path: list[str | int]) -> str:
    """A provider id: text (or a whole number, as some ids are sent), 1 to 200 characters."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedPayload(f"{where(path)} must be an id (text).")
    text = str(value).strip() if isinstance(value, str) else str(value)
    if not text or len(text) > MAX_ID or not text.isprintable():
        raise MalformedPayload(f"{where(path)} is not a valid id.")
    return storable(text, MAX_ID)


def text_of(value: Any) -> str:
    """A text field that may be missing or of another type: "" then."""
    return storable(value) if isinstance(value, str) else ""


def moment(value: Any, *, milliseconds: bool = False) -> datetime | None:
    """A Unix timestamp (seconds as text or a number; milliseconds for Messenger), or
    None when missing or implausible."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if isinstance(value, bool) or number != number:  # NaN
        return None
    seconds = number / 1000 if milliseconds else number
    try:
        sent = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    if sent < _EARLIEST or sent > utcnow() + _CLOCK_SKEW:
        return None
    return sent.replace(microsecond=0) if not milliseconds else sent
