"""HTTP routes served beside the Reflex app (same port in production)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.routing import Route

from cloodot_app import routes
from cloodot_app.db import session_scope
from cloodot_app.services import export
from cloodot_app.services.importer import import_file
from cloodot_app.services.ingestion import IncomingMessage, UnknownChannel, ingest_message
from cloodot_app.services.workspaces import workspace_by_token
from cloodot_app.settings import settings

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def _error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def post_channel_message(request: Request) -> JSONResponse:
    """POST /api/channels/{channel}/messages — a channel delivers one message."""
    token = _bearer_token(request)
    if not token:
        return _error(401, "Send the workspace's ingestion token as 'Authorization: Bearer …'.")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _error(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        payload = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "The body is not valid JSON.")
    if not isinstance(payload, dict):
        return _error(400, "The body must be a JSON object.")
    try:
        incoming = IncomingMessage.model_validate(payload)
    except ValidationError as error:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in error.errors(include_url=False, include_input=False)
        ]
        return _error(422, "Some fields are missing or invalid.", details=details)
    channel = request.path_params["channel"]

    def ingest():
        with session_scope() as session:
            workspace = workspace_by_token(session, token)
            if workspace is None:
                return None
            return ingest_message(session, workspace.id, channel, incoming)

    try:
        result = await run_in_threadpool(ingest)
    except UnknownChannel as error:
        return _error(404, str(error))
    if result is None:
        return _error(401, "That ingestion token does not belong to any workspace.")
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


async def get_contacts_export(request: Request):
    """GET /api/contacts/export.csv?ticket=… — stream a CSV export.

    The workspace and options come only from the signed ticket the app made for this
    export (services.export.make_ticket), never from other query parameters.
    """
    try:
        workspace_id, options = export.read_ticket(
            request.query_params.get("ticket", ""), export.ticket_secret()
        )
    except export.TicketError as error:
        return _error(403, str(error))

    def count() -> int:
        with session_scope() as session:
            return export.validate_export(session, workspace_id, options, settings.export_max_rows)

    try:
        rows = await run_in_threadpool(count)
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


async def get_import_errors(request: Request):
    """GET /api/imports/{token}/errors.csv — an import's problems (the token is random and
    known only to the tab that ran the import)."""
    token = request.path_params["token"]
    if not token.replace("-", "").replace("_", "").isalnum():
        return _error(404, "No such import report.")
    path = import_file(token, "-errors.csv")
    if not path.is_file():
        return _error(404, "No such import report.")
    return FileResponse(
        path,
        media_type="text/csv; charset=utf-8",
        filename="import-errors.csv",
        headers={"Cache-Control": "no-store"},
    )


def build_api() -> Starlette:
    return Starlette(
        routes=[
            Route(routes.API_CHANNEL_MESSAGES, post_channel_message, methods=["POST"]),
            Route(routes.API_IMPORT_ERRORS, get_import_errors, methods=["GET"]),
            Route(routes.API_CONTACTS_EXPORT, get_contacts_export, methods=["GET"]),
        ]
    )
