"""Shared by the ingestion tests: what the database holds, and an HTTP client on the API.

`counts` is the "nothing changed" yardstick (rows of every ingestion table plus the
workspace's data_version); `api_client` serves cloodot_app.api over ASGI against the
test's database, in-process (httpx.ASGITransport), so route tests need no server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import sqlalchemy as sa

from cloodot_app import db
from cloodot_app.api import build_api
from cloodot_app.models import Contact, ContactLabel, Conversation, Message, Workspace
from cloodot_app.settings import settings


def counts(engine: sa.Engine, workspace_id: int) -> dict[str, int]:
    """Rows per table and the workspace's change counter."""
    with engine.connect() as connection:
        result = {
            model.__tablename__: connection.execute(
                sa.select(sa.func.count()).select_from(model)
            ).scalar_one()
            for model in (Contact, Conversation, Message, ContactLabel)
        }
        result["data_version"] = connection.execute(
            sa.select(Workspace.data_version).where(Workspace.id == workspace_id)
        ).scalar_one()
    return result


def ingest_token(engine: sa.Engine, workspace_id: int) -> str:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(Workspace.ingest_token).where(Workspace.id == workspace_id)
        ).scalar_one()


@asynccontextmanager
async def api_client(database_url: str, monkeypatch) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the API app, whose sessions use `database_url`."""
    monkeypatch.setattr(db, "settings", replace(settings, database_url=database_url))
    db.get_engine.cache_clear()
    transport = httpx.ASGITransport(app=build_api(), raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        db.get_engine().dispose()
        db.get_engine.cache_clear()
