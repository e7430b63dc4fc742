"""The two HTTP routes that put a session in the browser and take it out again.

The session token lives only in an HttpOnly, SameSite=Strict cookie: page scripts never
see it, other sites' pages never send it, and the websocket carries it to the server on
every connection (state/access.py reads it from there).
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse

from cloodot_app import routes
from cloodot_app.db import session_scope
from cloodot_app.errors import TicketError, UserError
from cloodot_app.services import accounts, tickets
from cloodot_app.services.workspaces import ensure_workspace
from cloodot_app.settings import settings
from cloodot_app.state.access import SESSION_COOKIE, session_token
from cloodot_app.state.sign_in import SIGN_IN_TICKET, safe_next

logger = logging.getLogger(__name__)


def app_url(path: str) -> str:
    return settings.app_url.rstrip("/") + path


def _client(request: Request) -> tuple[str, str]:
    host = request.client.host if request.client else ""
    return request.headers.get("user-agent", "")[:300], host


async def start_session(request: Request) -> RedirectResponse:
    """GET /api/session/start?ticket=…&next=… — trade a one-use sign-in ticket for a
    session cookie, then go on to the page asked for."""
    next_path = safe_next(request.query_params.get("next"))
    user_agent, ip = _client(request)
    try:
        payload = tickets.read(
            SIGN_IN_TICKET, request.query_params.get("ticket", ""), tickets.ticket_secret()
        )
    except TicketError:
        return RedirectResponse(app_url(routes.SIGN_IN + "?problem=expired"), status_code=303)

    def open_session() -> str:
        with session_scope() as session:
            if not accounts.use_ticket_once(session, payload["n"]):
                raise TicketError(tickets.INVALID)
            if "demo" in payload:
                workspace = ensure_workspace(session, settings.workspace_slug)
                return accounts.start_demo_session(
                    session, workspace.id, payload["demo"], user_agent, ip
                )
            return accounts.open_session(
                session, int(payload["u"]), user_agent, ip, workspace_id=payload.get("w")
            )

    try:
        token = await run_in_threadpool(open_session)
    except (UserError, KeyError, TypeError, ValueError) as error:
        logger.info("sign-in ticket refused: %s", error)
        return RedirectResponse(app_url(routes.SIGN_IN + "?problem=expired"), status_code=303)
    response = RedirectResponse(app_url(next_path), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_max_days * 24 * 3600,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.app_url.startswith("https://"),
    )
    return response


async def end_session(request: Request) -> RedirectResponse:
    """GET /api/session/end — sign this browser out: the session ends on the server (so
    a copied cookie is worthless) and the cookie goes."""
    token = session_token(request.headers.get("cookie", ""))

    def end() -> None:
        with session_scope() as session:
            accounts.end_session(session, token)

    if token:
        await run_in_threadpool(end)
    response = RedirectResponse(app_url(routes.SIGN_IN + "?problem=signed-out"), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
