"""Webhook bodies as Meta publishes them (WhatsApp Cloud API "Webhooks → messages"
reference, Messenger Platform "Webhook events", Instagram Messaging webhooks), with
real-looking ids, and the X-Hub-Signature-256 Meta would send with them."""

from __future__ import annotations

import json
from typing import Any

from cloodot_app.services.channels.webhooks import sign

# A WhatsApp Business Account, its phone number and two customers.
WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"
KERRY = "16315551181"  # wa_id: the customer's number without "+"
LUIS = "34612345678"
# A Facebook Page and a customer's Page-scoped id; an Instagram account and a customer's.
PAGE_ID = "107945871734028"
PSID = "6790433961047528"
IG_ACCOUNT_ID = "17841405822304914"
IGSID = "5392394317547781"

T = 1764497000  # 2025-11-30 10:03:20 UTC, in Unix seconds


def wamid(n: int) -> str:
    return f"wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQUI{n:04d}RDY4MjlFQzAwRDQ5RjIA"


def mid(n: int) -> str:
    return f"m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlq{n:05d}"


def wa_message(kind: str, n: int = 1, sender: str = KERRY, **content: Any) -> dict[str, Any]:
    """One entry of value.messages: {"from", "id", "timestamp", "type", <type>: {...}}."""
    message: dict[str, Any] = {
        "from": sender,
        "id": wamid(n),
        "timestamp": str(T + n),
        "type": kind,
    }
    message.update(content)
    return message


def wa_value(
    messages: list[dict[str, Any]] | None = None,
    contacts: list[tuple[str, str]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
    }
    if contacts is not None:
        value["contacts"] = [
            {"profile": {"name": name}, "wa_id": wa_id} for wa_id, name in contacts
        ]
    if messages is not None:
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return value


def whatsapp_body(*values: dict[str, Any], entries: int = 1) -> dict[str, Any]:
    """{"object": "whatsapp_business_account", "entry": [{"id", "changes": [...]}]}: the
    values spread over `entries` entries."""
    changes = [{"value": value, "field": "messages"} for value in values]
    per_entry = max(1, -(-len(changes) // entries))
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": WABA_ID, "changes": changes[i : i + per_entry]}
            for i in range(0, max(len(changes), 1), per_entry)
        ],
    }


def wa_status(n: int, status: str = "delivered", recipient: str = KERRY) -> dict[str, Any]:
    return {
        "id": wamid(9000 + n),
        "status": status,
        "timestamp": str(T + n),
        "recipient_id": recipient,
        "conversation": {
            "id": "CONVERSATION_ID",
            "expiration_timestamp": str(T + 86400),
            "origin": {"type": "service"},
        },
        "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
    }


def messaging_event(sender: str, recipient: str, n: int = 1, **event: Any) -> dict[str, Any]:
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": (T + n) * 1000,
        **event,
    }


def page_body(*events: dict[str, Any], obj: str = "page", account: str = PAGE_ID) -> dict:
    """{"object": "page" | "instagram", "entry": [{"id", "time", "messaging": [...]}]}."""
    return {
        "object": obj,
        "entry": [{"id": account, "time": (T + 60) * 1000, "messaging": list(events)}],
    }


def signed(secret: str, body: Any) -> tuple[bytes, dict[str, str]]:
    """The raw bytes and headers of a POST as Meta sends it."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    return raw, {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(secret, raw),
    }
