"""Channel connections (Settings → Channels' services): connecting each kind, rotating
the verify token, replacing the app secret, changing a WebChat site, disconnecting; admins
of the workspace only, every change audited, bad input refused with nothing stored. On
SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from cloodot_app.access import Role
from cloodot_app.errors import AccessDenied, ChannelError, NotFound
from cloodot_app.models import AuditEntry, ChannelConnection, ChannelKind
from cloodot_app.services import channels
from tests.unit.accounts_helpers import isolate_accounts, make_member, sign_in_as

# What Meta's dashboard shows under App settings → Basic: 32 hexadecimal characters.
APP_SECRET = "5f3c2a9e8b7d6c1f0e4a3b2c1d0e9f8a"
NEW_SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    isolate_accounts(monkeypatch)


@pytest.fixture
def people(session, workspace_id, make_workspace):
    """Acme's admin, manager and agent, and Globex's admin, each signed in."""
    result = {}
    for email, role in [
        ("ada@acme.example", Role.ADMIN),
        ("max@acme.example", Role.MANAGER),
        ("abe@acme.example", Role.AGENT),
    ]:
        user = make_member(session, workspace_id, email, role)
        result[role.value] = sign_in_as(session, user, workspace_id)[1]
    globex = make_workspace("globex", "Globex")
    intruder = make_member(session, globex, "gus@globex.example", Role.ADMIN)
    result["other_admin"] = sign_in_as(session, intruder, globex)[1]
    return result


def _actions(session, workspace_id) -> list[str]:
    return list(
        session.execute(
            sa.select(AuditEntry.action)
            .where(AuditEntry.workspace_id == workspace_id)
            .order_by(AuditEntry.id)
        ).scalars()
    )


def _count(session) -> int:
    return session.execute(sa.select(sa.func.count()).select_from(ChannelConnection)).scalar_one()


def _whatsapp(session, workspace_id, admin, name="Support +1 415 555 0123"):
    row = channels.create_connection(
        session, workspace_id, admin, "whatsapp", name, app_secret=APP_SECRET
    )
    session.commit()
    return row


# --------------------------------------------------------------------------- connecting


@pytest.mark.parametrize("kind", ["whatsapp", "messenger", "instagram"])
def test_a_meta_connection_gets_a_key_and_verify_token_and_keeps_the_secret(
    session, workspace_id, people, kind
):
    row = channels.create_connection(
        session, workspace_id, people["admin"], kind, "  Acme  ", app_secret=f" {APP_SECRET} "
    )
    session.commit()
    assert row.kind == ChannelKind(kind) and row.name == "Acme"
    assert len(row.key) >= 20 and len(row.verify_token) >= 30
    # The page only ever sees the last characters of the secret…
    assert row.secret_hint == APP_SECRET[-4:]
    assert APP_SECRET not in repr(row)
    # …and the webhook finds the whole secret (HMAC needs it) by the URL's key.
    keys = channels.connection_by_key(session, row.key)
    assert keys is not None
    assert (keys.workspace_id, keys.kind, keys.app_secret) == (
        workspace_id,
        ChannelKind(kind),
        APP_SECRET,
    )
    assert keys.verify_token == row.verify_token
    entry = session.execute(sa.select(AuditEntry)).scalars().one()
    assert entry.action == "channels.connect"
    assert entry.summary == f"Connected {channels.KIND_WORDS[ChannelKind(kind)]} “Acme”"
    assert APP_SECRET not in repr(entry.details)


def test_two_connections_never_share_a_key_or_token(session, workspace_id, people):
    first = _whatsapp(session, workspace_id, people["admin"])
    second = _whatsapp(session, workspace_id, people["admin"])
    assert first.key != second.key and first.verify_token != second.verify_token


def test_a_webchat_site_keeps_the_origins_of_its_addresses(session, workspace_id, people):
    row = channels.create_connection(
        session,
        workspace_id,
        people["admin"],
        "webchat",
        "Acme website",
        allowed_origins=[
            "https://www.acme.example/pricing?x=1",
            "HTTPS://WWW.ACME.EXAMPLE:443",
            "shop.acme.example",
            "http://localhost:8080/",
            "https://bücher.example",
            "",
        ],
        ask_details=False,
    )
    session.commit()
    assert row.allowed_origins == [
        "https://www.acme.example",
        "https://shop.acme.example",
        "http://localhost:8080",
        "https://xn--bcher-kva.example",
    ]
    assert row.verify_token == "" and row.secret_hint == "" and row.ask_details is False
    keys = channels.connection_by_key(session, row.key)
    assert keys is not None and keys.allowed_origins == tuple(row.allowed_origins)


@pytest.mark.parametrize(
    ("kind", "name", "secret", "origins", "message"),
    [
        ("telegram", "X", APP_SECRET, [], "Choose what to connect"),
        ("whatsapp", "   ", APP_SECRET, [], "Give the connection a name"),
        ("whatsapp", "x" * 121, APP_SECRET, [], "the most is 120"),
        ("whatsapp", "Acme", "", [], "Paste the app secret"),
        ("whatsapp", "Acme", "short", [], "Meta's are 32"),
        ("messenger", "Acme", "abc def ghi jkl mno pqr", [], "no spaces"),
        ("instagram", "Acme", "é" * 32, [], "no spaces"),
        ("webchat", "Site", "", [], "at least one website"),
        ("webchat", "Site", "", ["https://*.acme.example"], "wildcards"),
        ("webchat", "Site", "", ["ftp://acme.example"], "not a web address"),
        ("webchat", "Site", "", ["https://user:pw@acme.example"], "not a web address"),
        ("webchat", "Site", "", ["https://acme.example:99999"], "not a web address"),
        ("webchat", "Site", "", ["https://ac me.example"], "characters a web address"),
        ("webchat", "Site", "", [f"https://s{n}.example" for n in range(21)], "at most 20"),
    ],
)
def test_what_cannot_be_connected_is_refused_with_nothing_stored(
    session, workspace_id, people, kind, name, secret, origins, message
):
    with pytest.raises(ChannelError, match=message):
        channels.create_connection(
            session,
            workspace_id,
            people["admin"],
            kind,
            name,
            app_secret=secret,
            allowed_origins=origins,
        )
    session.rollback()
    assert _count(session) == 0 and _actions(session, workspace_id) == []


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize("who", ["manager", "agent", "other_admin", "demo_admin"])
def test_only_an_admin_of_the_workspace_changes_its_connections(session, workspace_id, people, who):
    row = _whatsapp(session, workspace_id, people["admin"])
    actor = dataclasses.replace(people["admin"], demo=True) if who == "demo_admin" else people[who]
    calls = [
        lambda: channels.create_connection(
            session, workspace_id, actor, "whatsapp", "Mine", app_secret=APP_SECRET
        ),
        lambda: channels.rotate_verify_token(session, workspace_id, actor, row.id),
        lambda: channels.replace_app_secret(session, workspace_id, actor, row.id, NEW_SECRET),
        lambda: channels.delete_connection(session, workspace_id, actor, row.id),
    ]
    for call in calls:
        with pytest.raises(AccessDenied):
            call()
        session.rollback()
    assert channels.list_connections(session, workspace_id) == [row]
    assert _actions(session, workspace_id) == ["channels.connect"]


def test_another_workspaces_ids_are_not_found(session, workspace_id, people, make_workspace):
    row = _whatsapp(session, workspace_id, people["admin"])
    globex = people["other_admin"].workspace_id
    admin = people["other_admin"]
    for call in (
        lambda: channels.rotate_verify_token(session, globex, admin, row.id),
        lambda: channels.replace_app_secret(session, globex, admin, row.id, NEW_SECRET),
        lambda: channels.delete_connection(session, globex, admin, row.id),
        lambda: channels.update_webchat(
            session, globex, admin, row.id, name="x", allowed_origins=["a.example"], ask_details=1
        ),
    ):
        with pytest.raises(NotFound):
            call()
        session.rollback()
    assert channels.list_connections(session, globex) == []
    assert channels.list_connections(session, workspace_id) == [row]


# --------------------------------------------------------------------------- changes


def test_rotating_the_verify_token_replaces_it(session, workspace_id, people):
    row = _whatsapp(session, workspace_id, people["admin"])
    rotated = channels.rotate_verify_token(session, workspace_id, people["admin"], row.id)
    session.commit()
    assert rotated.verify_token != row.verify_token
    keys = channels.connection_by_key(session, row.key)
    assert keys is not None and keys.verify_token == rotated.verify_token
    assert keys.app_secret == APP_SECRET  # the secret is another thing
    assert _actions(session, workspace_id)[-1] == "channels.verify_token_rotate"


def test_replacing_the_app_secret(session, workspace_id, people):
    row = _whatsapp(session, workspace_id, people["admin"])
    with pytest.raises(ChannelError, match="already in use"):
        channels.replace_app_secret(session, workspace_id, people["admin"], row.id, APP_SECRET)
    session.rollback()
    replaced = channels.replace_app_secret(
        session, workspace_id, people["admin"], row.id, NEW_SECRET
    )
    session.commit()
    assert replaced.secret_hint == NEW_SECRET[-4:]
    assert replaced.verify_token == row.verify_token
    assert replaced.secret_changed_at is not None
    keys = channels.connection_by_key(session, row.key)
    assert keys is not None and keys.app_secret == NEW_SECRET
    assert _actions(session, workspace_id)[-1] == "channels.app_secret_replace"
    entry = session.execute(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
    assert NEW_SECRET not in repr(entry.details) and APP_SECRET not in repr(entry.details)


def test_a_webchat_site_has_no_token_or_secret_and_a_meta_one_no_origins(
    session, workspace_id, people
):
    admin = people["admin"]
    site = channels.create_connection(
        session, workspace_id, admin, "webchat", "Site", allowed_origins=["acme.example"]
    )
    meta = _whatsapp(session, workspace_id, admin)
    with pytest.raises(ChannelError, match="no verify token"):
        channels.rotate_verify_token(session, workspace_id, admin, site.id)
    with pytest.raises(ChannelError, match="no app secret"):
        channels.replace_app_secret(session, workspace_id, admin, site.id, NEW_SECRET)
    with pytest.raises(ChannelError, match="Only a WebChat site"):
        channels.update_webchat(
            session, workspace_id, admin, meta.id, name="x", allowed_origins=[], ask_details=True
        )


def test_changing_a_webchat_site(session, workspace_id, people):
    admin = people["admin"]
    site = channels.create_connection(
        session, workspace_id, admin, "webchat", "Site", allowed_origins=["acme.example"]
    )
    session.commit()
    with pytest.raises(ChannelError, match="at least one website"):
        channels.update_webchat(
            session,
            workspace_id,
            admin,
            site.id,
            name="Site",
            allowed_origins=[" "],
            ask_details=True,
        )
    session.rollback()
    changed = channels.update_webchat(
        session,
        workspace_id,
        admin,
        site.id,
        name="Acme site",
        allowed_origins=["https://acme.example", "https://www.acme.example/"],
        ask_details=False,
    )
    session.commit()
    assert changed.name == "Acme site" and changed.ask_details is False
    assert changed.allowed_origins == ["https://acme.example", "https://www.acme.example"]
    assert changed.key == site.key
    entry = session.execute(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
    assert entry.action == "channels.webchat_change"
    assert entry.details["allowed_origins"] == {
        "old": ["https://acme.example"],
        "new": ["https://acme.example", "https://www.acme.example"],
    }


def test_disconnecting_stops_the_key_at_once(session, workspace_id, people):
    row = _whatsapp(session, workspace_id, people["admin"])
    said = channels.delete_connection(session, workspace_id, people["admin"], row.id)
    session.commit()
    assert said == "WhatsApp “Support +1 415 555 0123”"
    assert channels.connection_by_key(session, row.key) is None
    assert channels.list_connections(session, workspace_id) == []
    assert _actions(session, workspace_id) == ["channels.connect", "channels.disconnect"]
    with pytest.raises(NotFound):
        channels.delete_connection(session, workspace_id, people["admin"], row.id)


def test_the_list_is_by_kind_then_oldest_first(session, workspace_id, people):
    admin = people["admin"]
    made = [
        channels.create_connection(
            session, workspace_id, admin, "webchat", "Site", allowed_origins=["a.example"]
        ),
        channels.create_connection(
            session, workspace_id, admin, "instagram", "IG", app_secret=APP_SECRET
        ),
        channels.create_connection(
            session, workspace_id, admin, "whatsapp", "WA 2", app_secret=APP_SECRET
        ),
        channels.create_connection(
            session, workspace_id, admin, "whatsapp", "WA 1", app_secret=APP_SECRET
        ),
    ]
    session.commit()
    names = [row.name for row in channels.list_connections(session, workspace_id)]
    assert names == ["WA 2", "WA 1", "IG", "Site"]
    assert len(made) == 4


@pytest.mark.parametrize("key", ["", "nope", "x" * 65, "ü" * 10])
def test_an_unknown_key_names_no_connection(session, workspace_id, people, key):
    _whatsapp(session, workspace_id, people["admin"])
    assert channels.connection_by_key(session, key) is None


def test_a_delivery_stamp_is_written_at_most_once_a_minute(session, workspace_id, people):
    row = _whatsapp(session, workspace_id, people["admin"])
    channels.stamp_delivery(session, row.id)
    session.commit()
    first = channels.list_connections(session, workspace_id)[0].last_delivery_at
    assert first is not None
    channels.stamp_delivery(session, row.id)
    session.commit()
    assert channels.list_connections(session, workspace_id)[0].last_delivery_at == first


def test_deleting_the_workspace_deletes_its_connections(session, workspace_id, people):
    from cloodot_app.models import Workspace

    _whatsapp(session, workspace_id, people["admin"])
    session.execute(sa.delete(Workspace).where(Workspace.id == workspace_id))
    session.commit()
    assert _count(session) == 0
