"""The count cache (services/count_cache.py) on SQLite and PostgreSQL: a count taken again
at the same data version comes from the cache, and every kind of write (edits, labels,
label deletion, bulk deletion, ingestion, import, custom-field changes, a card dropped on
the Leads board, a segment's new rules) makes the next count exact again, on the All
Contacts total, the Segments page and the Leads board alike.

Each step runs in its own transaction, as the app runs them (in_workspace)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app import db
from cloodot_app.filters import FilterSpec
from cloodot_app.models import Contact, ContactLabel, CustomFieldDefinition, Label, Segment
from cloodot_app.services import count_cache
from cloodot_app.services.contact_deletes import Selection, delete_contacts
from cloodot_app.services.contact_edits import set_contact_labels, update_contact_field
from cloodot_app.services.contacts import ContactQuery, count_contacts, list_contacts
from cloodot_app.services.custom_fields import update_field
from cloodot_app.services.importer import run_import
from cloodot_app.services.importer.parse import read_csv
from cloodot_app.services.ingestion import IncomingMessage, ingest_message
from cloodot_app.services.labels import delete_label
from cloodot_app.services.leads import load_board, move_card
from cloodot_app.services.segments import segments_with_counts, update_segment


def spec(*conditions: tuple[str, str, Any], match: str = "all") -> FilterSpec:
    return FilterSpec.parse(
        {
            "match": match,
            "conditions": [{"field": f, "operator": o, "value": v} for f, o, v in conditions],
        }
    )


class World:
    """acme: Ann (whatsapp, VIP, plan Pro), Ben (instagram, plan Free), Cat (whatsapp).
    Segments: VIP (label), Pro (plan is Pro), WhatsApp (channel), Recent (created within
    the last 7 days: a rule relative to today)."""

    def __init__(self, engine: sa.Engine, workspace_id: int) -> None:
        self.engine, self.ws = engine, workspace_id
        with db.session_scope(engine) as session:
            session.add(
                CustomFieldDefinition(
                    workspace_id=workspace_id,
                    entity="contact",
                    key="plan",
                    label="Plan",
                    type="select",
                    options=["Free", "Pro"],
                )
            )
            vip = Label(workspace_id=workspace_id, name="VIP")
            session.add(vip)
            session.flush()
            self.vip = vip.id or 0
            people = {}
            for name, channel, plan in (
                ("Ann Archer", "whatsapp", "Pro"),
                ("Ben Baker", "instagram", "Free"),
                ("Cat Cole", "whatsapp", None),
            ):
                contact = Contact(
                    workspace_id=workspace_id,
                    name=name,
                    channel=channel,
                    custom_fields={"plan": plan} if plan else {},
                )
                session.add(contact)
                session.flush()
                people[name.split()[0]] = contact.id or 0
            self.ann, self.ben, self.cat = people["Ann"], people["Ben"], people["Cat"]
            session.add(ContactLabel(contact_id=self.ann, label_id=self.vip))
            self.segments = {}
            for position, (name, rules) in enumerate(
                (
                    ("VIP", spec(("label", "has_any_of", [self.vip]))),
                    ("Pro", spec(("cf.plan", "is", "Pro"))),
                    ("WhatsApp", spec(("channel", "is", "whatsapp"))),
                    ("Recent", spec(("created_at", "within_last_days", 7))),
                )
            ):
                segment = Segment(
                    workspace_id=workspace_id,
                    name=name,
                    filter_spec=rules.model_dump(mode="json"),
                    position=position,
                )
                session.add(segment)
                session.flush()
                self.segments[name] = segment.id or 0

    def run(self, service: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with db.session_scope(self.engine) as session:
            return service(session, self.ws, *args, **kwargs)

    def total(self, query: ContactQuery | None = None) -> int:
        return self.run(list_contacts, query or ContactQuery()).total

    def segment_page(self) -> dict[str, int | None]:
        return {s.name: s.count for s in self.run(segments_with_counts)}

    def board(self) -> dict[str, int]:
        return {c.name: c.total for c in self.run(load_board, "").columns}

    def views(self) -> dict[str, Any]:
        """Every count the app shows, taken twice: the second time must be from the cache
        (and agree)."""
        first = self._views()
        hits = count_cache.CACHE.hits
        second = self._views()
        assert second == first
        assert count_cache.CACHE.hits > hits, "nothing changed, yet the counts were retaken"
        return first

    def _views(self) -> dict[str, Any]:
        return {
            "total": self.total(),
            "whatsapp quick filter": self.total(
                ContactQuery(filter=spec(("channel", "is", "whatsapp")))
            ),
            "segments": self.segment_page(),
            "board": self.board(),
            "Pro via All Contacts": self.total(ContactQuery(segment_id=self.segments["Pro"])),
        }


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    count_cache.clear()


@pytest.fixture
def world(engine: sa.Engine, workspace_id: int) -> World:
    return World(engine, workspace_id)


BEFORE = {
    "total": 3,
    "whatsapp quick filter": 2,
    "segments": {"VIP": 1, "Pro": 1, "WhatsApp": 2, "Recent": 3},
    "board": {"VIP": 1, "Pro": 1, "WhatsApp": 2, "Recent": 3},
    "Pro via All Contacts": 1,
}


def changed(**changes: Any) -> dict[str, Any]:
    """BEFORE with some counts changed: segment counts apply to the page and the board."""
    result: dict[str, Any] = {
        "total": BEFORE["total"],
        "whatsapp quick filter": BEFORE["whatsapp quick filter"],
        "segments": dict(BEFORE["segments"]),
        "board": dict(BEFORE["board"]),
        "Pro via All Contacts": BEFORE["Pro via All Contacts"],
    }
    for key, value in changes.items():
        if key in BEFORE["segments"]:
            result["segments"][key] = result["board"][key] = value
            if key == "Pro":
                result["Pro via All Contacts"] = value
        else:
            result[key.replace("_", " ")] = value
    return result


def test_unchanged_counts_come_from_the_cache(world):
    assert world.views() == BEFORE


def test_a_write_that_skipped_the_version_bump_would_show_old_counts(world):
    """The control experiment: the cache is really in use, and the data version is what
    keeps it right (every service write bumps it)."""
    assert world.views() == BEFORE
    with db.session_scope(world.engine) as session:
        session.execute(sa.delete(ContactLabel).where(ContactLabel.label_id == world.vip))
    assert world.segment_page()["VIP"] == 1  # stale: no bump
    with db.session_scope(world.engine) as session:
        from cloodot_app.services.workspaces import bump_data_version

        bump_data_version(session, world.ws)
    assert world.segment_page()["VIP"] == 0


def test_editing_a_field(world):
    world.views()
    world.run(update_contact_field, world.ben, "cf.plan", "Pro")
    assert world.views() == changed(Pro=2)


def test_changing_labels(world):
    world.views()
    world.run(set_contact_labels, world.cat, [world.vip])
    assert world.views() == changed(VIP=2)


def test_deleting_a_label(world):
    """Only rules naming the label can count differently, and those now report the label
    as deleted instead of a count; the version moved, so no old entry is read again."""
    world.views()
    before = world.run(count_cache.scope)
    world.run(delete_label, world.vip)
    assert world.run(count_cache.scope).version > before.version
    segments = world.segment_page()
    assert segments["VIP"] is None
    assert segments["Pro"] == 1


def test_deleting_contacts(world):
    world.views()
    world.run(delete_contacts, Selection(ids=[world.ann]))
    assert world.views() == changed(
        total=2, whatsapp_quick_filter=1, VIP=0, Pro=0, WhatsApp=1, Recent=2
    )


def test_an_incoming_message_from_a_new_sender(world):
    world.views()
    world.run(
        ingest_message,
        "whatsapp",
        IncomingMessage(external_id="+15550001", text="Hello", name="Dan Dale"),
    )
    assert world.views() == changed(total=4, whatsapp_quick_filter=3, WhatsApp=3, Recent=4)


def test_an_import(world):
    world.views()
    parsed = read_csv(b"Name,Email\nEve Egan,eve@example.com\n")
    run_import(
        partial(db.session_scope, world.engine),
        world.ws,
        parsed,
        {"Name": "name", "Email": "email"},
    )
    assert world.views() == changed(total=4, Recent=4)


def test_removing_an_option_with_its_values(world):
    world.views()
    field_id = world.run(
        lambda session, ws: session.execute(
            sa.select(CustomFieldDefinition.id).where(CustomFieldDefinition.workspace_id == ws)
        ).scalar_one()
    )
    empty_plan = ContactQuery(filter=spec(("cf.plan", "is_empty", None)))
    assert world.total(empty_plan) == 1
    world.run(update_field, field_id, "Plan", ["Free"], drop_values=True)
    assert world.total(empty_plan) == 2
    assert world.segment_page()["Pro"] is None  # its option is gone: shown as broken


def test_a_card_dropped_on_the_board(world):
    world.views()
    world.run(move_card, world.ben, world.segments["VIP"])
    assert world.views() == changed(VIP=2)


def test_new_rules_for_a_segment(world):
    world.views()
    world.run(
        update_segment,
        world.segments["WhatsApp"],
        name="WhatsApp",
        spec=spec(("channel", "is", "instagram")),
    )
    expected = changed(WhatsApp=1)
    assert world.views() == expected


def test_a_transaction_that_wrote_counts_its_own_rows(world):
    """Counts inside a writing transaction are neither served from nor stored in the
    cache: they may include rows that are rolled back."""
    assert world.total() == 3
    with Session(world.engine) as session:
        session.add(Contact(workspace_id=world.ws, name="Uncommitted"))
        session.flush()
        assert count_contacts(session, world.ws, ContactQuery()) == 4
        session.rollback()
    assert world.total() == 3
    with Session(world.engine) as session:
        session.add(Contact(workspace_id=world.ws, name="Committed"))
        session.commit()
    # The insert did not bump the version (services always do): the cached 3 stays, which
    # shows the rolled-back 4 was never stored.
    assert world.total() == 3


def test_rules_relative_to_today_expire(world, monkeypatch):
    assert world.segment_page()["Recent"] == 3
    scope = world.run(count_cache.scope)
    entries = [
        (key, value) for (where, key), value in count_cache.CACHE._entries.items() if where == scope
    ]
    relative = [value for key, value in entries if "within_last_days" in key]
    fixed = [value for key, value in entries if "within_last_days" not in key]
    assert relative and all(expires is not None for _, expires in relative)
    assert fixed and all(expires is None for _, expires in fixed)
    now = count_cache.time.monotonic()
    monkeypatch.setattr(
        count_cache.time, "monotonic", lambda: now + count_cache.RELATIVE_SECONDS + 1
    )
    hits = count_cache.CACHE.hits
    world.segment_page()
    assert count_cache.CACHE.hits == hits + 3  # VIP, Pro, WhatsApp; Recent recounted


def test_the_cache_forgets_the_oldest_entries():
    cache = count_cache.CountCache(max_entries=2)
    scope = count_cache.Scope("db", 1, "t", 1)
    for key in ("a", "b", "c"):
        cache.put(scope, key, 1, relative=False)
    assert len(cache) == 2
    assert cache.get(scope, "a") is None
    assert cache.get(scope, "c") == 1


def test_keys_tell_views_apart():
    key = count_cache.view_key
    assert key("contacts", "mar", None) == key("contacts", "  MAR ", None)
    assert key("contacts", "mar", None) != key("contacts", "ma", None)
    assert key("contacts", "", spec(("channel", "is", "email"))) != key(
        "contacts", "", spec(("channel", "is", "whatsapp"))
    )


def test_board_cards_and_table_pages_come_from_the_cache_until_a_write(world):
    """The ids of a page (a Leads column's cards, a page of All Contacts) are kept under
    the data version like the counts: read again when nothing changed, re-read after any
    write."""

    def cards() -> dict[str, list[str]]:
        board = world.run(load_board, "")
        return {column.name: [card.name for card in column.cards] for column in board.columns}

    def page() -> list[str]:
        return [row.name for row in world.run(list_contacts, ContactQuery()).rows]

    first_cards, first_page = cards(), page()
    hits = count_cache.PAGES.hits
    assert (cards(), page()) == (first_cards, first_page)
    assert count_cache.PAGES.hits == hits + len(first_cards) + 1
    assert first_cards["VIP"] == ["Ann Archer"]
    assert first_page == ["Cat Cole", "Ben Baker", "Ann Archer"]

    world.run(set_contact_labels, world.cat, [world.vip])
    assert cards()["VIP"] == ["Cat Cole", "Ann Archer"]
    world.run(delete_contacts, Selection(ids=[world.ann]))
    assert cards()["VIP"] == ["Cat Cole"]
    assert page() == ["Cat Cole", "Ben Baker"]


def test_more_than_the_cap_is_remembered(world, monkeypatch):
    """A capped count ("10,000+") is cached too: the same view again counts nothing."""
    from cloodot_app.services import contacts as contacts_service

    monkeypatch.setattr(contacts_service, "COUNT_CAP", 2)
    from cloodot_app.services.contacts import contacts_view

    first = world.run(contacts_view, ContactQuery()).page
    assert (first.total, first.exact) == (2, False)
    hits = count_cache.CACHE.hits
    again = world.run(contacts_view, ContactQuery()).page
    assert (again.total, again.exact) == (2, False)
    assert count_cache.CACHE.hits == hits + 1  # "more than 2", with no count taken
    world.run(set_contact_labels, world.cat, [world.vip])
    assert world.run(contacts_view, ContactQuery()).page.exact is False
    assert count_cache.CACHE.hits == hits + 1  # a new version: counted again
