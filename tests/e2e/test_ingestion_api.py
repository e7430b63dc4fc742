"""POST /api/channels/{channel}/messages over real HTTP against the running app."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from cloodot_app.models import Contact, Message, Workspace


@pytest.fixture
def post(app_server):
    def send(channel: str, body, token: str | None = None, raw: bytes | None = None):
        token = app_server.token if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = f"{app_server.url}/api/channels/{channel}/messages"
        if raw is not None:
            return httpx.post(url, content=raw, headers=headers, timeout=10)
        return httpx.post(url, json=body, headers=headers, timeout=10)

    return send


def counts(app_server) -> tuple[int, int, int]:
    with app_server.session() as session:
        return (
            session.execute(sa.select(sa.func.count()).select_from(Contact)).scalar_one(),
            session.execute(sa.select(sa.func.count()).select_from(Message)).scalar_one(),
            session.execute(sa.select(Workspace.data_version)).scalar_one(),
        )


def test_new_sender_creates_a_contact_and_a_second_message_reuses_it(post, app_server):
    body = {
        "external_id": "wa-7001",
        "name": "Ines Api",
        "phone": "+34 612 345 678",
        "text": "Hola, ¿tenéis envío a Canarias?",
        "message_id": "m-7001-1",
    }
    first = post("whatsapp", body)
    assert first.status_code == 201, first.text
    assert first.json()["contact_created"] is True
    second = post("whatsapp", {**body, "message_id": "m-7001-2", "text": "¿Y a Ceuta?"})
    assert second.status_code == 201
    assert second.json()["contact_created"] is False
    assert second.json()["contact_id"] == first.json()["contact_id"]
    with app_server.session() as session:
        contact = session.get(Contact, first.json()["contact_id"])
        assert contact.phone == "+34612345678"
        assert contact.last_message_text == "¿Y a Ceuta?"
        assert contact.channel == "whatsapp"


def test_the_same_message_delivered_twice_is_stored_once(post, app_server):
    body = {"external_id": "ig-42", "name": "Retry Rita", "text": "hi", "message_id": "ig-m-1"}
    assert post("instagram", body).status_code == 201
    before = counts(app_server)
    again = post("instagram", body)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert counts(app_server) == before


def test_sender_known_by_email_on_another_channel_is_matched(post, app_server):
    first = post(
        "webchat", {"external_id": "visitor-1", "email": "Shared@Example.com", "text": "a"}
    )
    second = post("facebook", {"external_id": "psid-9", "email": "shared@example.com", "text": "b"})
    assert second.json()["contact_id"] == first.json()["contact_id"]


@pytest.mark.parametrize(
    ("channel", "body", "token", "raw", "status", "needle"),
    [
        ("whatsapp", {"external_id": "x", "text": "t"}, "wrong-token", None, 401, "token"),
        ("whatsapp", {"external_id": "x", "text": "t"}, "", None, 401, "Bearer"),
        ("telegram", {"external_id": "x", "text": "t"}, None, None, 404, "Unknown channel"),
        ("whatsapp", None, None, b"{not json", 400, "not valid JSON"),
        ("whatsapp", [1, 2], None, None, 400, "JSON object"),
        ("whatsapp", {"text": "no sender"}, None, None, 422, "external_id"),
        ("whatsapp", {"external_id": "x", "text": ""}, None, None, 422, "text"),
        ("whatsapp", {"external_id": "x", "text": "t", "email": "nope"}, None, None, 422, "email"),
        ("whatsapp", {"external_id": "x", "text": "t", "phone": "12"}, None, None, 422, "phone"),
        ("whatsapp", {"external_id": "x", "text": "t", "colour": "red"}, None, None, 422, "colour"),
        (
            "whatsapp",
            {"external_id": "x", "text": "t", "sent_at": "2999-01-01T00:00:00Z"},
            None,
            None,
            422,
            "future",
        ),
        # issue 8: each of these was a 500, or read the whole body before the token.
        (
            "whatsapp",
            {"external_id": "x", "text": "t", "sent_at": "0001-01-01T00:00:00+14:00"},
            None,
            None,
            422,
            "sent_at",
        ),
        ("whatsapp", {"external_id": "x", "text": "a\x00b"}, None, None, 422, "NUL"),
        ("whatsapp", None, "wrong-token", b"{not json", 401, "token"),
        ("whatsapp", None, None, b" " * (64 * 1024 + 1), 413, "larger than"),
    ],
)
def test_bad_requests_get_a_clear_error_and_change_nothing(
    post, app_server, channel, body, token, raw, status, needle
):
    before = counts(app_server)
    response = post(channel, body, token=token, raw=raw)
    assert response.status_code == status, response.text
    assert needle in response.text
    assert "error" in response.json()
    assert counts(app_server) == before


def test_twenty_identical_deliveries_at_once_store_one_message(post, app_server):
    """issue 8: a channel retrying in parallel stored the message (and its sender) up to
    18 times. Against the real server: exactly one of each."""
    body = {"external_id": "wa-race", "text": "once", "message_id": "m-race", "name": "Race"}
    before = counts(app_server)
    barrier = threading.Barrier(20)

    def deliver(_):
        barrier.wait(timeout=30)
        return post("whatsapp", body)

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(deliver, range(20)))
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len({r.json()["contact_id"] for r in responses}) == 1
    after = counts(app_server)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
