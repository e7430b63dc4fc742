"""The secrets accounts hand out (session tokens, invitation and reset links) and the links
that carry them.

Each is a 256-bit random string; the database keeps only its SHA-256, so a copy of the
database signs no one in.
"""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlencode

from cloodot_app.settings import settings


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh token and its hash: the token for whoever gets it, the hash to store."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def app_link(path: str, token: str) -> str:
    """A link to the app's page at `path` carrying `token` (for mails)."""
    return f"{settings.app_url}{path}?{urlencode({'token': token})}"
