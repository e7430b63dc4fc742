"""Workspaces, their change counter (what Live mode polls) and their field catalog."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlmodel import Session, select

from cloodot_app.access import Identity, require_admin_of
from cloodot_app.errors import NotFound
from cloodot_app.filters import FieldCatalog
from cloodot_app.models import CustomFieldDefinition, Label, Workspace
from cloodot_app.services import audit, count_cache


def ensure_workspace(session: Session, slug: str, name: str | None = None) -> Workspace:
    workspace = session.exec(select(Workspace).where(Workspace.slug == slug)).first()
    if workspace is None:
        workspace = Workspace(
            slug=slug, name=name or slug.title(), ingest_token=secrets.token_urlsafe(24)
        )
        session.add(workspace)
        session.flush()
    return workspace


def workspace_by_slug(session: Session, slug: str) -> Workspace | None:
    return session.exec(select(Workspace).where(Workspace.slug == slug)).first()


def workspace_by_token(session: Session, token: str) -> Workspace | None:
    if not token:
        return None
    workspace = session.exec(select(Workspace).where(Workspace.ingest_token == token)).first()
    # Compare in constant time too, so the lookup leaks nothing about near-misses.
    if workspace is None or not secrets.compare_digest(workspace.ingest_token, token):
        return None
    return workspace


def bump_data_version(session: Session, workspace_id: int) -> None:
    """Called by every write to a workspace's contacts, in the writer's transaction (the
    count cache keys on this number: a write that skips it would leave old counts shown)."""
    count_cache.mark_written(session)
    session.execute(
        sa.update(Workspace)
        .where(Workspace.id == workspace_id)
        .values(data_version=Workspace.data_version + 1)
    )


def data_version(session: Session, workspace_id: int) -> int:
    """The cheap "has anything changed?" question Live mode asks every few seconds."""
    version = session.execute(
        sa.select(Workspace.data_version).where(Workspace.id == workspace_id)
    ).scalar_one_or_none()
    return version or 0


def field_catalog(session: Session, workspace_id: int) -> FieldCatalog:
    definitions = session.exec(
        select(CustomFieldDefinition).where(CustomFieldDefinition.workspace_id == workspace_id)
    ).all()
    labels = session.exec(select(Label).where(Label.workspace_id == workspace_id)).all()
    return FieldCatalog.build(list(definitions), list(labels))


def rotate_ingest_token(session: Session, workspace_id: int, actor: Identity | None = None) -> str:
    """A new ingestion token for the workspace; the old one stops working at once (the
    endpoint looks the token up on every request). Returned once, for the admin to copy."""
    require_admin_of(actor, workspace_id)
    token = secrets.token_urlsafe(24)
    updated = session.execute(
        sa.update(Workspace).where(Workspace.id == workspace_id).values(ingest_token=token)
    )
    if not updated.rowcount:
        raise NotFound("That workspace does not exist.")
    audit.record(
        session,
        workspace_id,
        actor,
        "workspace.ingest_token_rotate",
        "Rotated the ingestion token (the old one stopped working)",
    )
    return token


INGEST_TOKEN_HINT_LENGTH = 4


def ingest_token_hint(session: Session, workspace_id: int) -> str:
    """The last characters of the workspace's ingestion token: enough for an admin to tell
    which token a channel uses, never enough to use it (the whole token is shown only
    once, right after a rotation)."""
    token = session.execute(
        sa.select(Workspace.ingest_token).where(Workspace.id == workspace_id)
    ).scalar_one_or_none()
    if token is None:
        raise NotFound("That workspace does not exist.")
    return token[-INGEST_TOKEN_HINT_LENGTH:]
