"""The HTTP routes against hostile input: the token is checked before the body is read,
bodies are read with a cap, and every bad request gets a 4xx JSON error that changes
nothing — never a 500. In-process (ASGI), on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from cloodot_app.api import MAX_BODY_BYTES
from tests.conftest import member_session, session_cookie
from tests.unit.ingestion_helpers import api_client, counts, ingest_token

URL = "/api/channels/whatsapp/messages"
CHUNK = 64 * 1024


class Body:
    """A streamed request body that counts how much of itself was read."""

    def __init__(self, total_bytes: int, chunk: bytes = b" " * CHUNK) -> None:
        self.total, self.chunk, self.sent = total_bytes, chunk, 0

    async def __aiter__(self):
        while self.sent < self.total:
            self.sent += len(self.chunk)
            yield self.chunk


@pytest.fixture
async def client(database_url, monkeypatch):
    async with api_client(database_url, monkeypatch) as client:
        yield client


@pytest.fixture
def manager(session, workspace_id) -> dict[str, str]:
    """The headers of a signed-in manager's browser (managers export and import)."""
    return session_cookie(member_session(session, workspace_id, "manager"))


@pytest.fixture
def auth(engine, workspace_id) -> dict[str, str]:
    return {"Authorization": f"Bearer {ingest_token(engine, workspace_id)}"}


def assert_json_error(response, status: int, needle: str = "") -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert needle in response.text
    return body


# --------------------------------------------------------------------------- token first


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer wrong-token",
        "Bearer " + "x" * 5000,
        b"Bearer t\xf6k\xe9n",
        "Basic abc",
        "",
    ],
    ids=["wrong", "5000-chars", "non-ascii", "basic", "none"],
)
async def test_a_bad_token_is_refused_before_the_body_is_read(
    client, engine, workspace_id, authorization
):
    before = counts(engine, workspace_id)
    body = Body(100 * 1024 * 1024)  # 100 MB, never read
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.post(URL, content=body, headers=headers)
    assert_json_error(response, 401)
    assert body.sent <= CHUNK
    assert counts(engine, workspace_id) == before


async def test_a_bad_token_with_invalid_json_is_401_not_400(client):
    response = await client.post(
        URL, content=b"{not json", headers={"Authorization": "Bearer nope"}
    )
    assert_json_error(response, 401, "token")


# --------------------------------------------------------------------------- sizes


async def test_a_declared_oversized_body_is_refused_unread(client, auth):
    response = await client.post(
        URL, content=b"x" * (MAX_BODY_BYTES + 1), headers={**auth, "Content-Type": "text/plain"}
    )
    assert_json_error(response, 413, str(MAX_BODY_BYTES))


async def test_a_streamed_body_is_cut_off_just_past_the_cap(client, engine, workspace_id, auth):
    before = counts(engine, workspace_id)
    body = Body(100 * 1024 * 1024)  # chunked: no Content-Length to trust
    response = await client.post(URL, content=body, headers=auth)
    assert_json_error(response, 413)
    assert body.sent <= MAX_BODY_BYTES + CHUNK
    assert counts(engine, workspace_id) == before


async def test_a_body_at_the_cap_is_read(client, auth):
    text = "x" * 4000
    payload = json.dumps({"external_id": "wa-1", "text": text})
    padded = payload[:-1] + " " * (MAX_BODY_BYTES - len(payload)) + "}"
    assert len(padded.encode()) == MAX_BODY_BYTES
    response = await client.post(URL, content=padded.encode(), headers=auth)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("length", ["abc", "-1", "1e9"])
async def test_a_malformed_content_length_is_refused(client, auth, length):
    response = await client.post(URL, content=b"{}", headers={**auth, "Content-Length": length})
    assert 400 <= response.status_code < 500


# --------------------------------------------------------------------------- hostile bodies


HOSTILE = [
    ({"sent_at": "0001-01-01T00:00:00+14:00"}, "sent_at"),
    ({"sent_at": "1969-12-31T23:59:59Z"}, "sent_at"),
    ({"sent_at": "9999-12-31T23:59:59-14:00"}, "sent_at"),
    ({"sent_at": 10**30}, "sent_at"),
    ({"text": "a\x00b"}, "NUL"),
    ({"name": "Ana\x00"}, "NUL"),
    ({"external_id": "\x00"}, "NUL"),
    ({"message_id": "m\x00"}, "NUL"),
    ({"email": "a\x00@example.com"}, "email"),
    ({"phone": "+34\x00612345678"}, "phone"),
    ({"text": "\ud800"}, "unicode"),
    ({"name": {"first": "Ana"}}, "name"),
    ({"text": ["a"]}, "text"),
    ({"text": 10**30}, "text"),
    ({"direction": "sideways"}, "direction"),
    ({"\ud800": 1}, "error"),
    ({"k" * 10_000: 1}, "error"),
    ({"email": "ana@" + "x" * 300 + ".com"}, "email"),
]


@pytest.mark.parametrize(("fields", "needle"), HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
async def test_hostile_fields_get_a_422_and_change_nothing(
    client, engine, workspace_id, auth, fields, needle
):
    before = counts(engine, workspace_id)
    payload = {"external_id": "wa-1", "text": "hi", **fields}
    raw = json.dumps(payload).encode()  # ensure_ascii: lone surrogates travel as \ud800
    response = await client.post(URL, content=raw, headers=auth)
    body = assert_json_error(response, 422, needle)
    assert all(len(d["field"]) <= 81 for d in body["details"])
    assert counts(engine, workspace_id) == before


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 50_000 + b"]" * 50_000,  # deeper than Python's recursion limit
        b'{"external_id": "x", "text": ' + b"9" * 5000 + b"}",  # over 4,300 digits
        b"\xff\xfe{}",
        b"",
        b"null",
        b'"text"',
    ],
    ids=["deep", "huge-int", "bad-utf8", "empty", "null", "string"],
)
async def test_bodies_that_are_not_a_json_object_get_a_400(client, engine, workspace_id, auth, raw):
    if len(raw) > MAX_BODY_BYTES:
        raw = b"[" * (MAX_BODY_BYTES // 2) + b"]" * (MAX_BODY_BYTES // 2)
    before = counts(engine, workspace_id)
    response = await client.post(URL, content=raw, headers=auth)
    assert_json_error(response, 400, "JSON")
    assert counts(engine, workspace_id) == before


async def test_an_unknown_channel_is_404(client, auth):
    response = await client.post("/api/channels/" + "t" * 500 + "/messages", json={}, headers=auth)
    body = assert_json_error(response, 404, "Unknown channel")
    assert len(body["error"]) < 200


# --------------------------------------------------------------------------- other routes


@pytest.mark.parametrize("token", ["x" * 5000, "a.b", "%00", "é", "a" * 65, "-"], ids=str.__len__)
async def test_the_import_errors_route_answers_404_for_any_token(client, manager, token):
    response = await client.get(f"/api/imports/{token}/errors.csv", headers=manager)
    assert_json_error(response, 404, "No such import report")


async def test_the_import_errors_route_is_for_members_who_may_import(client, session, workspace_id):
    path = "/api/imports/AbCdEfGhIjKlMnOpQrStUv/errors.csv"
    assert_json_error(await client.get(path), 401, "Sign in to continue.")
    agent = session_cookie(member_session(session, workspace_id, "agent"))
    assert_json_error(await client.get(path, headers=agent), 403, "cannot import contacts")


@pytest.mark.parametrize("ticket", ["é.x", "x" * 5000 + ".y", "\u2028.\u2029", ".", "a."])
async def test_the_export_route_answers_403_for_any_ticket(client, manager, ticket):
    response = await client.get(
        "/api/contacts/export.csv", params={"ticket": ticket}, headers=manager
    )
    assert_json_error(response, 403, "not valid")
