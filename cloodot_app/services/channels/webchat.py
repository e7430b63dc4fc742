"""The WebChat widget's endpoint: what a visitor's message may be, the rate limits, the
origin check (the app's one CORS exception), and storing the message.

The widget (assets/webchat.js) keeps a random visitor id in the browser's storage: it
is the contact's id on the webchat channel, so a returning visitor stays one contact.
Each message carries a random id of its own, so a retried send is stored once.
"""

from __future__ import annotations

import re
from functools import cache

import sqlalchemy as sa
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from cloodot_app.models import ChannelConnection, ChannelKind, Workspace
from cloodot_app.services.channels.connections import ConnectionKeys, create_connection
from cloodot_app.services.ingestion import IncomingMessage, IngestResult, ingest_message
from cloodot_app.settings import allowed_origins, settings

MAX_TEXT = 2000
MAX_BODY_BYTES = 8 * 1024
_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
DEMO_SITE_NAME = "Northwind Furniture"


class WebchatHello(BaseModel):
    """The widget opening: who it is (the visitor id from the browser's storage)."""

    model_config = ConfigDict(extra="ignore")

    visitor_id: str = Field(pattern=_ID.pattern)


class WebchatMessage(BaseModel):
    """One message from the widget. Unknown keys are ignored (an older or newer widget)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    visitor_id: str = Field(pattern=_ID.pattern)
    message_id: str = Field(pattern=_ID.pattern)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)


def origin_allowed(keys: ConnectionKeys, origin: str | None) -> bool:
    """Only pages of the site's own addresses may use its chat (exact origin match: the
    browser sends scheme://host[:port], which is how the addresses are stored)."""
    return bool(origin) and keys.kind is ChannelKind.WEBCHAT and origin in keys.allowed_origins


def incoming(message: WebchatMessage) -> IncomingMessage:
    """The ingestion service's message (pydantic's ValidationError for a field it cannot
    store: an email that is not one, a NUL character…)."""
    return IncomingMessage(
        external_id=message.visitor_id,
        text=message.text,
        name=message.name or None,
        email=message.email or None,
        message_id=f"{message.visitor_id}:{message.message_id}",
    )


def receive(session: Session, keys: ConnectionKeys, incoming: IncomingMessage) -> IngestResult:
    """Store the visitor's message in the site's workspace (stored once by its id)."""
    return ingest_message(session, keys.workspace_id, ChannelKind.WEBCHAT.channel.value, incoming)


class WebchatLimiter:
    """Messages per visitor and per site in a moving window: memory in one process,
    Redis (settings.redis_url) when several workers or hosts share the counts."""

    def __init__(
        self,
        storage_uri: str = "memory://",
        per_visitor: str = "10 per minute",
        per_site: str = "120 per minute",
    ) -> None:
        options = {"key_prefix": "cloodot-webchat"} if storage_uri.startswith("redis") else {}
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri, **options))
        self.per_visitor: RateLimitItem = parse(per_visitor)
        self.per_site: RateLimitItem = parse(per_site)

    def allow(self, site: int, visitor: str) -> bool:
        """Count one message; False (nothing counted) when either limit is reached."""
        if not self._limiter.test(self.per_site, "site", str(site)):
            return False
        if not self._limiter.test(self.per_visitor, "visitor", str(site), visitor):
            return False
        self._limiter.hit(self.per_site, "site", str(site))
        self._limiter.hit(self.per_visitor, "visitor", str(site), visitor)
        return True

    def retry_after(self) -> int:
        """Seconds to wait, as a Retry-After header says (the shorter window)."""
        return int(min(self.per_visitor.get_expiry(), self.per_site.get_expiry()))


@cache
def webchat_limiter() -> WebchatLimiter:
    return WebchatLimiter(
        settings.redis_url or "memory://",
        settings.webchat_limit_visitor,
        settings.webchat_limit_site,
    )


def demo_site_key(session: Session) -> str | None:
    """Demo mode's sample page: the demo workspace's "Northwind Furniture" site, made (allowing
    the app's own addresses) the first time it is asked for. None without the workspace."""
    workspace_id = session.execute(
        sa.select(Workspace.id).where(Workspace.slug == settings.workspace_slug)
    ).scalar_one_or_none()
    if workspace_id is None:
        return None
    key = session.execute(
        sa.select(ChannelConnection.key)
        .where(
            ChannelConnection.workspace_id == workspace_id,
            ChannelConnection.kind == ChannelKind.WEBCHAT.value,
            ChannelConnection.name == DEMO_SITE_NAME,
        )
        .order_by(ChannelConnection.id)
        .limit(1)
    ).scalar_one_or_none()
    if key is not None:
        return key
    row = create_connection(
        session,
        workspace_id,
        None,
        ChannelKind.WEBCHAT,
        DEMO_SITE_NAME,
        allowed_origins=allowed_origins(settings.app_url),
        ask_details=True,
    )
    return row.key
