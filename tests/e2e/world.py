"""The small named world the browser tests run in: seeded demo data plus a few
contacts whose every field the tests know."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cloodot_app.db import make_engine, migrate, session_scope
from cloodot_app.models import Contact, Conversation, Message
from cloodot_app.seed import seed_demo
from cloodot_app.services import accounts
from cloodot_app.services.workspaces import ensure_workspace

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

# name -> (email, phone, days since created, last message)
KNOWN_CONTACTS = {
    "Zoe Quartermaine": ("zoe.q@example.org", "+442079460958", 400, "Can I change my plan?"),
    "Yusuf Quayle": ("yusuf@example.net", "+14155550123", 2, None),
    # Edited by two browsers at once (test_edit_conflicts.py).
    "Xena Varga": ("xena@example.com", "+442079460111", 10, None),
}


# The team the browser tests sign in as: one member per role.
PASSWORD = "correct horse battery staple"
MEMBERS = {
    "admin": ("ada.admin@example.com", "Ada Admin"),
    "manager": ("max.manager@example.com", "Max Manager"),
    "agent": ("alex.agent@example.com", "Alex Agent"),
}


def build_world(database_url: str) -> tuple[str, int]:
    migrate(database_url)
    workspace_id = seed_demo(database_url, contacts=45, seed=7, workspace_slug="demo", now=NOW)
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        workspace = ensure_workspace(session, "demo")
        for name, (email, phone, age_days, text) in KNOWN_CONTACTS.items():
            created = NOW - timedelta(days=age_days)
            contact = Contact(
                workspace_id=workspace.id,
                name=name,
                email=email,
                phone=phone,
                phone_digits=phone.lstrip("+"),
                channel="whatsapp" if text else "imported",
                created_at=created,
                updated_at=created,
            )
            session.add(contact)
            session.flush()
            if text:
                sent = NOW - timedelta(days=1)
                conversation = Conversation(
                    workspace_id=workspace.id,
                    contact_id=contact.id,
                    channel="whatsapp",
                    created_at=sent,
                    updated_at=sent,
                )
                session.add(conversation)
                session.flush()
                session.add(
                    Message(
                        conversation_id=conversation.id,
                        direction="incoming",
                        text=text,
                        sent_at=sent,
                    )
                )
                contact.last_interaction_at = sent
                contact.last_message_text = text
                contact.last_message_direction = "incoming"
        token = workspace.ingest_token
        for role, (email, name) in MEMBERS.items():
            user = accounts.create_user(session, email, name, PASSWORD)
            accounts.add_member(session, workspace.id, user.id, role)
    engine.dispose()
    return token, workspace_id
