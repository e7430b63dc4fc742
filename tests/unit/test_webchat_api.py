"""The WebChat endpoint (in-process ASGI, SQLite and PostgreSQL): only the site's allowed
origins get in (and get CORS headers), a returning visitor stays one contact, a resent
message is stored once, rate limits per visitor and per site, bad input refused with
nothing stored; demo mode's sample page; and the widget file stays small."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from cloodot_app import api
from cloodot_app.models import ChannelConnection, Contact, Message
from cloodot_app.services import channels
from cloodot_app.services.channels import webchat
from cloodot_app.settings import settings
from tests.unit.ingestion_helpers import api_client, counts

ORIGIN = "https://www.acme.example"
VISITOR = "0f8fad5b-d9cb-469f-a165-70867728950e"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def client(database_url, monkeypatch):
    async with api_client(database_url, monkeypatch) as client:
        yield client


@pytest.fixture(autouse=True)
def limiter(monkeypatch) -> webchat.WebchatLimiter:
    fresh = webchat.WebchatLimiter(per_visitor="3 per minute", per_site="5 per minute")
    monkeypatch.setattr(webchat, "webchat_limiter", lambda: fresh)
    return fresh


@pytest.fixture
def site(session, workspace_id) -> channels.ConnectionRow:
    row = channels.create_connection(
        session,
        workspace_id,
        None,
        "webchat",
        "Acme website",
        allowed_origins=[ORIGIN, "http://localhost:8080"],
        ask_details=False,
    )
    session.commit()
    return row


def _message(n: int = 1, visitor: str = VISITOR, **fields) -> dict:
    return {
        "visitor_id": visitor,
        "message_id": f"msg-{n:08d}",
        "text": f"Hello #{n}",
        **fields,
    }


async def send(client, site, body, origin: str | None = ORIGIN, raw: bytes | None = None):
    headers = {"Content-Type": "text/plain;charset=UTF-8"}
    if origin is not None:
        headers["Origin"] = origin
    content = raw if raw is not None else json.dumps(body).encode()
    return await client.post(f"/api/webchat/{site.key}/messages", content=content, headers=headers)


async def test_hello_gives_the_sites_name_to_its_own_pages(client, site):
    response = await client.post(
        f"/api/webchat/{site.key}/hello",
        content=b'{"visitor_id": "%s"}' % VISITOR.encode(),
        headers={"Origin": ORIGIN, "Content-Type": "text/plain"},
    )
    assert response.status_code == 200
    assert response.json() == {"name": "Acme website", "ask_details": False}
    assert response.headers["access-control-allow-origin"] == ORIGIN


async def test_a_message_creates_the_contact_and_a_returning_visitor_stays_one(
    client, engine, site, workspace_id
):
    first = await send(client, site, _message(1, name="Dana Levi", email="dana@levi.example"))
    assert first.status_code == 201, first.text
    assert first.headers["access-control-allow-origin"] == ORIGIN
    # Days later, from another allowed page, without the details.
    again = await send(client, site, _message(2), origin="http://localhost:8080")
    assert again.status_code == 201
    with engine.connect() as connection:
        contacts = connection.execute(
            sa.select(Contact.name, Contact.email, Contact.channel, Contact.external_id)
        ).all()
        texts = connection.execute(sa.select(Message.text).order_by(Message.id)).scalars().all()
    assert contacts == [("Dana Levi", "dana@levi.example", "webchat", VISITOR)]
    assert texts == ["Hello #1", "Hello #2"]
    # The site noted the delivery.
    with engine.connect() as connection:
        stamped = connection.execute(sa.select(ChannelConnection.last_delivery_at)).scalar_one()
    assert stamped is not None


async def test_a_resent_message_is_stored_once(client, engine, site, workspace_id):
    first = await send(client, site, _message(1))
    before = counts(engine, workspace_id)
    again = await send(client, site, _message(1))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == {"ok": True, "duplicate": True}
    assert counts(engine, workspace_id) == before


async def test_the_same_message_sent_at_once_is_stored_once(client, engine, site, workspace_id):
    responses = await asyncio.gather(*(send(client, site, _message(7)) for _ in range(3)))
    assert {r.status_code for r in responses} == {201}
    assert counts(engine, workspace_id)["message"] == 1


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "https://evil.example",
        "http://www.acme.example",
        "https://www.acme.example:8443",
        "null",
        "https://www.acme.example.evil.example",
    ],
)
async def test_other_origins_are_refused_without_cors_headers(
    client, engine, site, workspace_id, origin
):
    before = counts(engine, workspace_id)
    response = await send(client, site, _message(1), origin=origin)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    hello = await client.post(
        f"/api/webchat/{site.key}/hello",
        content=b"{}",
        headers={"Origin": origin} if origin else {},
    )
    assert hello.status_code == 403
    assert counts(engine, workspace_id) == before


async def test_an_unknown_site_or_a_webhook_key_is_404(client, session, workspace_id, site):
    meta = channels.create_connection(
        session, workspace_id, None, "whatsapp", "WA", app_secret="5f3c2a9e8b7d6c1f0e4a3b2c1d0e9f8a"
    )
    session.commit()
    for key in ("no-such-site", meta.key, "x" * 100):
        response = await client.post(
            f"/api/webchat/{key}/messages", json=_message(1), headers={"Origin": ORIGIN}
        )
        assert response.status_code == 404


async def test_a_disconnected_site_stops_at_once(client, session, workspace_id, site):
    channels.delete_connection(session, workspace_id, None, site.id)
    session.commit()
    assert (await send(client, site, _message(1))).status_code == 404


async def test_a_changed_site_list_applies_at_once(client, session, workspace_id, site):
    channels.update_webchat(
        session,
        workspace_id,
        None,
        site.id,
        name="Acme",
        allowed_origins=["https://acme.example"],
        ask_details=True,
    )
    session.commit()
    assert (await send(client, site, _message(1))).status_code == 403
    assert (await send(client, site, _message(1), origin="https://acme.example")).status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (_message(1, text="   "), 422, "Write a message"),
        (_message(1, text="x" * 2001), 422, "Write a message"),
        (_message(1, email="not an email"), 422, "email address is not valid"),
        (_message(1, visitor="short"), 422, "visitor_id"),
        (_message(1, visitor="../../etc/passwd"), 422, "visitor_id"),
        ({"text": "hi"}, 422, "message_id, visitor_id"),
        (_message(1, name="Zoë\x00"), 422, "name"),
        ([], 400, "JSON object"),
    ],
)
async def test_bad_messages_are_refused_and_change_nothing(
    client, engine, site, workspace_id, body, status, needle
):
    before = counts(engine, workspace_id)
    response = await send(client, site, body)
    assert response.status_code == status, response.text
    assert needle in response.json()["error"] + " " + ", ".join(response.json().get("fields", []))
    assert response.headers["access-control-allow-origin"] == ORIGIN  # the widget reads it
    assert counts(engine, workspace_id) == before


async def test_malformed_and_oversized_bodies(client, engine, site, workspace_id):
    before = counts(engine, workspace_id)
    assert (await send(client, site, None, raw=b"{not json")).status_code == 400
    assert (await send(client, site, None, raw=b"\xff")).status_code == 400
    assert (await send(client, site, None, raw=b"[" * 8000)).status_code == 400
    assert (await send(client, site, None, raw=b" " * (9 * 1024))).status_code == 413
    assert counts(engine, workspace_id) == before


async def test_rate_limits_per_visitor_and_per_site(client, engine, site, workspace_id):
    answers = [(await send(client, site, _message(n))).status_code for n in range(4)]
    assert answers == [201, 201, 201, 429]
    limited = await send(client, site, _message(9))
    assert limited.headers["retry-after"] == "60"
    assert "Wait a minute" in limited.json()["error"]
    # Another visitor of the same site: two more, then the site's limit (5) holds.
    other = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    answers = [(await send(client, site, _message(n, other))).status_code for n in range(3)]
    assert answers == [201, 201, 429]
    assert counts(engine, workspace_id)["message"] == 5


async def test_the_demo_page_serves_the_widget_in_demo_mode_only(
    client, engine, monkeypatch, make_workspace
):
    demo_id = make_workspace(settings.workspace_slug)
    monkeypatch.setattr(api, "settings", replace(settings, demo_mode=False))
    assert (await client.get("/demo/webchat")).status_code == 404
    monkeypatch.setattr(api, "settings", replace(settings, demo_mode=True))
    first = await client.get("/demo/webchat")
    second = await client.get("/demo/webchat")
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/html")
    with engine.connect() as connection:
        sites = connection.execute(
            sa.select(
                ChannelConnection.key,
                ChannelConnection.workspace_id,
                ChannelConnection.allowed_origins,
            )
        ).all()
    assert len(sites) == 1  # made once, then found
    key, workspace, origins = sites[0]
    assert workspace == demo_id
    assert f'<script src="/webchat.js" data-site="{key}" async></script>' in first.text
    assert first.text == second.text
    if isinstance(origins, str):  # SQLite hands JSON back as text
        origins = json.loads(origins)
    assert origins[0] == settings.app_url


def test_the_widget_is_small_plain_and_accessible():
    source = (ROOT / "assets" / "webchat.js").read_text(encoding="utf-8")
    assert len(source.encode("utf-8")) < 20 * 1024
    assert "import " not in source and "require(" not in source
    for needle in (
        'role: "dialog"',
        'role: "log"',
        '"aria-expanded"',
        '"aria-label": "Close chat"',
        '"Escape"',
        'role: "status"',
    ):
        assert needle in source
