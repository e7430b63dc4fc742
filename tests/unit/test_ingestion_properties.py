"""Property-based tests (Hypothesis) of ingestion: generated payloads, valid and hostile,
posted to the HTTP route and given to the service, on SQLite and PostgreSQL.

Whatever the payload: either a 4xx with a readable JSON error and nothing changed, or a
200 (a retried message: nothing changed) / 201 whose answer is exactly what was stored.
A payload built only from valid parts must be accepted.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlmodel import Session

from cloodot_app.api import build_api
from cloodot_app.db import session_scope
from cloodot_app.errors import UserError
from cloodot_app.models import Contact, Message
from cloodot_app.services.ingestion import IncomingMessage, ingest_message
from tests.unit.ingestion_helpers import api_client, counts, ingest_token

EXAMPLES = 150
PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written to .hypothesis/ in the work tree
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one database per test, shared by examples
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

KEYS = ("external_id", "text", "name", "email", "phone", "message_id", "direction", "sent_at")
NOW = datetime.now(UTC)

# --------------------------------------------------------------------------- valid parts

# Small pools, so that examples meet the same sender, phone or message id again.
valid_parts: dict[str, st.SearchStrategy] = {
    "external_id": st.sampled_from(["wa-1", "wa-2", " ig 3 ", "Ünï-4", "x" * 200]),
    "text": st.text(min_size=1, max_size=60).filter(lambda t: t.strip() and "\x00" not in t)
    | st.just("y" * 4000),
    "name": st.none() | st.sampled_from(["", "Ana", "  Bea  ", "李小龙", "N" * 200]),
    "email": st.none() | st.sampled_from(["ana@example.com", "Bea@Example.ORG", ""]),
    "phone": st.none() | st.sampled_from(["+34 612 345 678", "+442079460958", "004915123456789"]),
    "message_id": st.none() | st.sampled_from(["m-1", "m-2", "m-3", "", " m-4 "]),
    "direction": st.sampled_from(["incoming", "outgoing"]),
    "sent_at": st.none()
    | st.datetimes(
        min_value=datetime(2000, 1, 2),
        max_value=NOW.replace(tzinfo=None) - timedelta(days=1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]
        ),
    ).map(datetime.isoformat),
}

# --------------------------------------------------------------------------- hostile parts

hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\ud800",
            "x\udfff",
            "🙂" * 3,
            "\u202e" + "evil",
            "x" * 201,
            "x" * 4001,
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "2026-13-45T25:61:00Z",
            "2026-01-01T00:00:00",
            "1e309",
            "NaN",
            "'; DROP TABLE contact; --",
            "not-an-email@",
            "+1",
            "ana@example.com",
        ]
    ),
)
any_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.sampled_from([10**100, -(10**4200), 2**63, -(2**63) - 1])
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def payloads(draw) -> tuple[dict[str, Any], bool]:
    """(payload, built only from valid parts?)"""
    hostile = draw(st.booleans())
    payload: dict[str, Any] = {}
    for key in KEYS:
        required = key in ("external_id", "text")
        if not hostile:
            if required or draw(st.booleans()):
                payload[key] = draw(valid_parts[key])
            continue
        choice = draw(st.sampled_from(["valid", "valid", "hostile", "absent"]))
        if choice == "valid":
            payload[key] = draw(valid_parts[key])
        elif choice == "hostile":
            payload[key] = draw(any_json)
    if hostile and draw(st.booleans()):
        payload.update(draw(st.dictionaries(hostile_text, any_json, max_size=2)))
    return payload, not hostile


channels = st.sampled_from(["whatsapp", "instagram", "webchat"])


# --------------------------------------------------------------------------- checking


def assert_stored_exactly(
    engine: sa.Engine,
    workspace_id: int,
    channel: str,
    incoming: IncomingMessage,
    answer: dict[str, Any],
    before: dict[str, int],
) -> None:
    """A 200/201 answer names exactly the rows that hold the payload."""
    after = counts(engine, workspace_id)
    with Session(engine) as session:
        message = session.get(Message, answer["message_id"])
        contact = session.get(Contact, answer["contact_id"])
        assert message is not None and contact is not None
        assert message.conversation_id == answer["conversation_id"]
        assert (message.workspace_id, message.channel) == (workspace_id, channel)
        assert message.external_id == incoming.message_id
        if answer["duplicate"]:
            assert after == before
            return
        assert message.text == incoming.text
        assert message.direction == incoming.direction.value
        if incoming.sent_at is not None:
            assert message.sent_at == incoming.sent_at
        assert after["message"] == before["message"] + 1
        assert after["contact"] == before["contact"] + answer["contact_created"]
        assert after["data_version"] == before["data_version"] + 1
        if answer["contact_created"]:
            assert (contact.channel, contact.external_id) == (channel, incoming.external_id)
            assert contact.email == incoming.email and contact.phone == incoming.phone
            assert contact.name == (
                incoming.name or incoming.email or incoming.phone or f"{channel.title()} visitor"
            )


def json_body(payload: dict[str, Any]) -> bytes:
    # ensure_ascii keeps lone surrogates as \\ud800 escapes, as a hostile client would send.
    return json.dumps(payload).encode()


# --------------------------------------------------------------------------- the route


@pytest.fixture
async def _api(database_url, monkeypatch):
    async with api_client(database_url, monkeypatch):
        yield


@PROPERTY_SETTINGS
@given(case=payloads(), channel=channels)
def test_any_payload_posted_to_the_route_is_refused_cleanly_or_stored_exactly(
    _api, engine, workspace_id, case, channel
):
    payload, valid = case
    token = ingest_token(engine, workspace_id)
    before = counts(engine, workspace_id)

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=build_api(), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post(
                f"/api/channels/{channel}/messages",
                content=json_body(payload),
                headers={"Authorization": f"Bearer {token}"},
            )

    response = asyncio.run(post())
    event(f"HTTP {response.status_code}")
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code >= 400:
        assert not valid, (payload, response.text)
        assert isinstance(body["error"], str) and body["error"]
        assert "Traceback" not in response.text
        for detail in body.get("details", []):
            assert isinstance(detail["field"], str) and isinstance(detail["message"], str)
        assert counts(engine, workspace_id) == before
        return
    assert response.status_code == (200 if body["duplicate"] else 201)
    incoming = IncomingMessage.model_validate(payload)
    assert_stored_exactly(engine, workspace_id, channel, incoming, body, before)


# --------------------------------------------------------------------------- the service


@PROPERTY_SETTINGS
@given(case=payloads(), channel=channels)
def test_any_payload_given_to_the_service_is_refused_cleanly_or_stored_exactly(
    engine, workspace_id, case, channel
):
    payload, valid = case
    before = counts(engine, workspace_id)
    try:
        incoming = IncomingMessage.model_validate(payload)
    except ValidationError as error:
        event("refused by validation")
        assert not valid, (payload, error)
        assert all(isinstance(e["msg"], str) for e in error.errors())
        return
    try:
        with session_scope(engine) as session:
            result = ingest_message(session, workspace_id, channel, incoming)
    except UserError:
        assert counts(engine, workspace_id) == before
        raise
    event("duplicate" if result.duplicate else "stored")
    answer = {
        "contact_id": result.contact_id,
        "conversation_id": result.conversation_id,
        "message_id": result.message_id,
        "contact_created": result.contact_created,
        "duplicate": result.duplicate,
    }
    assert_stored_exactly(engine, workspace_id, channel, incoming, answer, before)
