"""Tickets: short-lived, signed, single-use permissions the app hands the browser for one
HTTP request (a CSV download, the hand-over of a new sign-in to an HttpOnly cookie).

A ticket is `<base64 JSON>.<HMAC-SHA256>`: readable, not forgeable, and bound to one
purpose (an export ticket is no sign-in ticket). Each carries a random nonce that the
route claims once (`accounts.use_ticket_once`), so a ticket seen in a log or a browser
history is worth nothing after its one use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from functools import cache
from typing import Any

from cloodot_app.errors import TicketError

INVALID = "This link is not valid."


@cache
def _process_secret() -> str:
    return secrets.token_urlsafe(32)


def ticket_secret() -> str:
    """The key tickets are signed with: CLOODOT_SECRET_KEY, or else a random key made once
    per process. With several workers, set CLOODOT_SECRET_KEY (start-up refuses to run
    several workers without it): a ticket signed by one worker is refused by another."""
    return os.environ.get("CLOODOT_SECRET_KEY") or _process_secret()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(purpose: str, secret: str, body: str) -> str:
    key = hashlib.sha256(f"cloodot.contacts-{purpose}|".encode() + secret.encode()).digest()
    return _b64encode(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())


def sign(
    purpose: str,
    payload: dict[str, Any],
    secret: str,
    ttl_seconds: float,
    *,
    now: float | None = None,
) -> str:
    """A URL-safe ticket for `purpose` carrying `payload`, valid for `ttl_seconds`."""
    issued = time.time() if now is None else now
    data = {**payload, "exp": issued + ttl_seconds, "n": secrets.token_urlsafe(16)}
    body = _b64encode(json.dumps(data, separators=(",", ":")).encode())
    return f"{body}.{_signature(purpose, secret, body)}"


def read(
    purpose: str,
    ticket: str,
    secret: str,
    *,
    now: float | None = None,
    expired: str = "This link has expired.",
) -> dict[str, Any]:
    """The payload of a ticket `sign` made for `purpose` with `secret` (with its nonce
    under "n"). Raises TicketError when it is malformed, for another purpose, signed with
    another key, altered or expired."""
    body, dot, signature = (ticket or "").strip().partition(".")
    if not dot or not body or not signature or len(ticket) > 8192:
        raise TicketError(INVALID)
    if not hmac.compare_digest(signature.encode(), _signature(purpose, secret, body).encode()):
        raise TicketError(INVALID)
    try:
        payload = json.loads(_b64decode(body))
    except ValueError:
        raise TicketError(INVALID) from None
    expires, nonce = payload.get("exp"), payload.get("n")
    if not isinstance(expires, int | float) or not isinstance(nonce, str):
        raise TicketError(INVALID)
    if (time.time() if now is None else now) >= expires:
        raise TicketError(expired)
    return payload
