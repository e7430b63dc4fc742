"""Bulk edit on SQLite and PostgreSQL: the confirmation's counts, the chunked run (also
while ingestion writes to the same contacts), its audit entries, and Undo of exactly what
it changed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.db import make_engine, session_scope
from cloodot_app.errors import FieldValueError, NotFound, SelectionChanged, UserError
from cloodot_app.fieldtypes import digits_only
from cloodot_app.models import (
    AuditEntry,
    BulkEdit,
    BulkEditChange,
    ConsentChange,
    Contact,
    ContactLabel,
    CustomFieldDefinition,
    Label,
    Message,
)
from cloodot_app.services.contact_bulk_edits import (
    UNDO_WINDOW,
    BulkRequest,
    bulk_edit_preview,
    run_bulk_edit,
    undo_bulk_edit,
)
from cloodot_app.services.contact_deletes import Selection
from cloodot_app.services.contact_edits import update_contact_field
from cloodot_app.services.contacts import ContactQuery
from cloodot_app.services.ingestion import IncomingMessage, ingest_message
from cloodot_app.services.workspaces import ensure_workspace

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def add_contact(session: Session, ws: int, name: str, **values: Any) -> int:
    values.setdefault("created_at", T0)
    values.setdefault("updated_at", T0)
    contact = Contact(workspace_id=ws, name=name, **values)
    contact.phone_digits = digits_only(contact.phone) or None
    session.add(contact)
    session.flush()
    assert contact.id is not None
    return contact.id


@pytest.fixture
def world(session: Session, workspace_id: int, engine) -> dict[str, Any]:
    """Ann (VIP, plan Pro, opted in), Ben (plan Free), Cat and Dov (nothing); Mo in another
    workspace (VIP there)."""
    ws = workspace_id
    other = ensure_workspace(session, "globex").id
    vip, foreign = Label(workspace_id=ws, name="VIP"), Label(workspace_id=other, name="VIP")
    session.add_all([vip, foreign])
    session.add_all(
        [
            CustomFieldDefinition(
                workspace_id=ws,
                entity="contact",
                key="plan",
                label="Plan",
                type="select",
                options=["Free", "Pro"],
            ),
            CustomFieldDefinition(
                workspace_id=ws, entity="contact", key="seats", label="Seats", type="number"
            ),
        ]
    )
    session.flush()
    ids = {
        "ann": add_contact(session, ws, "Ann", custom_fields={"plan": "Pro"}, campaign_opt_in=True),
        "ben": add_contact(session, ws, "Ben", custom_fields={"plan": "Free", "seats": 3}),
        "cat": add_contact(session, ws, "Cat"),
        "dov": add_contact(session, ws, "Dov"),
        "mo": add_contact(session, other, "Mo"),
    }
    session.add_all(
        [
            ContactLabel(contact_id=ids["ann"], label_id=vip.id),
            ContactLabel(contact_id=ids["mo"], label_id=foreign.id),
        ]
    )
    session.commit()
    return {"ws": ws, "other": other, "vip": vip.id, "foreign": foreign.id, **ids}


def sessions_for(engine):
    return lambda: session_scope(engine)


def run(engine, ws: int, selection: Selection, request: BulkRequest, **kwargs):
    with session_scope(engine) as session:
        preview = bulk_edit_preview(session, ws, selection, request)
    return preview, run_bulk_edit(
        sessions_for(engine), ws, preview.selection, preview.plan, **kwargs
    )


def labelled(session: Session, label_id: int) -> set[int]:
    session.expire_all()
    return set(
        session.execute(
            sa.select(ContactLabel.contact_id).where(ContactLabel.label_id == label_id)
        ).scalars()
    )


def fields(session: Session, ws: int, key: str) -> dict[str, Any]:
    session.expire_all()
    return {
        name: (custom or {}).get(key)
        for name, custom in session.execute(
            sa.select(Contact.name, Contact.custom_fields).where(Contact.workspace_id == ws)
        )
    }


def everyone(world) -> Selection:
    return Selection(ids=[world[n] for n in ("ann", "ben", "cat", "dov", "mo")])


# --------------------------------------------------------------------------- preview


def test_preview_counts_what_changes_and_what_already_has_it(session, world):
    ws = world["ws"]
    four = everyone(world)  # Mo is in another workspace: never selected

    def counts(request: BulkRequest, selection: Selection = four) -> tuple[int, int]:
        preview = bulk_edit_preview(session, ws, selection, request)
        return preview.selected, preview.already

    assert counts(BulkRequest("add_label", label_id=world["vip"])) == (4, 1)
    assert counts(BulkRequest("remove_label", label_id=world["vip"])) == (4, 3)
    assert counts(BulkRequest("set_field", field_key="plan", value="Pro")) == (4, 1)
    assert counts(BulkRequest("set_field", field_key="plan", value="")) == (4, 2)
    assert counts(BulkRequest("set_field", field_key="seats", value="3")) == (4, 1)
    assert counts(BulkRequest("set_opt_in", value=True)) == (4, 1)
    assert counts(BulkRequest("set_opt_in", value=False)) == (4, 3)
    by_search = Selection(query=ContactQuery(search="Ben"))
    assert counts(BulkRequest("set_field", field_key="plan", value="Free"), by_search) == (1, 1)
    preview = bulk_edit_preview(session, ws, four, BulkRequest("add_label", label_id=world["vip"]))
    assert preview.plan.words == "Add the label “VIP”"
    assert preview.to_change == 3


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (BulkRequest("set_field", field_key="plan", value="Enterprise"), "not one of"),
        (BulkRequest("set_field", field_key="seats", value="many"), "not a number"),
        (BulkRequest("set_field", field_key="nope", value="x"), "no longer exists"),
        (BulkRequest("set_opt_in", value="yes"), "on or off"),
        (BulkRequest("add_label", label_id=0), "no longer exists"),
        (BulkRequest("explode"), "Choose what to change"),
    ],
)
def test_a_bad_request_is_refused_with_the_inline_editors_words(session, world, request_, message):
    with pytest.raises((FieldValueError, NotFound), match=message):
        bulk_edit_preview(session, world["ws"], everyone(world), request_)


def test_another_workspaces_label_cannot_be_used(session, world):
    with pytest.raises(NotFound):
        bulk_edit_preview(
            session,
            world["ws"],
            everyone(world),
            BulkRequest("add_label", label_id=world["foreign"]),
        )


# --------------------------------------------------------------------------- run and undo


def test_add_label_changes_only_those_without_it_and_undo_removes_only_those(
    engine, session, world
):
    ws, vip = world["ws"], world["vip"]
    progress: list[tuple[int, int]] = []
    _, result = run(
        engine,
        ws,
        everyone(world),
        BulkRequest("add_label", label_id=vip),
        progress=lambda done, total: progress.append((done, total)),
        chunk_size=2,
    )
    assert (result.done, result.changed, result.left_out) == (4, 3, 0)
    assert progress == [(0, 4), (2, 4), (4, 4)]
    assert labelled(session, vip) == {world[n] for n in ("ann", "ben", "cat", "dov")}
    assert labelled(session, world["foreign"]) == {world["mo"]}
    entry = session.execute(
        sa.select(AuditEntry).where(AuditEntry.action == "contacts.bulk_edit")
    ).scalar_one()
    assert entry.summary.startswith("Added the label “VIP” to 3 contacts (1 already have it)")
    assert entry.details["ids"] == sorted(world[n] for n in ("ben", "cat", "dov"))
    assert entry.details["changed"] == 3

    # Undo: Ann had the label before, so she keeps it.
    assert undo_bulk_edit(session, ws, result.bulk_edit_id).reverted == 3
    session.commit()
    assert labelled(session, vip) == {world["ann"]}
    with pytest.raises(UserError, match="already undone"):
        undo_bulk_edit(session, ws, result.bulk_edit_id)
    session.rollback()
    undo = session.execute(
        sa.select(AuditEntry).where(AuditEntry.action == "contacts.bulk_edit_undo")
    ).scalar_one()
    assert "3 contacts put back" in undo.summary


def test_remove_label_and_undo_puts_it_back(engine, session, world):
    ws, vip = world["ws"], world["vip"]
    _, result = run(engine, ws, everyone(world), BulkRequest("remove_label", label_id=vip))
    assert (result.done, result.changed) == (4, 1)
    assert labelled(session, vip) == set()
    assert undo_bulk_edit(session, ws, result.bulk_edit_id).reverted == 1
    session.commit()
    assert labelled(session, vip) == {world["ann"]}


def test_set_field_and_undo_keeps_what_was_edited_since(engine, session, world):
    ws = world["ws"]
    _, result = run(
        engine, ws, everyone(world), BulkRequest("set_field", field_key="plan", value="Free")
    )
    assert (result.done, result.changed) == (4, 3)
    assert fields(session, ws, "plan") == {
        "Ann": "Free",
        "Ben": "Free",
        "Cat": "Free",
        "Dov": "Free",
    }
    # Someone sets Cat's plan after the bulk edit: Undo leaves hers alone.
    update_contact_field(session, ws, world["cat"], "cf.plan", "Pro")
    session.commit()

    undone = undo_bulk_edit(session, ws, result.bulk_edit_id)
    session.commit()
    assert (undone.reverted, undone.kept) == (2, 1)
    assert fields(session, ws, "plan") == {"Ann": "Pro", "Ben": "Free", "Cat": "Pro", "Dov": None}
    # Undo removed the key it had added (Dov had no plan), and kept Ben's other field.
    assert fields(session, ws, "seats")["Ben"] == 3


def test_set_opt_in_writes_the_consent_history_and_undo_too(engine, session, world):
    ws = world["ws"]
    _, result = run(engine, ws, everyone(world), BulkRequest("set_opt_in", value=True))
    assert result.changed == 3
    history = session.execute(
        sa.select(ConsentChange.contact_id, ConsentChange.old_value, ConsentChange.new_value)
        .where(ConsentChange.source == "bulk")
        .order_by(ConsentChange.contact_id)
    ).all()
    assert history == [(world[n], False, True) for n in ("ben", "cat", "dov")]
    assert (
        session.execute(
            sa.select(sa.func.count()).where(AuditEntry.action == "contacts.opt_in")
        ).scalar_one()
        == 1
    )

    undo_bulk_edit(session, ws, result.bulk_edit_id)
    session.commit()
    opted = session.execute(
        sa.select(Contact.name).where(Contact.workspace_id == ws, Contact.campaign_opt_in)
    ).scalars()
    assert list(opted) == ["Ann"]
    assert (
        session.execute(
            sa.select(sa.func.count()).where(ConsentChange.source == "bulk")
        ).scalar_one()
        == 6
    )


def test_undo_is_possible_only_for_a_short_time_and_only_here(engine, session, world):
    ws = world["ws"]
    _, result = run(engine, ws, everyone(world), BulkRequest("set_opt_in", value=True))
    later = datetime.now(UTC) + UNDO_WINDOW + timedelta(seconds=5)
    with pytest.raises(UserError, match="can be undone for 10 minutes"):
        undo_bulk_edit(session, ws, result.bulk_edit_id, now=later)
    session.rollback()
    with pytest.raises(NotFound):
        undo_bulk_edit(session, world["other"], result.bulk_edit_id)
    session.rollback()
    assert session.get(BulkEdit, result.bulk_edit_id).status == "done"


def test_all_that_match_edits_only_what_the_confirmation_counted(engine, session, world):
    """The N the dialog counted: a contact that arrives or changes while it is open is
    left as it is, and the result says how many were left out."""
    ws = world["ws"]
    with session_scope(engine) as s:
        preview = bulk_edit_preview(
            s, ws, Selection(query=ContactQuery()), BulkRequest("add_label", label_id=world["vip"])
        )
    assert (preview.selected, preview.already) == (4, 1)
    add_contact(session, ws, "Newcomer", created_at=datetime.now(UTC), updated_at=datetime.now(UTC))
    update_contact_field(session, ws, world["ben"], "name", "Ben Edited")
    session.commit()

    result = run_bulk_edit(sessions_for(engine), ws, preview.selection, preview.plan)
    assert (result.promised, result.done, result.changed, result.left_out) == (4, 3, 2, 1)
    assert labelled(session, world["vip"]) == {world[n] for n in ("ann", "cat", "dov")}


def test_a_frozen_selection_never_edits_more_than_it_promised(engine, session, world):
    loose = Selection(query=ContactQuery(), as_of=datetime.now(UTC), max_id=2**31 - 1, promised=1)
    with session_scope(engine) as s:
        plan = bulk_edit_preview(
            s, world["ws"], everyone(world), BulkRequest("set_opt_in", value=True)
        ).plan
    with pytest.raises(SelectionChanged, match="Nothing was changed"):
        run_bulk_edit(sessions_for(engine), world["ws"], loose, plan)
    assert session.execute(sa.select(sa.func.count()).select_from(BulkEdit)).scalar_one() == 0


def test_a_label_deleted_while_the_dialog_was_open_changes_nothing(engine, session, world):
    ws = world["ws"]
    with session_scope(engine) as s:
        preview = bulk_edit_preview(
            s, ws, everyone(world), BulkRequest("add_label", label_id=world["vip"])
        )
    session.execute(sa.delete(ContactLabel).where(ContactLabel.label_id == world["vip"]))
    session.execute(sa.delete(Label).where(Label.id == world["vip"]))
    session.commit()
    with pytest.raises(NotFound):
        run_bulk_edit(sessions_for(engine), ws, preview.selection, preview.plan)
    assert session.execute(sa.select(sa.func.count()).select_from(ContactLabel)).scalar_one() == 1


def test_a_run_that_fails_part_way_keeps_its_chunks_and_says_so(engine, session, world):
    ws = world["ws"]
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if done == 2:
            raise RuntimeError("worker stopped")

    with pytest.raises(RuntimeError):
        run(
            engine,
            ws,
            everyone(world),
            BulkRequest("set_field", field_key="plan", value="Pro"),
            progress=progress,
            chunk_size=2,
        )
    edit = session.execute(sa.select(BulkEdit)).scalar_one()
    assert (edit.status, edit.done) == ("stopped", 2)
    changes = session.execute(sa.select(sa.func.count()).select_from(BulkEditChange)).scalar_one()
    assert changes == edit.changed == 1  # Ann already had Pro; Ben changed
    entry = session.execute(
        sa.select(AuditEntry.summary).where(AuditEntry.action == "contacts.bulk_edit")
    ).scalar_one()
    assert entry.startswith("Bulk edit stopped after 2 of 4 contacts")
    # What was done can still be undone.
    assert undo_bulk_edit(session, ws, edit.id).reverted == 1


# --------------------------------------------------------------------------- concurrency


def test_a_chunked_run_stays_correct_while_ingestion_writes(database_url, workspace_id):
    """Messages arrive for the selected contacts (and new senders write) while a chunked
    bulk edit runs: every selected contact gets the label and the field, every message is
    stored, the new contacts are not touched, and no contact's delivered data is lost."""
    engine = make_engine(database_url)
    ws = workspace_id
    try:
        with session_scope(engine) as session:
            label = Label(workspace_id=ws, name="Campaign")
            session.add(label)
            session.add(
                CustomFieldDefinition(
                    workspace_id=ws, entity="contact", key="tier", label="Tier", type="text"
                )
            )
            for n in range(60):
                ingest_message(
                    session,
                    ws,
                    "whatsapp",
                    IncomingMessage(external_id=f"s{n}", name=f"Sender {n}", text="hello"),
                )
            session.flush()
            label_id = label.id
        with session_scope(engine) as session:
            ids = list(
                session.execute(sa.select(Contact.id).where(Contact.workspace_id == ws)).scalars()
            )
            # Listed rows (every one of them must be edited) and "all that match" (frozen:
            # one that changes before the run reaches it may be left out, never a newcomer).
            preview = bulk_edit_preview(
                session,
                ws,
                Selection(ids=ids),
                BulkRequest("set_field", field_key="tier", value="Gold"),
            )
            label_preview = bulk_edit_preview(
                session,
                ws,
                Selection(query=ContactQuery()),
                BulkRequest("add_label", label_id=label_id),
            )
        assert preview.selected == 60

        errors: list[BaseException] = []

        def deliver() -> None:
            try:
                for n in range(0, 60, 3):
                    with session_scope(engine) as session:
                        ingest_message(
                            session,
                            ws,
                            "whatsapp",
                            IncomingMessage(external_id=f"s{n}", text=f"again {n}"),
                        )
                    with session_scope(engine) as session:
                        ingest_message(
                            session,
                            ws,
                            "instagram",
                            IncomingMessage(external_id=f"new{n}", name=f"New {n}", text="hi"),
                        )
            except BaseException as error:  # reported below
                errors.append(error)

        def edit(p) -> None:
            try:
                run_bulk_edit(sessions_for(engine), ws, p.selection, p.plan, chunk_size=7)
            except BaseException as error:
                errors.append(error)

        threads = [
            threading.Thread(target=deliver),
            threading.Thread(target=edit, args=(preview,)),
            threading.Thread(target=edit, args=(label_preview,)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []

        with session_scope(engine) as session:
            rows = session.execute(
                sa.select(
                    Contact.id,
                    Contact.external_id,
                    Contact.custom_fields,
                    Contact.last_message_text,
                ).where(Contact.workspace_id == ws)
            ).all()
            tagged = labelled(session, label_id)
            messages = session.execute(sa.select(sa.func.count()).select_from(Message)).scalar_one()
        senders = [r for r in rows if r.external_id.startswith("s")]
        newcomers = [r for r in rows if r.external_id.startswith("new")]
        assert len(senders) == 60 and len(newcomers) == 20
        for row in senders:
            assert row.custom_fields == {"tier": "Gold"}
            if int(row.external_id[1:]) % 3 == 0:
                assert row.last_message_text == f"again {row.external_id[1:]}"
            else:
                assert row.id in tagged
        assert len(tagged) > 40
        assert all(row.custom_fields == {} and row.id not in tagged for row in newcomers)
        assert messages == 60 + 20 + 20
    finally:
        engine.dispose()
