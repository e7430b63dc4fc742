"""Possible duplicates and merging, on SQLite and PostgreSQL: which groups the finder
lists (largest first), what a merge keeps (chosen values, every label, conversations and
messages, opt-in history, the merged contacts' ids), and that ingestion and import then
find the merged contact by any of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import db
from cloodot_app.errors import FieldValueError, NotFound
from cloodot_app.fieldtypes import digits_only
from cloodot_app.models import (
    AuditEntry,
    ConsentChange,
    Contact,
    ContactLabel,
    ContactMerge,
    Conversation,
    CustomFieldDefinition,
    Label,
    Message,
)
from cloodot_app.services.audit import record_consent
from cloodot_app.services.contact_merges import (
    close_names,
    find_duplicates,
    merge_contacts,
    merge_preview,
)
from cloodot_app.services.contacts import get_contact
from cloodot_app.services.importer import read_csv, run_import
from cloodot_app.services.ingestion import IncomingMessage, ingest_message
from cloodot_app.services.workspaces import data_version, ensure_workspace

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def add(session: Session, ws: int, name: str, **values: Any) -> int:
    values.setdefault("created_at", T0)
    contact = Contact(workspace_id=ws, name=name, **values)
    contact.phone_digits = digits_only(contact.phone) or None
    session.add(contact)
    session.flush()
    assert contact.id is not None
    return contact.id


# --------------------------------------------------------------------------- finding


def test_close_names():
    assert close_names("José Núñez", "jose nunez")
    assert close_names("Ana Ruiz", "Ana Ruiz Gil")
    assert close_names("Jon Smith", "John Smith")
    assert not close_names("Ana Ruiz", "Bob Stone")
    assert not close_names("", "Bob")


def test_the_finder_lists_each_kind_largest_first_and_only_here(session, workspace_id):
    ws = workspace_id
    other = ensure_workspace(session, "globex").id
    same_email = [add(session, ws, f"Mail {n}", email="shared@example.com") for n in range(2)]
    same_phone = [add(session, ws, f"Phone {n}", phone="+34 612 000 111") for n in range(3)]
    # The same number with and without its country code, under close names.
    jon = add(session, ws, "Jon Smith", phone="+34612345678")
    john = add(session, ws, "John Smith", phone="612345678")
    add(session, ws, "Unrelated Person", phone="+1 555 12345678")
    add(session, ws, "Alone", email="alone@example.com", phone="+441234")
    for n in range(5):  # another workspace's duplicates stay there
        add(session, other, f"Theirs {n}", email="theirs@example.com")
    session.commit()

    groups = find_duplicates(session, ws)
    assert [(g.kind, g.size) for g in groups] == [("phone", 3), ("email", 2), ("name_phone", 2)]
    assert [m.id for m in groups[0].members] == same_phone
    assert groups[0].shared == "34612000111" and groups[0].reason == "Same phone"
    assert [m.id for m in groups[1].members] == same_email
    assert {m.id for m in groups[2].members} == {jon, john}
    assert groups[2].reason == "Similar name, same phone ending"


# --------------------------------------------------------------------------- merging


@pytest.fixture
def pair(session: Session, workspace_id: int) -> dict[str, int]:
    """Ana on WhatsApp (VIP, plan Pro, a conversation, opted in) and Ana R. on Instagram
    (Newsletter, a city, a conversation, opted out)."""
    ws = workspace_id
    session.add(
        CustomFieldDefinition(
            workspace_id=ws,
            entity="contact",
            key="plan",
            label="Plan",
            type="select",
            options=["Free", "Pro"],
        )
    )
    session.add(
        CustomFieldDefinition(
            workspace_id=ws, entity="contact", key="city", label="City", type="text"
        )
    )
    vip, news = Label(workspace_id=ws, name="VIP"), Label(workspace_id=ws, name="Newsletter")
    session.add_all([vip, news])
    session.flush()
    ana = add(
        session,
        ws,
        "Ana",
        email="ana@example.com",
        channel="whatsapp",
        external_id="wa-1",
        custom_fields={"plan": "Pro"},
        campaign_opt_in=True,
    )
    ana_r = add(
        session,
        ws,
        "Ana R.",
        email="ana.r@example.com",
        phone="+34600111222",
        channel="instagram",
        external_id="ig-1",
        custom_fields={"city": "Madrid"},
        created_at=T0 - timedelta(days=30),
    )
    session.add_all(
        [
            ContactLabel(contact_id=ana, label_id=vip.id),
            ContactLabel(contact_id=ana_r, label_id=news.id),
        ]
    )
    for who, channel in ((ana, "whatsapp"), (ana_r, "instagram")):
        conversation = Conversation(workspace_id=ws, contact_id=who, channel=channel)
        session.add(conversation)
        session.flush()
        session.add_all(
            Message(conversation_id=conversation.id, direction="incoming", text=f"{channel} {m}")
            for m in range(3)
        )
    record_consent(session, ws, ana_r, None, True, "agent")
    record_consent(session, ws, ana_r, True, False, "agent")
    session.commit()
    return {"ws": ws, "ana": ana, "ana_r": ana_r, "vip": vip.id, "news": news.id}


def test_the_preview_shows_both_side_by_side_with_the_defaults(session, pair):
    preview = merge_preview(session, pair["ws"], [pair["ana"], pair["ana_r"]], pair["ana"])
    assert preview.primary_id == pair["ana"]
    fields = {f.key: f for f in preview.fields}
    assert [v.shown for v in fields["email"].values] == ["ana@example.com", "ana.r@example.com"]
    assert fields["email"].default_contact_id == pair["ana"] and fields["email"].differs
    # Ana has no phone and no city: Ana R.'s survive by default.
    assert fields["phone"].default_contact_id == pair["ana_r"]
    assert fields["cf.city"].default_contact_id == pair["ana_r"]
    assert fields["campaign_opt_in"].default_contact_id == pair["ana"]
    assert [t.name for t in preview.labels] == ["Newsletter", "VIP"]
    assert [c.conversations for c in preview.contacts] == [1, 1]


def test_a_merge_keeps_everything_in_the_primary(session, pair):
    ws, ana, ana_r = pair["ws"], pair["ana"], pair["ana_r"]
    version = data_version(session, ws)
    result = merge_contacts(session, ws, ana, [ana, ana_r], {"email": ana_r})
    session.commit()
    assert (result.contact_id, result.merged) == (ana, 1)

    merged = session.get(Contact, ana)
    session.refresh(merged)
    assert session.get(Contact, ana_r) is None
    assert (merged.name, merged.email, merged.phone) == ("Ana", "ana.r@example.com", "+34600111222")
    assert merged.phone_digits == "34600111222"
    assert merged.custom_fields == {"plan": "Pro", "city": "Madrid"}
    assert merged.campaign_opt_in is True
    assert merged.created_at.replace(tzinfo=UTC) == T0 - timedelta(days=30)  # first seen
    labels = session.execute(
        sa.select(ContactLabel.label_id).where(ContactLabel.contact_id == ana)
    ).scalars()
    assert sorted(labels) == sorted([pair["vip"], pair["news"]])
    owners = session.execute(sa.select(Conversation.contact_id)).scalars().all()
    assert owners == [ana, ana]
    assert session.execute(sa.select(sa.func.count()).select_from(Message)).scalar_one() == 6
    history = (
        session.execute(sa.select(ConsentChange.contact_id).where(ConsentChange.workspace_id == ws))
        .scalars()
        .all()
    )
    assert history == [ana, ana]  # Ana R.'s opt-in history is now Ana's
    alias = session.execute(sa.select(ContactMerge)).scalar_one()
    assert (alias.contact_id, alias.merged_contact_id, alias.channel, alias.external_id) == (
        ana,
        ana_r,
        "instagram",
        "ig-1",
    )
    entry = session.execute(
        sa.select(AuditEntry).where(AuditEntry.action == "contacts.merge")
    ).scalar_one()
    assert entry.summary == f"Merged Ana R. (#{ana_r}) into Ana (#{ana})"
    assert entry.details["fields_from_others"] == ["email"]
    assert entry.details["conversations_moved"] == 1
    assert data_version(session, ws) == version + 1
    drawer = get_contact(session, ws, ana)
    assert [(m.name, m.ids) for m in drawer.merged_from] == [
        ("Ana R.", "instagram id ig-1 · ana.r@example.com · +34600111222")
    ]


def test_choosing_the_other_opt_in_is_recorded_in_the_history(session, pair):
    ws, ana, ana_r = pair["ws"], pair["ana"], pair["ana_r"]
    merge_contacts(session, ws, ana, [ana_r], {"campaign_opt_in": ana_r})
    session.commit()
    assert session.get(Contact, ana).campaign_opt_in is False
    last = session.execute(
        sa.select(ConsentChange.source, ConsentChange.old_value, ConsentChange.new_value)
        .order_by(ConsentChange.id.desc())
        .limit(1)
    ).one()
    assert tuple(last) == ("merge", True, False)


def test_a_bad_merge_changes_nothing(session, pair):
    ws, ana, ana_r = pair["ws"], pair["ana"], pair["ana_r"]
    other = ensure_workspace(session, "globex").id
    theirs = add(session, other, "Theirs")
    session.commit()
    with pytest.raises(NotFound):
        merge_contacts(session, ws, ana, [ana, theirs])
    session.rollback()
    with pytest.raises(FieldValueError, match="between 2 and"):
        merge_contacts(session, ws, ana, [ana])
    session.rollback()
    with pytest.raises(FieldValueError, match="outside this merge"):
        merge_contacts(session, ws, ana, [ana_r], {"email": theirs})
    session.rollback()
    with pytest.raises(FieldValueError, match="not a field"):
        merge_contacts(session, ws, ana, [ana_r], {"password": ana_r})
    session.rollback()
    assert (
        session.execute(
            sa.select(sa.func.count()).select_from(Contact).where(Contact.workspace_id == ws)
        ).scalar_one()
        == 2
    )


def test_a_contact_merged_twice_keeps_both_histories(session, pair):
    ws, ana, ana_r = pair["ws"], pair["ana"], pair["ana_r"]
    third = add(session, ws, "Ana Third", channel="facebook", external_id="fb-1")
    session.commit()
    merge_contacts(session, ws, ana_r, [ana_r, third])
    merge_contacts(session, ws, ana, [ana, ana_r])
    session.commit()
    aliases = session.execute(
        sa.select(ContactMerge.contact_id, ContactMerge.external_id).order_by(ContactMerge.id)
    ).all()
    assert [tuple(a) for a in aliases] == [(ana, "fb-1"), (ana, "ig-1")]


# --------------------------------------------------------------------------- finding it again


def test_ingestion_finds_the_merged_contact_by_any_of_its_ids(session, pair):
    ws, ana, ana_r = pair["ws"], pair["ana"], pair["ana_r"]
    merge_contacts(session, ws, ana, [ana, ana_r])
    session.commit()
    by_instagram_id = ingest_message(
        session, ws, "instagram", IncomingMessage(external_id="ig-1", text="still me")
    )
    by_old_email = ingest_message(
        session,
        ws,
        "webchat",
        IncomingMessage(external_id="web-9", email="ana.r@example.com", text="me again"),
    )
    session.commit()
    assert by_instagram_id.contact_id == ana and not by_instagram_id.contact_created
    assert by_old_email.contact_id == ana and not by_old_email.contact_created
    assert (
        session.execute(
            sa.select(sa.func.count()).select_from(Contact).where(Contact.workspace_id == ws)
        ).scalar_one()
        == 1
    )


def test_import_finds_the_merged_contact_by_its_old_email_and_phone(engine, session, pair):
    ws, ana, ana_r = pair["ws"], pair["ana"], pair["ana_r"]
    merge_contacts(session, ws, ana, [ana, ana_r], {"phone": ana})  # Ana had no phone
    session.commit()
    data = b"name,email,phone\r\nAna R.,ana.r@example.com,\r\nAna P.,,+34 600 111 222\r\n"
    parsed = read_csv(data)
    report = run_import(
        partial(db.session_scope, engine),
        ws,
        parsed,
        {"name": "name", "email": "email", "phone": "phone"},
    )
    assert (report.created, report.skipped) == (0, 2)
    assert (
        session.execute(
            sa.select(sa.func.count()).select_from(Contact).where(Contact.workspace_id == ws)
        ).scalar_one()
        == 1
    )


def test_notes_on_a_merged_contact_move_to_the_primary(session, pair):
    """Notes point at their contact with a foreign key, so the merge moves them (they would
    otherwise go with the merged contact's row) and they keep their author and text."""
    from cloodot_app.access import Identity, Role
    from cloodot_app.models import ContactNote, User
    from cloodot_app.services.notes import add_note, contact_notes

    ws, ana, ana_r = pair["ws"], pair["ana"], pair["ana_r"]
    user = User(email="eva@example.com", name="Eva", password_hash="!")
    session.add(user)
    session.commit()
    assert user.id is not None
    eva = Identity(user.id, user.email, "Eva", ws, "Acme", Role.AGENT, session_id=0)
    add_note(session, ws, eva, ana_r, "Prefers calls after 5 pm")
    add_note(session, ws, eva, ana, "Asked about the Pro plan")
    session.commit()

    merge_contacts(session, ws, ana, [ana, ana_r])
    session.commit()

    owners = session.execute(sa.select(ContactNote.contact_id)).scalars().all()
    assert owners == [ana, ana]
    bodies = sorted(line.body for line in contact_notes(session, ws, ana, eva))
    assert bodies == ["Asked about the Pro plan", "Prefers calls after 5 pm"]
