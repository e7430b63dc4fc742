"""The WhatsApp Cloud API's webhook body, as Meta documents it:

    {"object": "whatsapp_business_account",
     "entry": [{"id": "<WABA id>", "changes": [{"field": "messages", "value": {
         "messaging_product": "whatsapp",
         "metadata": {"display_phone_number": "…", "phone_number_id": "…"},
         "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": "16315551234"}],
         "messages": [{"from": "16315551234", "id": "wamid.…", "timestamp": "1700000000",
                       "type": "text", "text": {"body": "Hi"}}],
         "statuses": [...]}}]}]}

Every message type becomes a readable preview; statuses (sent, delivered, read, failed)
and changes of other fields are acknowledged and not stored; a type this parser does not
know (or one WhatsApp itself calls "unsupported") is kept as "Unsupported message".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloodot_app.errors import FieldValueError
from cloodot_app.fieldtypes import normalize_phone
from cloodot_app.services.channels.payloads import (
    MAX_NAME,
    UNSUPPORTED,
    Batch,
    MalformedPayload,
    ParsedMessage,
    ident,
    items,
    moment,
    obj,
    storable,
    text_of,
    with_caption,
)

OBJECT = "whatsapp_business_account"


def _section(message: dict[str, Any], kind: str) -> dict[str, Any]:
    section = message.get(kind)
    return section if isinstance(section, dict) else {}


def _text(message: dict[str, Any]) -> str:
    return text_of(_section(message, "text").get("body"))


def _image(message: dict[str, Any]) -> str:
    return with_caption("📷 Photo", text_of(_section(message, "image").get("caption")))


def _video(message: dict[str, Any]) -> str:
    return with_caption("🎥 Video", text_of(_section(message, "video").get("caption")))


def _audio(message: dict[str, Any]) -> str:
    return "🎤 Voice message" if _section(message, "audio").get("voice") is True else "🎵 Audio"


def _document(message: dict[str, Any]) -> str:
    document = _section(message, "document")
    label = with_caption("📄 Document", text_of(document.get("filename")))
    caption = text_of(document.get("caption"))
    return f"{label} — {caption}" if caption else label


def _sticker(message: dict[str, Any]) -> str:
    return "💟 Sticker"


def _location(message: dict[str, Any]) -> str:
    location = _section(message, "location")
    words = ", ".join(
        part for part in (text_of(location.get("name")), text_of(location.get("address"))) if part
    )
    if not words:
        latitude, longitude = location.get("latitude"), location.get("longitude")
        if all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in (latitude, longitude)
        ):
            words = f"{latitude:.5f}, {longitude:.5f}"
    return with_caption("📍 Location", words)


def _contacts(message: dict[str, Any]) -> str:
    shared = message.get("contacts")
    names = []
    for card in shared if isinstance(shared, list) else []:
        name = card.get("name") if isinstance(card, dict) else None
        if isinstance(name, dict):
            formatted = text_of(name.get("formatted_name")) or " ".join(
                text_of(name.get(part)) for part in ("first_name", "last_name") if name.get(part)
            )
            if formatted:
                names.append(formatted)
    label = "👤 Contacts" if len(names) > 1 else "👤 Contact"
    return with_caption(label, ", ".join(names))


def _interactive(message: dict[str, Any]) -> str:
    interactive = _section(message, "interactive")
    for reply in ("button_reply", "list_reply"):
        chosen = interactive.get(reply)
        if isinstance(chosen, dict) and text_of(chosen.get("title")):
            return with_caption("↩️ Replied", text_of(chosen.get("title")))
    flow = interactive.get("nfm_reply")
    if isinstance(flow, dict):
        return with_caption("📋 Form sent", text_of(flow.get("name")) or text_of(flow.get("body")))
    return ""


def _button(message: dict[str, Any]) -> str:
    button = _section(message, "button")
    return with_caption("↩️ Replied", text_of(button.get("text")) or text_of(button.get("payload")))


def _reaction(message: dict[str, Any]) -> str:
    emoji = text_of(_section(message, "reaction").get("emoji"))
    return f"Reacted {emoji} to a message" if emoji else "Removed a reaction"


def _order(message: dict[str, Any]) -> str:
    products = _section(message, "order").get("product_items")
    count = len(products) if isinstance(products, list) else 0
    if not count:
        return ""
    return f"🛒 Order: {count} item" + ("" if count == 1 else "s")


PREVIEWS: dict[str, Callable[[dict[str, Any]], str]] = {
    "text": _text,
    "image": _image,
    "video": _video,
    "audio": _audio,
    "voice": _audio,
    "document": _document,
    "sticker": _sticker,
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "order": _order,
}


def preview(message: dict[str, Any]) -> str:
    """What the message says, in one line for the contacts table."""
    kind = message.get("type")
    make = PREVIEWS.get(kind) if isinstance(kind, str) else None
    return (make(message) if make else "") or UNSUPPORTED


def _phone(wa_id: str) -> str | None:
    """A WhatsApp id is the sender's number without "+": E.164 once it has one."""
    try:
        return normalize_phone("+" + wa_id) if wa_id.isdigit() else None
    except FieldValueError:
        return None


def _profile_names(value: dict[str, Any], path: list[str | int]) -> dict[str, str]:
    names: dict[str, str] = {}
    for index, contact in enumerate(items(value.get("contacts"), [*path, "contacts"])):
        contact = obj(contact, [*path, "contacts", index])
        if contact.get("wa_id") is None:
            continue
        wa_id = ident(contact.get("wa_id"), [*path, "contacts", index, "wa_id"])
        profile = contact.get("profile")
        name = text_of(profile.get("name")) if isinstance(profile, dict) else ""
        if name:
            names[wa_id] = storable(name, MAX_NAME)
    return names


def parse(payload: Any) -> Batch:
    body = obj(payload, [])
    if body.get("object") != OBJECT:
        raise MalformedPayload(
            f'object must be "{OBJECT}" for a WhatsApp connection, '
            f"not {str(body.get('object'))[:40]!r}."
        )
    batch = Batch()
    for e, entry in enumerate(items(body.get("entry"), ["entry"], optional=False)):
        entry = obj(entry, ["entry", e])
        for c, change in enumerate(items(entry.get("changes"), ["entry", e, "changes"])):
            path: list[str | int] = ["entry", e, "changes", c]
            change = obj(change, path)
            if change.get("field") != "messages":
                batch.ignored += 1  # template, quality, account updates…
                continue
            value = obj(change.get("value"), [*path, "value"])
            path = [*path, "value"]
            names = _profile_names(value, path)
            statuses = items(value.get("statuses"), [*path, "statuses"])
            batch.ignored += len(statuses)
            for m, message in enumerate(items(value.get("messages"), [*path, "messages"])):
                where = [*path, "messages", m]
                message = obj(message, where)
                sender = ident(message.get("from"), [*where, "from"])
                batch.messages.append(
                    ParsedMessage(
                        sender_id=sender,
                        message_id=ident(message.get("id"), [*where, "id"]),
                        text=preview(message),
                        name=names.get(sender),
                        phone=_phone(sender),
                        sent_at=moment(message.get("timestamp")),
                    )
                )
    return batch
