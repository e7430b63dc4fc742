"""Only the app's own origin may use it: a raw websocket client knocks on /_event the way
a browser does (Origin header, the signed-in visitor's cookie) from a foreign site and
from the app's own address, and a CORS preflight asks for the export route."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from cloodot_app.state.access import SESSION_COOKIE

FOREIGN = "http://evil.example"
EVENT_PATH = "/_event/?EIO=4&transport=websocket"  # what Reflex's socket.io client opens


def _open_event_socket(app_server, origin: str) -> tuple[str, str]:
    """Open the websocket as a signed-in visitor's browser would on a page of `origin`;
    the engine.io OPEN packet and the answer to a socket.io CONNECT to Reflex's namespace."""
    url = app_server.url.replace("http://", "ws://", 1) + EVENT_PATH
    cookie = f"{SESSION_COOKIE}={app_server.session_token('admin')}"
    with connect(
        url, origin=origin, additional_headers={"Cookie": cookie}, open_timeout=15
    ) as socket:
        opened = socket.recv(timeout=15)
        socket.send("40/_event,")
        return opened, socket.recv(timeout=15)


def test_a_websocket_from_a_foreign_origin_is_refused(app_server):
    with pytest.raises(InvalidStatus) as refused:
        _open_event_socket(app_server, FOREIGN)
    assert refused.value.response.status_code in (400, 403)


def test_a_websocket_from_a_lookalike_origin_is_refused(app_server):
    """Same host, other port; and the app's address as a subdomain of another site."""
    port = int(app_server.url.rsplit(":", 1)[1])
    for origin in (f"http://127.0.0.1:{port + 1}", f"http://127.0.0.1.evil.example:{port}"):
        with pytest.raises(InvalidStatus):
            _open_event_socket(app_server, origin)


@pytest.mark.parametrize("alias", [False, True], ids=["app-url", "localhost-alias"])
def test_a_websocket_from_the_apps_own_origin_is_accepted(app_server, alias):
    origin = app_server.url.replace("127.0.0.1", "localhost") if alias else app_server.url
    opened, connected = _open_event_socket(app_server, origin)
    assert opened.startswith('0{"sid":'), opened
    assert connected.startswith('40/_event,{"sid":'), connected


def _preflight(app_server, origin: str) -> httpx.Response:
    return httpx.options(
        f"{app_server.url}/api/contacts/export.csv",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )


def test_a_cors_preflight_from_a_foreign_origin_gets_no_allow_origin(app_server):
    response = _preflight(app_server, FOREIGN)
    assert "access-control-allow-origin" not in response.headers
    assert response.status_code == 400
    # Nor does a plain cross-origin request: the browser may not read the answer.
    answer = httpx.get(
        f"{app_server.url}/api/contacts/export.csv", headers={"Origin": FOREIGN}, timeout=10
    )
    assert "access-control-allow-origin" not in answer.headers


def test_a_cors_preflight_from_the_apps_origin_is_allowed(app_server):
    response = _preflight(app_server, app_server.url)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == app_server.url
    assert response.headers["access-control-allow-credentials"] == "true"
