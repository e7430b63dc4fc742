"""Meta's webhooks (WhatsApp Cloud API, Messenger, Instagram): the subscription
handshake, the signature every POST carries, parsing by kind and storing the batch.

The route (cloodot_app/api.py) does the HTTP; everything it decides is here:

1. `handshake(keys, params)`: the challenge to echo when hub.mode is "subscribe" and the
   verify token matches, else None (403).
2. `signature_matches(secret, body, header)`: X-Hub-Signature-256 is "sha256=" and the
   hex HMAC-SHA256 of the raw body with the app secret, compared in constant time,
   before the body is parsed at all.
3. `parse(kind, payload)`: a `Batch`, or MalformedPayload (400, nothing stored).
4. `store(session_factory, keys, batch)`: every message through the ingestion service
   (one transaction per message: stored once by its provider id, the contact matched by
   the channel's id, then phone), after all of them were validated.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from cloodot_app.models import ChannelKind
from cloodot_app.services.channels import messenger, whatsapp
from cloodot_app.services.channels.connections import ConnectionKeys, stamp_delivery
from cloodot_app.services.channels.payloads import (
    Batch,
    MalformedPayload,
    ParsedMessage,
    storable,
)
from cloodot_app.services.ingestion import IncomingMessage, IngestResult, ingest_message

SIGNATURE_HEADER = "x-hub-signature-256"
_SIGNATURE_PREFIX = "sha256="
MAX_CHALLENGE = 200

SessionFactory = Callable[[], AbstractContextManager[Session]]


def handshake(keys: ConnectionKeys, params: Mapping[str, str]) -> str | None:
    """The challenge to answer with, when this is Meta subscribing with our verify token."""
    if params.get("hub.mode") != "subscribe" or not keys.verify_token:
        return None
    offered = params.get("hub.verify_token", "")
    if not secrets.compare_digest(offered.encode("utf-8"), keys.verify_token.encode("utf-8")):
        return None
    challenge = params.get("hub.challenge", "")
    if not challenge or len(challenge) > MAX_CHALLENGE or not challenge.isprintable():
        return None
    return challenge


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends for `body` (tests sign with it too)."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return _SIGNATURE_PREFIX + digest


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    offered = header.strip()
    if not offered.lower().startswith(_SIGNATURE_PREFIX):
        return False
    expected = sign(secret, body)
    # Hex may come in either case; both sides are ASCII (compare_digest needs that).
    offered = _SIGNATURE_PREFIX + offered[len(_SIGNATURE_PREFIX) :].lower()
    if not offered.isascii():
        return False
    return hmac.compare_digest(offered.encode("ascii"), expected.encode("ascii"))


def parse(kind: ChannelKind, payload: Any) -> Batch:
    if kind is ChannelKind.WHATSAPP:
        return whatsapp.parse(payload)
    if kind in messenger.OBJECTS:
        return messenger.parse(payload, kind)
    raise MalformedPayload(f"A {kind.value} connection takes no webhooks.")


@dataclass(frozen=True)
class Delivery:
    """What a POST stored: the route answers it as JSON."""

    received: int
    stored: int
    duplicates: int
    ignored: int
    contacts_created: int


def incoming(message: ParsedMessage) -> IncomingMessage:
    """The ingestion service's message for a parsed one. MalformedPayload if it cannot
    hold it (an id or name past the columns' lengths, say)."""
    try:
        return IncomingMessage(
            external_id=message.sender_id,
            text=storable(message.text) or "Unsupported message",
            name=message.name,
            phone=message.phone,
            email=message.email,
            message_id=message.message_id,
            direction=message.direction,
            sent_at=message.sent_at,
        )
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "message"
        raise MalformedPayload(
            f"Message {message.message_id[:80]}: {field}: {first['msg']}"
        ) from None


# Senders stored side by side within one POST: a batch of 100 messages answers in about
# a third of the time it took one message after another (PostgreSQL, 2 cores).
STORE_WORKERS = 4


def store(session_factory: SessionFactory, keys: ConnectionKeys, batch: Batch) -> Delivery:
    """Store every message of the batch in the connection's workspace, each in its own
    transaction (a retried delivery finds its message and stores nothing); all of them are
    validated first, so a batch is refused whole or stored whole.

    On PostgreSQL, different senders are stored side by side (one sender's messages in
    order, by one worker); the ingestion service is built for concurrent deliveries, so two senders
    racing, or this batch racing its own retry, still store each message once.
    """
    channel = keys.kind.channel.value
    prepared = [incoming(message) for message in batch.messages]
    by_sender: dict[str, list[IncomingMessage]] = {}
    for message in prepared:
        by_sender.setdefault(message.external_id, []).append(message)

    def store_sender(messages: list[IncomingMessage]) -> list[IngestResult]:
        results = []
        for message in messages:
            with session_factory() as session:
                results.append(ingest_message(session, keys.workspace_id, channel, message))
        return results

    with session_factory() as session:
        stamp_delivery(session, keys.id)
        # SQLite has one writer at a time: side by side would only queue.
        side_by_side = session.get_bind().dialect.name != "sqlite"
    groups = list(by_sender.values())
    if side_by_side and len(groups) > 1:
        with ThreadPoolExecutor(max_workers=min(STORE_WORKERS, len(groups))) as pool:
            results = [r for group in pool.map(store_sender, groups) for r in group]
    else:
        results = [r for group in groups for r in store_sender(group)]
    duplicates = sum(r.duplicate for r in results)
    return Delivery(
        received=len(prepared),
        stored=len(results) - duplicates,
        duplicates=duplicates,
        ignored=batch.ignored,
        contacts_created=sum(r.contact_created and not r.duplicate for r in results),
    )
