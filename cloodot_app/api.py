"""HTTP routes served beside the Reflex app (same port in production)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    StreamingResponse,
)
from starlette.routing import Route

from cloodot_app import routes, session_routes
from cloodot_app.access import Capability, Identity, refusal
from cloodot_app.db import session_scope
from cloodot_app.errors import UserError
from cloodot_app.models import MESSAGING_CHANNELS, ChannelKind
from cloodot_app.services import accounts, channels, contact_audit, export
from cloodot_app.services.channels import webchat, webhooks
from cloodot_app.services.channels.payloads import MalformedPayload
from cloodot_app.services.importer import import_file, problems_suffix
from cloodot_app.services.ingestion import IncomingMessage, UnknownChannel, ingest_message
from cloodot_app.services.workspaces import workspace_by_token
from cloodot_app.settings import settings

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# A webhook POST may carry a batch of updates; Meta's stay far below this.
MAX_WEBHOOK_BYTES = 1024 * 1024
# Workspace ingestion tokens are secrets.token_urlsafe(24) (32 characters); the column
# holds 128. Anything longer is not a token and is refused without a database query.
MAX_TOKEN_LENGTH = 128
# Import report tokens are secrets.token_urlsafe(16): 22 URL-safe characters.
_IMPORT_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
# What a validation error may echo back of a field name (it can be any JSON key).
_FIELD_NAME_SHOWN = 80


def _error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


# Who may call each route (the authorisation test requires every route to say):
# a signed-in member with a capability, the workspace's ingestion token, or anyone
# holding a one-use ticket.
ROUTE_RULES: dict[str, str] = {}


def rule(description: str):
    def declare(endpoint):
        ROUTE_RULES[endpoint.__name__] = description
        return endpoint

    return declare


async def _member(request: Request, capability: Capability) -> Identity | JSONResponse:
    """The member this request's session cookie belongs to, if their role has
    `capability`; otherwise the JSON answer that refuses it (401 / 403)."""
    token = session_routes.session_token(request.headers.get("cookie", ""))

    def resolve() -> Identity | None:
        with session_scope() as session:
            return accounts.resolve_session(session, token)

    identity = await run_in_threadpool(resolve) if token else None
    if identity is None:
        return _error(401, "Sign in to continue.")
    if not identity.can(capability):
        return _error(403, refusal(identity.role, capability))
    return identity


class _BodyTooLarge(Exception):
    pass


def _bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _plausible_token(token: str) -> bool:
    return 0 < len(token) <= MAX_TOKEN_LENGTH and token.isascii() and token.isprintable()


def _workspace_for_token(token: str) -> int | None:
    with session_scope() as session:
        workspace = workspace_by_token(session, token)
        return None if workspace is None else workspace.id


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, read as it arrives and refused (_BodyTooLarge) as soon as it
    passes `limit` bytes: a 100 MB body costs at most one chunk past the limit."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _shown_field(location: tuple) -> str:
    name = ".".join(str(part) for part in location) or "body"
    if len(name) > _FIELD_NAME_SHOWN:
        name = name[:_FIELD_NAME_SHOWN] + "…"
    # A JSON key may hold a lone surrogate, which the JSON response could not encode.
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


@rule("a channel holding the workspace's ingestion token (Authorization: Bearer)")
async def post_channel_message(request: Request) -> JSONResponse:
    """POST /api/channels/{channel}/messages — a channel delivers one message.

    The token is checked before anything is read from the body, and the body is read
    with a cap: an unauthenticated or oversized request costs neither memory nor parsing.
    """
    token = _bearer_token(request)
    if not token:
        return _error(401, "Send the workspace's ingestion token as 'Authorization: Bearer …'.")
    workspace_id = (
        await run_in_threadpool(_workspace_for_token, token) if _plausible_token(token) else None
    )
    if workspace_id is None:
        return _error(401, "That ingestion token does not belong to any workspace.")
    channel = request.path_params["channel"]
    if channel not in {c.value for c in MESSAGING_CHANNELS}:
        names = ", ".join(c.value for c in MESSAGING_CHANNELS)
        return _error(404, f"Unknown channel “{channel[:40]}”; use one of {names}.")
    try:
        body = await _read_body(request, MAX_BODY_BYTES)
    except _BodyTooLarge:
        return _error(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        payload = json.loads(body or b"null")
    except (ValueError, RecursionError):
        # ValueError covers malformed JSON, bad UTF-8 and integers of over 4,300 digits.
        return _error(400, "The body is not valid JSON.")
    if not isinstance(payload, dict):
        return _error(400, "The body must be a JSON object.")
    try:
        incoming = IncomingMessage.model_validate(payload)
    except ValidationError as error:
        details = [
            {"field": _shown_field(e["loc"]), "message": e["msg"]}
            for e in error.errors(include_url=False, include_input=False, include_context=False)
        ]
        return _error(422, "Some fields are missing or invalid.", details=details)

    def ingest():
        with session_scope() as session:
            return ingest_message(session, workspace_id, channel, incoming)

    try:
        result = await run_in_threadpool(ingest)
    except UnknownChannel as error:
        return _error(404, str(error))
    except UserError as error:
        return _error(422, str(error))
    return JSONResponse(
        {
            "contact_id": result.contact_id,
            "conversation_id": result.conversation_id,
            "message_id": result.message_id,
            "contact_created": result.contact_created,
            "duplicate": result.duplicate,
        },
        status_code=200 if result.duplicate else 201,
    )


def _connection_for_key(key: str) -> channels.ConnectionKeys | None:
    with session_scope() as session:
        return channels.connection_by_key(session, key)


async def _webhook_connection(request: Request) -> channels.ConnectionKeys | JSONResponse:
    key = request.path_params["key"]
    keys = await run_in_threadpool(_connection_for_key, key) if len(key) <= 64 else None
    if keys is None or keys.kind not in channels.META_KINDS:
        return _error(
            404,
            "No channel is connected at this address. Copy the webhook URL "
            "from Settings → Channels again.",
        )
    return keys


@rule("anyone with the connection's verify token (Meta's subscription handshake)")
async def get_webhook(request: Request):
    """GET /api/webhooks/{key}?hub.mode=subscribe&hub.verify_token=…&hub.challenge=… —
    the provider checks the URL: the challenge comes back only for the right token."""
    keys = await _webhook_connection(request)
    if isinstance(keys, JSONResponse):
        return keys
    challenge = webhooks.handshake(keys, request.query_params)
    if challenge is None:
        return _error(403, "The verify token does not match this connection's.")
    return PlainTextResponse(
        challenge, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    )


@rule("the provider, signing the body with the connection's app secret (X-Hub-Signature-256)")
async def post_webhook(request: Request) -> JSONResponse:
    """POST /api/webhooks/{key} — WhatsApp Cloud API, Messenger or Instagram updates.

    The signature is checked on the raw body before it is parsed; a missing or wrong one
    is 401 and nothing is read further. A body that is not the provider's documented
    shape is 400 with nothing stored; otherwise every message is stored once (200).
    """
    keys = await _webhook_connection(request)
    if isinstance(keys, JSONResponse):
        return keys
    signature = request.headers.get(webhooks.SIGNATURE_HEADER)
    if not signature:
        return _error(401, "The X-Hub-Signature-256 header is missing.")
    try:
        body = await _read_body(request, MAX_WEBHOOK_BYTES)
    except _BodyTooLarge:
        return _error(413, f"The body is larger than {MAX_WEBHOOK_BYTES} bytes.")
    if not webhooks.signature_matches(keys.app_secret, body, signature):
        return _error(
            401,
            "The X-Hub-Signature-256 does not match the body: check the app secret in "
            "Settings → Channels.",
        )
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _error(400, "The body is not valid JSON.")
    try:
        batch = webhooks.parse(keys.kind, payload)
        delivery = await run_in_threadpool(webhooks.store, session_scope, keys, batch)
    except MalformedPayload as error:
        return _error(400, "The body is not a valid webhook update.", details=[str(error)])
    except RecursionError:
        return _error(400, "The body is nested too deeply.")
    return JSONResponse(
        {
            "received": delivery.received,
            "stored": delivery.stored,
            "duplicates": delivery.duplicates,
            "ignored": delivery.ignored,
        }
    )


# --------------------------------------------------------------------------- WebChat
#
# The app's one CORS exception: a WebChat site's pages (its allowed origins, and only
# those) may call these two routes from the browser. The widget sends "simple" requests
# (POST, text/plain body, no credentials), so browsers send no preflight: the app-wide
# CORS middleware, which allows only the app's own origin, never has to answer one for
# another origin. These routes add Access-Control-Allow-Origin for the site's origins.


def _webchat_answer(origin: str, body: dict, status: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(
        body,
        status_code=status,
        headers={"Access-Control-Allow-Origin": origin, "Vary": "Origin", **headers},
    )


async def _webchat_site(request: Request) -> tuple[channels.ConnectionKeys, str] | JSONResponse:
    """The site and the page's origin, or the refusal (no CORS headers: the page that
    asked cannot even read it)."""
    key = request.path_params["key"]
    keys = await run_in_threadpool(_connection_for_key, key) if len(key) <= 64 else None
    if keys is None or keys.kind is not ChannelKind.WEBCHAT:
        return _error(404, "No WebChat site has this key.")
    origin = request.headers.get("origin")
    if not webchat.origin_allowed(keys, origin):
        return _error(403, "This chat works only on the site's own web pages.")
    assert origin is not None
    return keys, origin


async def _webchat_json(request: Request, origin: str) -> dict | JSONResponse:
    try:
        body = await _read_body(request, webchat.MAX_BODY_BYTES)
    except _BodyTooLarge:
        return _webchat_answer(origin, {"error": "The message is too long."}, 413)
    try:
        payload = json.loads(body or b"null")
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict):
        return _webchat_answer(origin, {"error": "The body must be a JSON object."}, 400)
    return payload


@rule("a page of one of the WebChat site's allowed origins")
async def post_webchat_hello(request: Request) -> JSONResponse:
    """POST /api/webchat/{key}/hello — the widget opening: the site's name and whether to
    ask for name and email."""
    site = await _webchat_site(request)
    if isinstance(site, JSONResponse):
        return site
    keys, origin = site
    payload = await _webchat_json(request, origin)
    if isinstance(payload, JSONResponse):
        return payload
    try:
        webchat.WebchatHello.model_validate(payload)
    except ValidationError:
        return _webchat_answer(origin, {"error": "The visitor id is missing or invalid."}, 400)
    return _webchat_answer(origin, {"name": keys.name, "ask_details": keys.ask_details})


@rule("a page of one of the WebChat site's allowed origins, within the rate limits")
async def post_webchat_message(request: Request) -> JSONResponse:
    """POST /api/webchat/{key}/messages — a visitor's message: stored once by its id, the
    visitor's contact found by their id (then email) or created."""
    site = await _webchat_site(request)
    if isinstance(site, JSONResponse):
        return site
    keys, origin = site
    payload = await _webchat_json(request, origin)
    if isinstance(payload, JSONResponse):
        return payload
    try:
        message = webchat.WebchatMessage.model_validate(payload)
        incoming = webchat.incoming(message)
    except ValidationError as error:
        fields = sorted({str(e["loc"][0]) for e in error.errors() if e["loc"]})
        if "text" in fields:
            text = "Write a message (up to 2,000 characters)."
        elif fields == ["email"]:
            text = "That email address is not valid."
        else:
            text = "Some fields are missing or invalid: " + ", ".join(fields) + "."
        return _webchat_answer(origin, {"error": text, "fields": fields}, 422)
    limiter = webchat.webchat_limiter()
    if not limiter.allow(keys.id, message.visitor_id):
        return _webchat_answer(
            origin,
            {"error": "Too many messages at once. Wait a minute and send it again."},
            429,
            **{"Retry-After": str(limiter.retry_after())},
        )

    def store():
        with session_scope() as session:
            result = webchat.receive(session, keys, incoming)
            channels.stamp_delivery(session, keys.id)
            return result

    try:
        result = await run_in_threadpool(store)
    except UserError as error:
        return _webchat_answer(origin, {"error": str(error)}, 422)
    return _webchat_answer(origin, {"ok": True, "duplicate": result.duplicate}, 201)


_DEMO_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Northwind Furniture · WebChat demo</title>
<style>
  body {{ margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #1c2024; background: #f9f9fb; }}
  header {{ background: #2f3a56; color: #fff; padding: 20px 32px; }}
  header strong {{ font-size: 20px; }}
  main {{ max-width: 720px; margin: 40px auto; padding: 0 24px; }}
  .note {{ background: #eef1fd; border: 1px solid #c9d2f7; border-radius: 8px; padding: 16px; }}
  a {{ color: #3e63dd; }}
</style>
</head>
<body>
<header><strong>Northwind Furniture</strong> · a sample website</header>
<main>
  <h1>Sofas, tables and chairs, delivered in a week</h1>
  <p>This page stands for any website with the Cloodot WebChat widget on it.</p>
  <div class="note">
    <p><strong>Try it:</strong> open the chat with the button at the bottom right and
    send a message. Then open <a href="{contacts}" target="_blank">All contacts</a> with
    <em>Live</em> on: you appear as a new contact within seconds.</p>
    <p>Come back later: this browser stays the same contact.</p>
  </div>
</main>
{snippet}
</body>
</html>
"""


@rule("anyone, in demo mode only")
async def get_demo_webchat(request: Request):
    """GET /demo/webchat — demo mode's sample website with the widget on it."""
    if not settings.demo_mode:
        return _error(404, "The WebChat sample page is part of demo mode only.")

    def key() -> str | None:
        with session_scope() as session:
            return webchat.demo_site_key(session)

    site_key = await run_in_threadpool(key)
    if site_key is None:
        return _error(404, "The demo workspace does not exist yet.")
    snippet = f'<script src="/webchat.js" data-site="{site_key}" async></script>'
    return HTMLResponse(
        _DEMO_PAGE.format(contacts=routes.CONTACTS_ALL, snippet=snippet),
        headers={"Cache-Control": "no-store"},
    )


@rule("a member who may Download CSV, with a one-use ticket of their workspace")
async def get_contacts_export(request: Request):
    """GET /api/contacts/export.csv?ticket=… — stream a CSV export.

    Only for a signed-in member whose role may export, in the workspace the ticket names;
    the options come only from the signed ticket the app made for this export
    (services.export.make_ticket), never from other query parameters. A ticket works once.
    """
    member = await _member(request, Capability.EXPORT)
    if isinstance(member, JSONResponse):
        return member
    try:
        workspace_id, options, nonce = export.read_export_ticket(
            request.query_params.get("ticket", ""), export.ticket_secret()
        )
    except export.TicketError as error:
        return _error(403, str(error))
    except ValueError:  # e.g. a ticket with non-ASCII characters cannot even be checked
        return _error(403, "This download link is not valid.")
    if workspace_id != member.workspace_id:
        return _error(403, "This download link is for another workspace.")

    def count() -> int:
        with session_scope() as session:
            if not accounts.use_ticket_once(session, nonce):
                raise export.TicketError(
                    "This download link was already used. Start the export again."
                )
            rows = export.validate_export(session, workspace_id, options, settings.export_max_rows)
            # In the ticket's transaction: an export that is refused leaves no entry, and
            # one that is let through cannot start without its entry.
            contact_audit.record_export(
                session,
                workspace_id,
                member,
                options.query,
                rows,
                sort=options.sort,
                limit=options.limit,
            )
            return rows

    try:
        rows = await run_in_threadpool(count)
    except export.TicketError as error:
        return _error(403, str(error))
    except export.ExportError as error:
        return _error(400, str(error))
    filename = export.export_filename(datetime.now(UTC).date())
    chunks = export.export_rows(session_scope, workspace_id, options, promised_rows=rows)
    return StreamingResponse(
        iterate_in_threadpool(chunks),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Export-Rows": str(rows),
            "Cache-Control": "no-store",
        },
    )


@rule("a member who may import, for an import of their workspace")
async def get_import_errors(request: Request):
    """GET /api/imports/{token}/errors.csv — an import's problems (the token is random and
    known only to the tab that ran the import; the file is kept per workspace)."""
    member = await _member(request, Capability.IMPORT)
    if isinstance(member, JSONResponse):
        return member
    token = request.path_params["token"]
    # Checked before it becomes a file name: a 5,000-character token made the file
    # system raise "File name too long" (a 500).
    if not _IMPORT_TOKEN.fullmatch(token):
        return _error(404, "No such import report.")
    path = import_file(token, problems_suffix(member.workspace_id))
    if not path.is_file():
        return _error(404, "No such import report.")
    return FileResponse(
        path,
        media_type="text/csv; charset=utf-8",
        filename="import-errors.csv",
        headers={"Cache-Control": "no-store"},
    )


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    """A bug, not bad input: logged with context, answered with a short apology in JSON."""
    logger.exception("%s %s failed", request.method, request.url.path, exc_info=error)
    return _error(500, "Something went wrong on our side. Try again in a moment.")


def build_api() -> Starlette:
    return Starlette(
        exception_handlers={Exception: _unexpected_error},
        routes=[
            Route(routes.API_CHANNEL_MESSAGES, post_channel_message, methods=["POST"]),
            Route(routes.API_WEBHOOK, get_webhook, methods=["GET"]),
            Route(routes.API_WEBHOOK, post_webhook, methods=["POST"]),
            Route(routes.API_WEBCHAT_HELLO, post_webchat_hello, methods=["POST"]),
            Route(routes.API_WEBCHAT_MESSAGES, post_webchat_message, methods=["POST"]),
            Route(routes.DEMO_WEBCHAT, get_demo_webchat, methods=["GET"]),
            Route(routes.API_IMPORT_ERRORS, get_import_errors, methods=["GET"]),
            Route(routes.API_CONTACTS_EXPORT, get_contacts_export, methods=["GET"]),
            Route(
                routes.API_SESSION_START,
                rule("anyone holding a one-use sign-in ticket")(session_routes.start_session),
                methods=["GET"],
            ),
            Route(
                routes.API_SESSION_END,
                rule("anyone (ends the session its own cookie names)")(session_routes.end_session),
                methods=["GET"],
            ),
        ],
    )
