"""Channel connections (Settings → Channels): connect, list, rotate, change, disconnect.

Admins only: every change names its actor, who must hold MANAGE_CHANNELS in this very
workspace (the state guard checked it already; this is the second lock), and is audited
in the same transaction. None as actor is the server itself (tests, start-up).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.access import Capability, Identity, require
from cloodot_app.errors import AccessDenied, ChannelError, NotFound
from cloodot_app.fieldtypes import FieldValueError, clean_text
from cloodot_app.models import ChannelConnection, ChannelKind, utcnow
from cloodot_app.services import audit

MAX_NAME = 120
MAX_ORIGINS = 20
# Meta's app secrets are 32 hexadecimal characters; other lengths are accepted within
# these bounds (a secret is whatever the dashboard shows), but never blanks or spaces.
MIN_SECRET, MAX_SECRET = 16, 200
SECRET_HINT_LENGTH = 4
# How often the "last delivery" time is written: at most once a minute per connection,
# so that a busy webhook does not queue on one row.
DELIVERY_STAMP_EVERY = timedelta(minutes=1)

META_KINDS = (ChannelKind.WHATSAPP, ChannelKind.MESSENGER, ChannelKind.INSTAGRAM)

KIND_WORDS = {
    ChannelKind.WHATSAPP: "WhatsApp",
    ChannelKind.MESSENGER: "Messenger",
    ChannelKind.INSTAGRAM: "Instagram",
    ChannelKind.WEBCHAT: "WebChat",
}


@dataclass(frozen=True)
class ConnectionRow:
    """A connection as the settings page shows it: never the whole app secret."""

    id: int
    kind: ChannelKind
    name: str
    key: str
    verify_token: str
    secret_hint: str  # the app secret's last characters ("" for WebChat)
    allowed_origins: list[str]
    ask_details: bool
    created_at: datetime
    secret_changed_at: datetime | None
    last_delivery_at: datetime | None


@dataclass(frozen=True)
class ConnectionKeys:
    """What a webhook or the WebChat endpoint needs to authenticate a delivery."""

    id: int
    workspace_id: int
    kind: ChannelKind
    verify_token: str
    app_secret: str
    allowed_origins: tuple[str, ...]
    ask_details: bool
    name: str


def _kind(value: str | ChannelKind) -> ChannelKind:
    try:
        return ChannelKind(value)
    except ValueError:
        names = ", ".join(KIND_WORDS[k] for k in ChannelKind)
        raise ChannelError(f"Choose what to connect: {names}.") from None


def _admin(actor: Identity | None, workspace_id: int) -> None:
    if actor is None:
        return
    require(actor, Capability.MANAGE_CHANNELS)
    if actor.workspace_id != workspace_id:
        raise AccessDenied("You cannot manage another workspace from this one.")
    if actor.demo:
        raise AccessDenied("In the demo, the channel connections stay as they are.")


def _name(value: str) -> str:
    try:
        name = clean_text(value or "").strip()
    except FieldValueError as error:
        raise ChannelError(str(error)) from None
    if not name:
        raise ChannelError("Give the connection a name, e.g. the number, Page or site it is for.")
    if len(name) > MAX_NAME:
        raise ChannelError(f"The name is {len(name)} characters long; the most is {MAX_NAME}.")
    return name


def _secret(value: str) -> str:
    secret = (value or "").strip()
    if not secret:
        raise ChannelError(
            "Paste the app secret from the Meta app dashboard (App settings → Basic)."
        )
    if not (secret.isascii() and secret.isprintable()) or any(c.isspace() for c in secret):
        raise ChannelError("An app secret has letters and digits only, no spaces.")
    if not MIN_SECRET <= len(secret) <= MAX_SECRET:
        raise ChannelError(
            f"That app secret is {len(secret)} characters long; Meta's are 32. "
            "Copy the whole value from App settings → Basic."
        )
    return secret


_DEFAULT_PORTS = {"http": 80, "https": 443}


def web_origin(value: str) -> str:
    """The origin a browser sends for pages at `value` ("https://www.example.com/shop"
    → "https://www.example.com"): lower case, without the default port, path or query.
    ChannelError when it is not an http(s) address."""
    text = (value or "").strip()
    shown = text[:80]
    if "*" in text:
        raise ChannelError(f"“{shown}”: list each site's address; wildcards are not accepted.")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ChannelError(f"“{shown}” is not a web address.") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        raise ChannelError(f"“{shown}” is not a web address; write it as https://www.example.com.")
    if not host.isascii():
        try:  # what a browser sends for an internationalised name
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ChannelError(f"“{shown}” is not a web address.") from None
    if not all(c.isalnum() or c in ".-:" for c in host):
        raise ChannelError(f"“{shown}” has characters a web address cannot have.")
    host = f"[{host}]" if ":" in host else host
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def clean_origins(values: list[str]) -> list[str]:
    """Each site address as its origin, in the order given, without repeats."""
    origins: list[str] = []
    for value in values:
        if not (value or "").strip():
            continue
        origin = web_origin(value)
        if origin not in origins:
            origins.append(origin)
    if not origins:
        raise ChannelError(
            "Add the address of at least one website the widget will be on, "
            "e.g. https://www.example.com."
        )
    if len(origins) > MAX_ORIGINS:
        raise ChannelError(f"A site can list at most {MAX_ORIGINS} addresses.")
    return origins


def _row(connection: ChannelConnection) -> ConnectionRow:
    assert connection.id is not None
    return ConnectionRow(
        id=connection.id,
        kind=ChannelKind(connection.kind),
        name=connection.name,
        key=connection.key,
        verify_token=connection.verify_token,
        secret_hint=connection.app_secret[-SECRET_HINT_LENGTH:] if connection.app_secret else "",
        allowed_origins=list(connection.allowed_origins or []),
        ask_details=connection.ask_details,
        created_at=connection.created_at,
        secret_changed_at=connection.secret_changed_at,
        last_delivery_at=connection.last_delivery_at,
    )


def _get(session: Session, workspace_id: int, connection_id: int) -> ChannelConnection:
    connection = session.execute(
        sa.select(ChannelConnection).where(
            ChannelConnection.id == connection_id,
            ChannelConnection.workspace_id == workspace_id,
        )
    ).scalar_one_or_none()
    if connection is None:
        raise NotFound("That channel connection no longer exists.")
    return connection


def _describe(connection: ChannelConnection) -> str:
    return f"{KIND_WORDS[ChannelKind(connection.kind)]} “{connection.name}”"


def list_connections(session: Session, workspace_id: int) -> list[ConnectionRow]:
    """The workspace's connections, by kind (WhatsApp, Messenger, Instagram, WebChat)
    then oldest first."""
    rows = session.execute(
        sa.select(ChannelConnection)
        .where(ChannelConnection.workspace_id == workspace_id)
        .order_by(ChannelConnection.id)
    ).scalars()
    order = {kind: index for index, kind in enumerate(ChannelKind)}
    return sorted((_row(c) for c in rows), key=lambda r: order[r.kind])


def create_connection(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    kind: str | ChannelKind,
    name: str,
    *,
    app_secret: str = "",
    allowed_origins: list[str] | None = None,
    ask_details: bool = True,
) -> ConnectionRow:
    """Connect a channel. Meta kinds need the app secret and get a new verify token;
    WebChat needs the sites' addresses. Nothing is stored when a value is refused."""
    _admin(actor, workspace_id)
    channel_kind = _kind(kind)
    connection = ChannelConnection(
        workspace_id=workspace_id,
        kind=channel_kind.value,
        name=_name(name),
        key=secrets.token_urlsafe(16),
        created_by=actor.user_id if actor is not None else None,
    )
    if channel_kind is ChannelKind.WEBCHAT:
        connection.allowed_origins = clean_origins(allowed_origins or [])
        connection.ask_details = bool(ask_details)
    else:
        connection.app_secret = _secret(app_secret)
        connection.verify_token = secrets.token_urlsafe(24)
        connection.secret_changed_at = utcnow()
    return _saved(
        session,
        workspace_id,
        actor,
        connection,
        "channels.connect",
        lambda: f"Connected {_describe(connection)}",
        {"kind": channel_kind.value, "name": connection.name}
        | (
            {"allowed_origins": connection.allowed_origins}
            if channel_kind is ChannelKind.WEBCHAT
            else {}
        ),
    )


def _saved(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    connection: ChannelConnection,
    action: str,
    summary: Callable[[], str],
    details: dict[str, Any] | None = None,
) -> ConnectionRow:
    """Write `connection` and its audit entry in the caller's transaction. `summary` is
    called after the flush, when a new connection has its id."""
    session.add(connection)
    session.flush()
    audit.record(
        session,
        workspace_id,
        actor,
        action,
        summary(),
        {"connection_id": connection.id} | (details or {}),
    )
    return _row(connection)


def rotate_verify_token(
    session: Session, workspace_id: int, actor: Identity | None, connection_id: int
) -> ConnectionRow:
    """A new verify token: the next subscription handshake must present it."""
    _admin(actor, workspace_id)
    connection = _get(session, workspace_id, connection_id)
    if ChannelKind(connection.kind) not in META_KINDS:
        raise ChannelError("A WebChat site has no verify token.")
    connection.verify_token = secrets.token_urlsafe(24)
    return _saved(
        session,
        workspace_id,
        actor,
        connection,
        "channels.verify_token_rotate",
        lambda: f"Rotated the verify token of {_describe(connection)}",
    )


def replace_app_secret(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    connection_id: int,
    app_secret: str,
) -> ConnectionRow:
    """The app secret after a reset in Meta's dashboard: deliveries signed with the old
    one are refused from now on."""
    _admin(actor, workspace_id)
    connection = _get(session, workspace_id, connection_id)
    if ChannelKind(connection.kind) not in META_KINDS:
        raise ChannelError("A WebChat site has no app secret.")
    secret = _secret(app_secret)
    if secrets.compare_digest(secret, connection.app_secret):
        raise ChannelError("That is the secret already in use: paste the new one.")
    connection.app_secret = secret
    connection.secret_changed_at = utcnow()
    return _saved(
        session,
        workspace_id,
        actor,
        connection,
        "channels.app_secret_replace",
        lambda: f"Replaced the app secret of {_describe(connection)}",
    )


def update_webchat(
    session: Session,
    workspace_id: int,
    actor: Identity | None,
    connection_id: int,
    *,
    name: str,
    allowed_origins: list[str],
    ask_details: bool,
) -> ConnectionRow:
    """A WebChat site's name, addresses and whether it asks for name and email."""
    _admin(actor, workspace_id)
    connection = _get(session, workspace_id, connection_id)
    if ChannelKind(connection.kind) is not ChannelKind.WEBCHAT:
        raise ChannelError("Only a WebChat site has allowed addresses.")
    before = list(connection.allowed_origins or [])
    connection.name = _name(name)
    connection.allowed_origins = clean_origins(allowed_origins)
    connection.ask_details = bool(ask_details)
    return _saved(
        session,
        workspace_id,
        actor,
        connection,
        "channels.webchat_change",
        lambda: f"Changed the WebChat site “{connection.name}”",
        {
            "allowed_origins": {"old": before, "new": connection.allowed_origins},
            "ask_details": connection.ask_details,
        },
    )


def delete_connection(
    session: Session, workspace_id: int, actor: Identity | None, connection_id: int
) -> str:
    """Disconnect: its webhook URL or site key stops working at once. The contacts and
    messages it brought stay. Returns what was disconnected, in words."""
    _admin(actor, workspace_id)
    connection = _get(session, workspace_id, connection_id)
    described = _describe(connection)
    audit.record(
        session,
        workspace_id,
        actor,
        "channels.disconnect",
        f"Disconnected {described}",
        {"connection_id": connection.id, "kind": connection.kind, "name": connection.name},
    )
    session.delete(connection)
    session.flush()
    return described


def connection_by_key(session: Session, key: str) -> ConnectionKeys | None:
    """The connection a webhook URL or WebChat site key names, with what authenticates
    its deliveries (None when there is none: the caller answers 404)."""
    if not key or len(key) > 64:
        return None
    connection = session.execute(
        sa.select(ChannelConnection).where(ChannelConnection.key == key)
    ).scalar_one_or_none()
    if connection is None or not secrets.compare_digest(connection.key, key):
        return None
    assert connection.id is not None
    return ConnectionKeys(
        id=connection.id,
        workspace_id=connection.workspace_id,
        kind=ChannelKind(connection.kind),
        verify_token=connection.verify_token,
        app_secret=connection.app_secret,
        allowed_origins=tuple(connection.allowed_origins or ()),
        ask_details=connection.ask_details,
        name=connection.name,
    )


def stamp_delivery(session: Session, connection_id: int) -> None:
    """Note that a delivery was accepted (at most once a minute per connection)."""
    now = utcnow()
    session.execute(
        sa.update(ChannelConnection)
        .where(
            ChannelConnection.id == connection_id,
            sa.or_(
                ChannelConnection.last_delivery_at.is_(None),
                ChannelConnection.last_delivery_at < now - DELIVERY_STAMP_EVERY,
            ),
        )
        .values(last_delivery_at=now)
        .execution_options(synchronize_session=False)
    )
