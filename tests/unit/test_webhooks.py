"""Meta's webhooks end to end through the HTTP API (in-process ASGI), on SQLite and
PostgreSQL: the subscription handshake, X-Hub-Signature-256 (good, bad, missing, body
altered), every WhatsApp message type with its preview, Messenger and Instagram events
(echoes stored as outgoing), batches, statuses, duplicates, concurrent retries, and
malformed bodies (400, nothing stored, never 500).

The bodies follow the providers' published schemas (tests/unit/meta_payloads.py)."""

from __future__ import annotations

import asyncio
import json

import pytest
import sqlalchemy as sa

from cloodot_app.models import Contact, Conversation, Message
from cloodot_app.services import channels
from cloodot_app.services.ingestion import IncomingMessage, ingest_message
from tests.unit.ingestion_helpers import api_client, counts
from tests.unit.meta_payloads import (
    IG_ACCOUNT_ID,
    IGSID,
    KERRY,
    LUIS,
    PAGE_ID,
    PSID,
    T,
    messaging_event,
    mid,
    page_body,
    signed,
    wa_message,
    wa_status,
    wa_value,
    wamid,
    whatsapp_body,
)

SECRET = "5f3c2a9e8b7d6c1f0e4a3b2c1d0e9f8a"
OTHER_SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
N = 20


@pytest.fixture
async def client(database_url, monkeypatch):
    async with api_client(database_url, monkeypatch) as client:
        yield client


def _connect(session, workspace_id, kind: str, secret: str = SECRET) -> channels.ConnectionRow:
    if kind == "webchat":
        row = channels.create_connection(
            session, workspace_id, None, kind, "Site", allowed_origins=["https://acme.example"]
        )
    else:
        row = channels.create_connection(
            session, workspace_id, None, kind, f"Acme {kind}", app_secret=secret
        )
    session.commit()
    return row


@pytest.fixture
def whatsapp(session, workspace_id) -> channels.ConnectionRow:
    return _connect(session, workspace_id, "whatsapp")


@pytest.fixture
def messenger(session, workspace_id) -> channels.ConnectionRow:
    return _connect(session, workspace_id, "messenger")


@pytest.fixture
def instagram(session, workspace_id) -> channels.ConnectionRow:
    return _connect(session, workspace_id, "instagram")


def url(row: channels.ConnectionRow) -> str:
    return f"/api/webhooks/{row.key}"


async def post(client, row, body, secret: str = SECRET):
    raw, headers = signed(secret, body)
    return await client.post(url(row), content=raw, headers=headers)


def messages(engine) -> list[dict]:
    """Every stored message with its contact, oldest id first."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                Message.external_id,
                Message.text,
                Message.direction,
                Message.channel,
                Contact.external_id.label("sender"),
                Contact.name,
                Contact.phone,
            )
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(Contact, Contact.id == Conversation.contact_id)
            .order_by(Message.id)
        ).mappings()
        return [dict(row) for row in rows]


def assert_error(response, status: int, needle: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert needle in response.text


# --------------------------------------------------------------------------- handshake


async def test_the_handshake_answers_the_challenge_for_the_right_token(client, whatsapp):
    response = await client.get(
        url(whatsapp),
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": whatsapp.verify_token,
            "hub.challenge": "1158201444",
        },
    )
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1158201444"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "{token}", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
        {"hub.mode": "subscribe", "hub.verify_token": "{token}"},
        {"hub.mode": "subscribe", "hub.verify_token": "{token}x", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "tøken", "hub.challenge": "1"},
        {},
    ],
    ids=["wrong", "unsubscribe", "no-token", "no-challenge", "longer", "non-ascii", "nothing"],
)
async def test_the_handshake_is_403_otherwise(client, whatsapp, params):
    params = {k: v.replace("{token}", whatsapp.verify_token) for k, v in params.items()}
    response = await client.get(url(whatsapp), params=params)
    assert_error(response, 403, "verify token")


async def test_a_rotated_token_is_the_only_one_that_works(client, session, workspace_id, whatsapp):
    rotated = channels.rotate_verify_token(session, workspace_id, None, whatsapp.id)
    session.commit()
    for token, status in [(whatsapp.verify_token, 403), (rotated.verify_token, 200)]:
        response = await client.get(
            url(whatsapp),
            params={"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "42"},
        )
        assert response.status_code == status


@pytest.mark.parametrize("key", ["unknown-key", "x" * 300])
async def test_an_unknown_address_is_404(client, whatsapp, key):
    response = await client.get(f"/api/webhooks/{key}", params={"hub.mode": "subscribe"})
    assert_error(response, 404, "Settings → Channels")
    raw, headers = signed(SECRET, whatsapp_body(wa_value([wa_message("text", text={"body": "x"})])))
    response = await client.post(f"/api/webhooks/{key}", content=raw, headers=headers)
    assert_error(response, 404)


async def test_a_webchat_site_has_no_webhook(client, session, workspace_id):
    site = _connect(session, workspace_id, "webchat")
    response = await client.get(url(site), params={"hub.mode": "subscribe"})
    assert_error(response, 404)


# --------------------------------------------------------------------------- signatures


def _text_body(text: str = "Hi, is the blue sofa still available?") -> dict:
    return whatsapp_body(
        wa_value([wa_message("text", text={"body": text})], contacts=[(KERRY, "Kerry Fisher")])
    )


async def test_a_good_signature_is_stored(client, engine, whatsapp):
    response = await post(client, whatsapp, _text_body())
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 1, "stored": 1, "duplicates": 0, "ignored": 0}
    assert messages(engine) == [
        {
            "external_id": wamid(1),
            "text": "Hi, is the blue sofa still available?",
            "direction": "incoming",
            "channel": "whatsapp",
            "sender": KERRY,
            "name": "Kerry Fisher",
            "phone": "+16315551181",
        }
    ]


def _bad_signatures(raw: bytes) -> dict[str, dict]:
    from cloodot_app.services.channels.webhooks import sign

    good = sign(SECRET, raw)
    return {
        "missing": {},
        "empty": {"X-Hub-Signature-256": ""},
        "other-secret": {"X-Hub-Signature-256": sign(OTHER_SECRET, raw)},
        "sha1": {"X-Hub-Signature-256": "sha1=" + good.removeprefix("sha256=")[:40]},
        "no-prefix": {"X-Hub-Signature-256": good.removeprefix("sha256=")},
        "one-digit-off": {"X-Hub-Signature-256": good[:-1] + ("0" if good[-1] != "0" else "1")},
        "truncated": {"X-Hub-Signature-256": good[:-2]},
        "non-ascii": {"X-Hub-Signature-256": "sha256=ü".encode()},
        "altered-body": {"X-Hub-Signature-256": sign(SECRET, raw.replace(b"sofa", b"sofas"))},
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty",
        "other-secret",
        "sha1",
        "no-prefix",
        "one-digit-off",
        "truncated",
        "non-ascii",
        "altered-body",
    ],
)
async def test_a_missing_or_wrong_signature_is_401_and_changes_nothing(
    client, engine, workspace_id, whatsapp, case
):
    raw = json.dumps(_text_body()).encode()
    headers = {"Content-Type": "application/json", **_bad_signatures(raw)[case]}
    before = counts(engine, workspace_id)
    response = await client.post(url(whatsapp), content=raw, headers=headers)
    assert_error(response, 401, "X-Hub-Signature-256")
    assert counts(engine, workspace_id) == before


async def test_the_signature_is_checked_before_the_body_is_parsed(
    client, engine, workspace_id, whatsapp
):
    """Not JSON at all, but unsigned: 401 (not 400) — nothing was parsed."""
    response = await client.post(
        url(whatsapp), content=b"{not json", headers={"X-Hub-Signature-256": "sha256=00"}
    )
    assert_error(response, 401)


async def test_a_replaced_app_secret_is_the_only_one_that_works(
    client, engine, session, workspace_id, whatsapp
):
    channels.replace_app_secret(session, workspace_id, None, whatsapp.id, OTHER_SECRET)
    session.commit()
    assert (await post(client, whatsapp, _text_body(), SECRET)).status_code == 401
    assert (await post(client, whatsapp, _text_body(), OTHER_SECRET)).status_code == 200


async def test_a_connection_verifies_with_its_own_secret_only(
    client, session, workspace_id, whatsapp
):
    other = _connect(session, workspace_id, "whatsapp", OTHER_SECRET)
    assert (await post(client, other, _text_body(), SECRET)).status_code == 401
    assert (await post(client, whatsapp, _text_body(), OTHER_SECRET)).status_code == 401


# --------------------------------------------------------------------------- WhatsApp types

MEDIA = {
    "mime_type": "image/jpeg",
    "sha256": "HgaKx+0ea6EtkNJbX5X8WuCJ5xjx5wZ2eT8v1F6Q0fE=",
    "id": "1479537139650973",
}

WHATSAPP_TYPES = [
    ("text", {"text": {"body": "Do you ship to Lisbon?"}}, "Do you ship to Lisbon?"),
    ("image", {"image": {**MEDIA, "caption": "This one"}}, "📷 Photo: This one"),
    ("image", {"image": MEDIA}, "📷 Photo"),
    (
        "video",
        {"video": {**MEDIA, "mime_type": "video/mp4", "caption": "Unboxing"}},
        "🎥 Video: Unboxing",
    ),
    (
        "audio",
        {"audio": {**MEDIA, "mime_type": "audio/ogg; codecs=opus", "voice": True}},
        "🎤 Voice message",
    ),
    ("audio", {"audio": {**MEDIA, "mime_type": "audio/mpeg", "voice": False}}, "🎵 Audio"),
    (
        "document",
        {
            "document": {
                **MEDIA,
                "mime_type": "application/pdf",
                "filename": "invoice-2291.pdf",
                "caption": "Paid",
            }
        },
        "📄 Document: invoice-2291.pdf — Paid",
    ),
    ("sticker", {"sticker": {**MEDIA, "mime_type": "image/webp", "animated": False}}, "💟 Sticker"),
    (
        "location",
        {
            "location": {
                "latitude": 38.7223,
                "longitude": -9.1393,
                "name": "Praça do Comércio",
                "address": "1100-148 Lisboa",
            }
        },
        "📍 Location: Praça do Comércio, 1100-148 Lisboa",
    ),
    (
        "location",
        {"location": {"latitude": 38.7223, "longitude": -9.1393}},
        "📍 Location: 38.72230, -9.13930",
    ),
    (
        "contacts",
        {
            "contacts": [
                {
                    "name": {"formatted_name": "Ana Ruiz", "first_name": "Ana"},
                    "phones": [{"phone": "+34 612 345 678", "type": "CELL"}],
                }
            ]
        },
        "👤 Contact: Ana Ruiz",
    ),
    (
        "contacts",
        {
            "contacts": [
                {"name": {"first_name": "Ana", "last_name": "Ruiz"}},
                {"name": {"formatted_name": "Bo Li"}},
            ]
        },
        "👤 Contacts: Ana Ruiz, Bo Li",
    ),
    (
        "interactive",
        {
            "interactive": {
                "type": "button_reply",
                "button_reply": {"id": "yes-1", "title": "Yes, book it"},
            }
        },
        "↩️ Replied: Yes, book it",
    ),
    (
        "interactive",
        {
            "interactive": {
                "type": "list_reply",
                "list_reply": {"id": "s-2", "title": "Size M", "description": "Chest 96 cm"},
            }
        },
        "↩️ Replied: Size M",
    ),
    (
        "button",
        {"button": {"payload": "STOP_PROMOS", "text": "Stop promotions"}},
        "↩️ Replied: Stop promotions",
    ),
    ("reaction", {"reaction": {"message_id": wamid(77), "emoji": "❤️"}}, "Reacted ❤️ to a message"),
    ("reaction", {"reaction": {"message_id": wamid(77)}}, "Removed a reaction"),
    (
        "order",
        {
            "order": {
                "catalog_id": "1",
                "product_items": [
                    {
                        "product_retailer_id": "sku-1",
                        "quantity": "2",
                        "item_price": "10",
                        "currency": "EUR",
                    },
                    {
                        "product_retailer_id": "sku-2",
                        "quantity": "1",
                        "item_price": "5",
                        "currency": "EUR",
                    },
                ],
            }
        },
        "🛒 Order: 2 items",
    ),
    (
        "unsupported",
        {"errors": [{"code": 131051, "title": "Message type unknown"}]},
        "Unsupported message",
    ),
    ("ephemeral", {}, "Unsupported message"),
    ("text", {"text": {"body": ""}}, "Unsupported message"),
    ("image", {"image": "not an object", "surprise": {"new": "field"}}, "📷 Photo"),
]


@pytest.mark.parametrize(
    ("kind", "content", "preview"),
    WHATSAPP_TYPES,
    ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(WHATSAPP_TYPES)],
)
async def test_every_whatsapp_type_is_stored_with_a_readable_preview(
    client, engine, whatsapp, kind, content, preview
):
    body = whatsapp_body(
        wa_value([wa_message(kind, **content)], contacts=[(KERRY, "Kerry Fisher")])
    )
    response = await post(client, whatsapp, body)
    assert response.status_code == 200, response.text
    assert [(m["text"], m["sender"], m["name"]) for m in messages(engine)] == [
        (preview, KERRY, "Kerry Fisher")
    ]


async def test_the_message_time_is_the_providers(client, engine, whatsapp):
    await post(client, whatsapp, _text_body())
    with engine.connect() as connection:
        sent = connection.execute(sa.select(Message.sent_at)).scalar_one()
    assert int(sent.timestamp()) == T + 1


async def test_status_updates_are_acknowledged_and_ignored(client, engine, workspace_id, whatsapp):
    before = counts(engine, workspace_id)
    body = whatsapp_body(
        wa_value(statuses=[wa_status(1, "sent"), wa_status(2, "delivered"), wa_status(3, "read")])
    )
    response = await post(client, whatsapp, body)
    assert response.status_code == 200
    assert response.json() == {"received": 0, "stored": 0, "duplicates": 0, "ignored": 3}
    assert counts(engine, workspace_id) == before


async def test_other_fields_are_acknowledged_and_ignored(client, engine, workspace_id, whatsapp):
    before = counts(engine, workspace_id)
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {"event": "APPROVED", "message_template_id": 594425479261596},
                    },
                ],
            }
        ],
    }
    response = await post(client, whatsapp, body)
    assert response.status_code == 200 and response.json()["ignored"] == 1
    assert counts(engine, workspace_id) == before


async def test_a_batch_of_entries_changes_and_senders(client, engine, workspace_id, whatsapp):
    kerry = [wa_message("text", n, text={"body": f"Kerry {n}"}) for n in range(1, 4)]
    luis = [wa_message("text", n, LUIS, text={"body": f"Luis {n}"}) for n in range(4, 6)]
    body = whatsapp_body(
        wa_value(kerry, contacts=[(KERRY, "Kerry Fisher")], statuses=[wa_status(1)]),
        wa_value(luis, contacts=[(LUIS, "Luis Ortega")]),
        wa_value(statuses=[wa_status(2, "read")]),
        entries=2,
    )
    assert len(body["entry"]) == 2
    response = await post(client, whatsapp, body)
    assert response.json() == {"received": 5, "stored": 5, "duplicates": 0, "ignored": 2}
    stored = messages(engine)
    # (Senders are stored side by side on PostgreSQL: one sender's messages in order.)
    assert sorted(m["text"] for m in stored) == [
        "Kerry 1",
        "Kerry 2",
        "Kerry 3",
        "Luis 4",
        "Luis 5",
    ]
    assert [m["text"] for m in stored if m["sender"] == KERRY] == ["Kerry 1", "Kerry 2", "Kerry 3"]
    assert {m["sender"]: (m["name"], m["phone"]) for m in stored} == {
        KERRY: ("Kerry Fisher", "+16315551181"),
        LUIS: ("Luis Ortega", "+34612345678"),
    }
    after = counts(engine, workspace_id)
    assert (after["contact"], after["conversation"], after["message"]) == (2, 2, 5)


async def test_the_same_post_twice_stores_once(client, engine, workspace_id, whatsapp):
    body = _text_body()
    first = await post(client, whatsapp, body)
    once = counts(engine, workspace_id)
    second = await post(client, whatsapp, body)
    assert first.json()["stored"] == 1
    assert second.status_code == 200
    assert second.json() == {"received": 1, "stored": 0, "duplicates": 1, "ignored": 0}
    assert counts(engine, workspace_id) == once


async def test_concurrent_retries_store_exactly_one_message(client, engine, workspace_id, whatsapp):
    raw, headers = signed(SECRET, _text_body())
    responses = await asyncio.gather(
        *(client.post(url(whatsapp), content=raw, headers=headers) for _ in range(N))
    )
    assert [r.status_code for r in responses] == [200] * N
    assert sum(r.json()["stored"] for r in responses) == 1
    assert sum(r.json()["duplicates"] for r in responses) == N - 1
    after = counts(engine, workspace_id)
    assert (after["contact"], after["conversation"], after["message"]) == (1, 1, 1)


async def test_the_contact_is_matched_by_phone_when_the_channel_id_is_new(
    client, engine, session, workspace_id, whatsapp
):
    """Someone who wrote on WebChat with their number, then on WhatsApp: one contact."""
    ingest_message(
        session,
        workspace_id,
        "webchat",
        IncomingMessage(
            external_id="visitor-1", text="Hi", name="Kerry F.", phone="+1 631-555-1181"
        ),
    )
    session.commit()
    await post(client, whatsapp, _text_body())
    with engine.connect() as connection:
        contacts = connection.execute(sa.select(Contact.name, Contact.channel)).all()
    assert contacts == [("Kerry F.", "webchat")]  # the name typed first is kept


async def test_the_contact_is_matched_by_the_channel_id_first(client, engine, whatsapp):
    await post(client, whatsapp, _text_body())
    later = whatsapp_body(
        wa_value([wa_message("text", 2, text={"body": "Again"})], contacts=[(KERRY, "K. Fisher")])
    )
    await post(client, whatsapp, later)
    stored = messages(engine)
    assert [m["text"] for m in stored] == ["Hi, is the blue sofa still available?", "Again"]
    assert {m["name"] for m in stored} == {"Kerry Fisher"}


async def test_the_connection_notes_its_last_delivery(client, session, workspace_id, whatsapp):
    assert channels.list_connections(session, workspace_id)[0].last_delivery_at is None
    await post(client, whatsapp, _text_body())
    session.expire_all()
    assert channels.list_connections(session, workspace_id)[0].last_delivery_at is not None


# --------------------------------------------------------------------------- Messenger, Instagram


async def test_messenger_text_attachments_echoes_postbacks_and_reactions(
    client, engine, workspace_id, messenger
):
    image = {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/t1.png"}}
    body = page_body(
        messaging_event(PSID, PAGE_ID, 1, message={"mid": mid(1), "text": "Hello there"}),
        messaging_event(PSID, PAGE_ID, 2, message={"mid": mid(2), "attachments": [image, image]}),
        messaging_event(
            PSID,
            PAGE_ID,
            3,
            message={
                "mid": mid(3),
                "text": "Broken leg",
                "attachments": [
                    {
                        "type": "image",
                        "payload": {"url": "https://x", "sticker_id": 369239263222822},
                    },
                    {"type": "file", "payload": {"url": "https://x/f.pdf"}},
                ],
            },
        ),
        messaging_event(
            PAGE_ID,
            PSID,
            4,
            message={
                "mid": mid(4),
                "is_echo": True,
                "app_id": 1517776481860111,
                "text": "We open at 9.",
            },
        ),
        messaging_event(
            PSID,
            PAGE_ID,
            5,
            postback={"mid": mid(5), "title": "Talk to a human", "payload": "HUMAN"},
        ),
        messaging_event(
            PSID,
            PAGE_ID,
            6,
            reaction={"mid": mid(4), "action": "react", "reaction": "love", "emoji": "❤"},
        ),
        messaging_event(PSID, PAGE_ID, 7, delivery={"mids": [mid(4)], "watermark": T * 1000}),
        messaging_event(PSID, PAGE_ID, 8, read={"watermark": T * 1000}),
        messaging_event(PSID, PAGE_ID, 9, message={"mid": mid(9)}),
    )
    response = await post(client, messenger, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 7, "stored": 7, "duplicates": 0, "ignored": 2}
    stored = messages(engine)
    assert [(m["text"], m["direction"]) for m in stored] == [
        ("Hello there", "incoming"),
        ("📷 Photo ×2", "incoming"),
        ("💟 Sticker, 📄 File: Broken leg", "incoming"),
        ("We open at 9.", "outgoing"),
        ("↩️ Chose: Talk to a human", "incoming"),
        ("Reacted ❤ to a message", "incoming"),
        ("Unsupported message", "incoming"),
    ]
    assert {(m["sender"], m["channel"]) for m in stored} == {(PSID, "facebook")}
    assert counts(engine, workspace_id)["contact"] == 1
    with engine.connect() as connection:
        contact = connection.execute(sa.select(Contact.name, Contact.last_message_direction)).one()
    assert contact == ("Facebook visitor", "incoming")


async def test_instagram_messages_story_mentions_echoes_and_unsends(client, engine, instagram):
    body = page_body(
        messaging_event(IGSID, IG_ACCOUNT_ID, 1, message={"mid": mid(11), "text": "Love this"}),
        messaging_event(
            IGSID,
            IG_ACCOUNT_ID,
            2,
            message={
                "mid": mid(12),
                "attachments": [
                    {"type": "story_mention", "payload": {"url": "https://lookaside.fbsbx.com/x"}}
                ],
            },
        ),
        messaging_event(
            IGSID,
            IG_ACCOUNT_ID,
            3,
            message={
                "mid": mid(13),
                "attachments": [{"type": "ig_reel", "payload": {"reel_video_id": "1"}}],
            },
        ),
        # An echo Instagram sent without the flag: the account itself is the sender.
        messaging_event(IG_ACCOUNT_ID, IGSID, 4, message={"mid": mid(14), "text": "Thank you!"}),
        messaging_event(IGSID, IG_ACCOUNT_ID, 5, message={"mid": mid(11), "is_deleted": True}),
        messaging_event(IGSID, IG_ACCOUNT_ID, 6, message={"mid": mid(16), "is_unsupported": True}),
        obj="instagram",
        account=IG_ACCOUNT_ID,
    )
    response = await post(client, instagram, body)
    assert response.json() == {"received": 5, "stored": 5, "duplicates": 0, "ignored": 1}
    assert [(m["text"], m["direction"], m["sender"], m["channel"]) for m in messages(engine)] == [
        ("Love this", "incoming", IGSID, "instagram"),
        ("📣 Mentioned you in their story", "incoming", IGSID, "instagram"),
        ("🎬 Reel", "incoming", IGSID, "instagram"),
        ("Thank you!", "outgoing", IGSID, "instagram"),
        ("Unsupported message", "incoming", IGSID, "instagram"),
    ]


async def test_instagram_comment_changes_are_acknowledged(client, engine, workspace_id, instagram):
    before = counts(engine, workspace_id)
    body = {
        "object": "instagram",
        "entry": [
            {
                "id": IG_ACCOUNT_ID,
                "time": T,
                "changes": [
                    {"field": "comments", "value": {"id": "17865799348089039", "text": "Nice!"}}
                ],
            }
        ],
    }
    response = await post(client, instagram, body)
    assert response.status_code == 200 and response.json()["ignored"] == 1
    assert counts(engine, workspace_id) == before


async def test_a_messenger_batch_retried_concurrently_stores_each_once(
    client, engine, workspace_id, messenger
):
    body = page_body(
        *(
            messaging_event(
                f"67904339610475{n:02d}", PAGE_ID, n, message={"mid": mid(n), "text": f"#{n}"}
            )
            for n in range(5)
        )
    )
    raw, headers = signed(SECRET, body)
    responses = await asyncio.gather(
        *(client.post(url(messenger), content=raw, headers=headers) for _ in range(10))
    )
    assert {r.status_code for r in responses} == {200}
    assert sum(r.json()["stored"] for r in responses) == 5
    after = counts(engine, workspace_id)
    assert (after["contact"], after["message"]) == (5, 5)


# --------------------------------------------------------------------------- malformed


MALFORMED = {
    "not-json": b'{"object": ',
    "bad-utf8": b"\xff\xfe{}",
    "array": b"[]",
    "null": b"null",
    "wrong-object": json.dumps({"object": "page", "entry": []}).encode(),
    "no-entry": json.dumps({"object": "whatsapp_business_account"}).encode(),
    "entry-not-list": json.dumps({"object": "whatsapp_business_account", "entry": {}}).encode(),
    "entry-item-not-object": json.dumps(
        {"object": "whatsapp_business_account", "entry": ["x"]}
    ).encode(),
    "value-not-object": json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"field": "messages", "value": []}]}],
        }
    ).encode(),
    "message-without-from": json.dumps(
        whatsapp_body(wa_value([{"id": wamid(1), "type": "text", "text": {"body": "x"}}]))
    ).encode(),
    "message-id-object": json.dumps(
        whatsapp_body(wa_value([{"from": KERRY, "id": {"x": 1}, "type": "text"}]))
    ).encode(),
    "sender-too-long": json.dumps(
        whatsapp_body(wa_value([wa_message("text", sender="1" * 201, text={"body": "x"})]))
    ).encode(),
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "huge-number": b'{"object": ' + b"9" * 5000 + b"}",
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_bodies_are_400_and_change_nothing(
    client, engine, workspace_id, whatsapp, case
):
    raw = MALFORMED[case]
    good = wa_message("text", 50, text={"body": "stored only if the whole body is valid"})
    if case in ("message-without-from", "message-id-object", "sender-too-long"):
        # A valid message before the broken one: a batch is refused whole.
        payload = json.loads(raw)
        payload["entry"][0]["changes"][0]["value"]["messages"].insert(0, good)
        raw = json.dumps(payload).encode()
    before = counts(engine, workspace_id)
    _, headers = signed(SECRET, raw)
    response = await client.post(url(whatsapp), content=raw, headers=headers)
    assert_error(response, 400)
    assert counts(engine, workspace_id) == before


async def test_a_messenger_body_sent_to_instagram_is_400(client, instagram):
    response = await post(client, instagram, page_body())
    assert_error(response, 400, 'object must be \\"instagram\\"')


async def test_an_oversized_body_is_413(client, whatsapp):
    raw = b" " * (1024 * 1024 + 1)
    _, headers = signed(SECRET, raw)
    response = await client.post(url(whatsapp), content=raw, headers=headers)
    assert_error(response, 413)
