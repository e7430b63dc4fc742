"""Property-based tests (Hypothesis) of the webhook parsers: whatever JSON arrives in
whatever place of a WhatsApp, Messenger or Instagram body, parsing either refuses it
with MalformedPayload (the route's 400) or gives messages the ingestion service accepts
(never an exception the route would answer with 500). No database: this is the parser."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloodot_app.models import ChannelKind
from cloodot_app.services.channels import webhooks
from cloodot_app.services.channels.payloads import MalformedPayload
from tests.unit.meta_payloads import KERRY, PAGE_ID, PSID, messaging_event, mid, wa_message

PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["", "\x00", "\ud800", "text", "image", "1764497000", KERRY, "x" * 300])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
WA_KEYS = [
    "from",
    "id",
    "timestamp",
    "type",
    "text",
    "image",
    "audio",
    "document",
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "order",
    "sticker",
    "video",
]
FB_KEYS = ["sender", "recipient", "timestamp", "message", "postback", "reaction", "read"]


def _mutate(base: dict[str, Any], keys: list[str], data) -> dict[str, Any]:
    changed = dict(base)
    for key in data.draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
        if data.draw(st.booleans()):
            changed[key] = data.draw(json_values)
        else:
            changed.pop(key, None)
    return changed


def _check(kind: ChannelKind, body: Any) -> None:
    try:
        batch = webhooks.parse(kind, body)
        for message in batch.messages:
            webhooks.incoming(message)
    except MalformedPayload as error:
        assert str(error)


@pytest.mark.parametrize("kind", ["text", "image", "location", "contacts", "interactive"])
@PROPERTY_SETTINGS
@given(data=st.data())
def test_any_whatsapp_message_parses_or_is_refused_readably(kind, data):
    message = _mutate(wa_message(kind, text={"body": "hi"}), WA_KEYS, data)
    value = (
        _mutate(
            {"messages": [message], "contacts": [{"profile": {"name": "K"}, "wa_id": KERRY}]},
            ["messages", "contacts", "statuses", "metadata"],
            data,
        )
        if data.draw(st.booleans())
        else {"messages": [message]}
    )
    change = _mutate({"field": "messages", "value": value}, ["field", "value"], data)
    entry = _mutate({"id": "1", "changes": [change]}, ["id", "changes"], data)
    body = _mutate(
        {"object": "whatsapp_business_account", "entry": [entry]}, ["object", "entry"], data
    )
    _check(ChannelKind.WHATSAPP, body)


@pytest.mark.parametrize("kind", [ChannelKind.MESSENGER, ChannelKind.INSTAGRAM])
@PROPERTY_SETTINGS
@given(data=st.data())
def test_any_messaging_event_parses_or_is_refused_readably(kind, data):
    event = messaging_event(PSID, PAGE_ID, 1, message={"mid": mid(1), "text": "hi"})
    event = _mutate(event, FB_KEYS, data)
    if isinstance(event.get("message"), dict) and data.draw(st.booleans()):
        event["message"] = _mutate(
            event["message"], ["mid", "text", "attachments", "is_echo", "is_deleted"], data
        )
    entry = _mutate({"id": PAGE_ID, "messaging": [event]}, ["id", "messaging", "changes"], data)
    body = _mutate(
        {"object": "page" if kind is ChannelKind.MESSENGER else "instagram", "entry": [entry]},
        ["object", "entry"],
        data,
    )
    _check(kind, body)


@PROPERTY_SETTINGS
@given(body=json_values)
def test_any_json_at_all_parses_or_is_refused_readably(body):
    for kind in (ChannelKind.WHATSAPP, ChannelKind.MESSENGER, ChannelKind.INSTAGRAM):
        _check(kind, body)
