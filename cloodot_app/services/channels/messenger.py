"""The Messenger Platform's webhook body (a Facebook Page, `"object": "page"`) and the
Instagram Messaging one (`"object": "instagram"`), as Meta documents them:

    {"object": "page",
     "entry": [{"id": "<Page id>", "time": 1700000000000, "messaging": [
         {"sender": {"id": "<PSID>"}, "recipient": {"id": "<Page id>"},
          "timestamp": 1700000000000,
          "message": {"mid": "m_…", "text": "Hi",
                      "attachments": [{"type": "image", "payload": {"url": "…"}}]}}]}]}

An echo (`message.is_echo`: what the Page or account itself sent, from another tool or
the inbox) is stored as outgoing, on the conversation of its recipient. Postbacks (a
button pressed) and reactions are stored with a readable preview; deliveries, reads,
deleted messages and changes of other fields are acknowledged and not stored.
"""

from __future__ import annotations

from typing import Any

from cloodot_app.models import ChannelKind, Direction
from cloodot_app.services.channels.payloads import (
    UNSUPPORTED,
    Batch,
    MalformedPayload,
    ParsedMessage,
    ident,
    items,
    moment,
    obj,
    text_of,
    with_caption,
)
from cloodot_app.services.channels.payloads import where as _where

OBJECTS = {ChannelKind.MESSENGER: "page", ChannelKind.INSTAGRAM: "instagram"}

ATTACHMENTS = {
    "image": "📷 Photo",
    "video": "🎥 Video",
    "audio": "🎤 Audio",
    "file": "📄 File",
    "location": "📍 Location",
    "template": "📋 Template",
    "fallback": "🔗 Link",
    "share": "🔗 Shared a post",
    "story_mention": "📣 Mentioned you in their story",
    "ig_reel": "🎬 Reel",
    "reel": "🎬 Reel",
    "ig_post": "🔗 Shared a post",
    "sticker": "💟 Sticker",
}


def _attachment(attachment: Any) -> str:
    if not isinstance(attachment, dict):
        return UNSUPPORTED
    kind = attachment.get("type")
    payload = attachment.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    if kind == "image" and payload.get("sticker_id") is not None:
        return ATTACHMENTS["sticker"]
    label = ATTACHMENTS.get(kind) if isinstance(kind, str) else None
    if label is None:
        return UNSUPPORTED
    if kind == "fallback":
        return with_caption(label, text_of(attachment.get("title")) or text_of(payload.get("url")))
    if kind == "location":
        return with_caption(label, text_of(attachment.get("title")))
    return label


def message_preview(message: dict[str, Any]) -> str:
    """Text, attachments, or both: "📷 Photo: look at this", "📷 Photo ×3"."""
    text = text_of(message.get("text"))
    attachments = message.get("attachments")
    labels: list[str] = []
    for attachment in attachments if isinstance(attachments, list) else []:
        labels.append(_attachment(attachment))
    if not labels:
        return text or UNSUPPORTED
    counted = []
    for label in dict.fromkeys(labels):
        count = labels.count(label)
        counted.append(label if count == 1 else f"{label} ×{count}")
    return with_caption(", ".join(counted), text)


def _event(
    event: dict[str, Any], where: list[str | int], batch: Batch, own_ids: set[str]
) -> ParsedMessage | None:
    sender = ident(obj(event.get("sender"), [*where, "sender"]).get("id"), [*where, "sender", "id"])
    recipient_ref = event.get("recipient")
    recipient = (
        ident(recipient_ref.get("id"), [*where, "recipient", "id"])
        if isinstance(recipient_ref, dict) and recipient_ref.get("id") is not None
        else None
    )
    sent_at = moment(event.get("timestamp"), milliseconds=True)
    message = event.get("message")
    if isinstance(message, dict):
        message_id = ident(message.get("mid"), [*where, "message", "mid"])
        if message.get("is_deleted") is True:
            batch.ignored += 1  # an unsent message (Instagram): nothing to store
            return None
        echo = message.get("is_echo") is True or (sender in own_ids and recipient is not None)
        if echo and recipient is None:
            raise MalformedPayload(f"{_where(where)}: an echo needs a recipient.")
        return ParsedMessage(
            sender_id=recipient if echo and recipient else sender,
            message_id=message_id,
            text=UNSUPPORTED if message.get("is_unsupported") is True else message_preview(message),
            direction=Direction.OUTGOING if echo else Direction.INCOMING,
            sent_at=sent_at,
        )
    if message is not None:
        raise MalformedPayload(f"{_where([*where, 'message'])} must be an object.")
    postback = event.get("postback")
    if isinstance(postback, dict):
        title = text_of(postback.get("title")) or text_of(postback.get("payload"))
        mid = postback.get("mid")
        return ParsedMessage(
            sender_id=sender,
            message_id=(
                ident(mid, [*where, "postback", "mid"])
                if mid is not None
                else f"postback:{sender}:{event.get('timestamp')}"[:200]
            ),
            text=with_caption("↩️ Chose", title),
            sent_at=sent_at,
        )
    reaction = event.get("reaction")
    if isinstance(reaction, dict):
        reacted_to = text_of(reaction.get("mid"))
        emoji = text_of(reaction.get("emoji"))
        removed = reaction.get("action") == "unreact"
        return ParsedMessage(
            sender_id=sender,
            message_id=f"reaction:{sender}:{reacted_to}:{event.get('timestamp')}"[:200],
            text="Removed a reaction" if removed else f"Reacted {emoji or '👍'} to a message",
            sent_at=sent_at,
        )
    batch.ignored += 1  # delivery, read, optin, referral, account linking…
    return None


def parse(payload: Any, kind: ChannelKind) -> Batch:
    body = obj(payload, [])
    expected = OBJECTS[kind]
    if body.get("object") != expected:
        raise MalformedPayload(
            f'object must be "{expected}" for a {kind.value.title()} connection, '
            f"not {str(body.get('object'))[:40]!r}."
        )
    batch = Batch()
    for e, entry in enumerate(items(body.get("entry"), ["entry"], optional=False)):
        entry = obj(entry, ["entry", e])
        # The Page's or account's own id: a message it sent is an echo even when the
        # flag is missing (Instagram sends some without it).
        own_ids = {str(entry["id"])} if isinstance(entry.get("id"), str | int) else set()
        events = items(entry.get("messaging"), ["entry", e, "messaging"])
        for m, event in enumerate(events):
            where: list[str | int] = ["entry", e, "messaging", m]
            parsed = _event(obj(event, where), where, batch, own_ids)
            if parsed is not None:
                batch.messages.append(parsed)
        # Handover-protocol standby events, feed and comment changes: not messages here.
        batch.ignored += len(items(entry.get("standby"), ["entry", e, "standby"]))
        batch.ignored += len(items(entry.get("changes"), ["entry", e, "changes"]))
    return batch
