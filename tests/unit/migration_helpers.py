"""Upgrade tests for Alembic revisions: build a database at a revision, fill it with
representative rows, upgrade, and check that nothing was lost — on SQLite and PostgreSQL.

Every schema change is a new revision (never an edit of an old one), and every revision
gets such a test. The generic one in test_migrations.py already runs every revision of
alembic/versions/ through `check_upgrade_keeps_data` (previous revision -> revision); a
revision that also rewrites data (merges, backfills) adds its own test:

    import pytest
    from tests.conftest import DIALECTS
    from tests.unit.migration_helpers import (
        build_at, check_upgrade_keeps_data, fill_representative, fresh_database,
        snapshot, upgrade_to,
    )

    @pytest.fixture(params=DIALECTS)
    def empty_database_url(request, tmp_path):
        yield from fresh_database(request, tmp_path)

    def test_my_revision_keeps_everything(empty_database_url):
        before, after = check_upgrade_keeps_data(empty_database_url, "7c29a6a99980", "abc123")
        assert ...  # what the revision added, from `after`

    def test_my_revision_rewrites(empty_database_url):
        build_at(empty_database_url, "7c29a6a99980")
        world = fill_representative(empty_database_url)   # ids of what it inserted
        ...                                              # add the rows the revision fixes
        upgrade_to(empty_database_url, "abc123")
        rows = snapshot(empty_database_url)              # {table: {pk: {column: value}}}

- `fresh_database(request, tmp_path)` (a generator for a fixture): a database with no
  tables — a new SQLite file, or PostgreSQL's public schema dropped and made again (and
  migrated to head afterwards, for the tests that follow on the shared test database).
- `build_at(url, revision)` / `upgrade_to(url, revision)`: alembic upgrade.
- `fill_representative(url)`: two workspaces with labels, contact and conversation custom
  fields of every type, contacts with custom-field values and labels, conversations with
  values and labels, messages (some with channel ids) and segments. It writes through the
  tables *as reflected from the database*, so it works at any revision; a NOT NULL column
  it does not know (added by a later revision, without a server default) gets a value
  of its type (0, "", false, {} or a fixed time) — pass `extra={table: {column: value}}`
  to choose one.
- `snapshot(url)`: every row of every table (not alembic_version, not the SQLite search
  index), keyed by primary key, values normalised (aware UTC datetimes, JSON as Python).
- `assert_nothing_lost(before, after, dropped=…, removed=…)`: every table, row and column of
  `before` is in `after` with the same value; `dropped` names columns the revision removes
  on purpose, `removed` rows it deletes on purpose ({table: {pk, …}}).
- `check_upgrade_keeps_data(url, from_revision, to_revision="head", ...)`: all of it in one
  call; returns (before, after) snapshots for further checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic import command
from cloodot_app.db import alembic_config, make_engine, migrate

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
# Tables that are derived, not data: the SQLite FTS index over contacts.
_DERIVED_TABLES = ("alembic_version", "contact_search")


# --------------------------------------------------------------------------- databases


def reset_postgres(admin: sa.Engine) -> None:
    with admin.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))


def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """For a fixture parametrized with tests.conftest.DIALECTS: the URL of a database
    with no tables. On PostgreSQL the session's test database is emptied, and migrated to
    head again afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin: sa.Engine = request.getfixturevalue("postgres_admin_engine")
    url = admin.url.render_as_string(hide_password=False)
    reset_postgres(admin)
    try:
        yield url
    finally:
        reset_postgres(admin)
        migrate(url)


def build_at(url: str, revision: str) -> None:
    """Migrate an empty database up to `revision` (not beyond)."""
    command.upgrade(alembic_config(url), revision)


def upgrade_to(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def _reflect(connection: sa.Connection) -> sa.MetaData:
    metadata = sa.MetaData()
    metadata.reflect(connection)
    return metadata


# --------------------------------------------------------------------------- filling


@dataclass
class World:
    """The ids fill_representative gave its rows, by name."""

    workspaces: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    conversations: dict[str, int] = field(default_factory=dict)
    messages: list[int] = field(default_factory=list)
    segments: dict[str, int] = field(default_factory=dict)


def _default_for(column: sa.Column) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer | sa.Numeric | sa.Float):
        return 0
    if isinstance(kind, sa.DateTime):
        return T0
    if isinstance(kind, sa.Date):
        return T0.date()
    if isinstance(kind, sa.JSON):
        return {}
    return ""


class _Writer:
    def __init__(self, connection: sa.Connection, extra: dict[str, dict[str, Any]]) -> None:
        self.connection = connection
        self.tables = _reflect(connection).tables
        self.extra = extra

    def insert(self, table_name: str, **values: Any) -> int | None:
        table = self.tables[table_name]
        values = {**values, **self.extra.get(table_name, {})}
        for column in table.columns:
            needs_value = (
                not column.nullable
                and column.server_default is None
                and not (column.primary_key and column.autoincrement in (True, "auto"))
            )
            if column.name not in values and needs_value:
                values[column.name] = _default_for(column)
        values = {k: v for k, v in values.items() if k in table.columns}
        result = self.connection.execute(table.insert().values(values))
        keys = result.inserted_primary_key
        return keys[0] if keys and len(table.primary_key.columns) == 1 else None


def fill_representative(url: str, *, extra: dict[str, dict[str, Any]] | None = None) -> World:
    """Insert a small, varied world (see the module docstring) and return its ids."""
    engine = make_engine(url)
    world = World()
    try:
        with engine.begin() as connection:
            _fill(_Writer(connection, extra or {}), world)
    finally:
        engine.dispose()
    return world


def _fill(w: _Writer, world: World) -> None:
    for slug in ("acme", "globex"):
        world.workspaces[slug] = w.insert(
            "workspace",
            slug=slug,
            name=slug.title(),
            ingest_token=f"token-{slug}",
            data_version=7,
            created_at=T0,
        )
    acme, globex = world.workspaces["acme"], world.workspaces["globex"]
    for name, color, workspace in (
        ("VIP", "amber", acme),
        ("Lead", "blue", acme),
        ("Churned", "gray", acme),
        ("VIP", "red", globex),
    ):
        key = name if workspace == acme else f"globex {name}"
        world.labels[key] = w.insert("label", workspace_id=workspace, name=name, color=color)
    fields = [
        ("contact", "company", "Company", "text", []),
        ("contact", "score", "Score", "number", []),
        ("contact", "plan", "Plan", "select", ["Free", "Pro", "Gold"]),
        ("contact", "interests", "Interests", "multi_select", ["Shoes", "Bags", "Hats"]),
        ("contact", "renewal", "Renewal", "date", []),
        ("contact", "site", "Site", "url", []),
        ("contact", "backup_email", "Backup email", "email", []),
        ("contact", "office_phone", "Office phone", "phone", []),
        ("conversation", "topic", "Topic", "text", []),
        ("conversation", "priority", "Priority", "select", ["Low", "High"]),
    ]
    for position, (entity, key, label, type_, options) in enumerate(fields):
        for workspace in (acme, globex):
            w.insert(
                "custom_field_definition",
                workspace_id=workspace,
                entity=entity,
                key=key,
                label=label,
                type=type_,
                options=options,
                position=position,
            )
    channels = ("whatsapp", "instagram", "facebook", "webchat", "imported")
    plans = ("Free", "Pro", "Gold", None)
    for number in range(15):
        workspace = acme if number < 12 else globex
        channel = channels[number % len(channels)]
        name = f"Person {number:02d} Ñandú"
        custom: dict[str, Any] = {"company": f"Company {number % 4}", "score": number * 1.5}
        if plans[number % 4]:
            custom["plan"] = plans[number % 4]
        if number % 3 == 0:
            custom["interests"] = ["Shoes", "Hats"][: 1 + number % 2]
        if number % 2 == 0:
            custom["renewal"] = (date(2026, 1, 1) + timedelta(days=number * 11)).isoformat()
        if number % 5 == 1:
            custom["site"] = f"https://example{number}.com"
        world.contacts[name] = w.insert(
            "contact",
            workspace_id=workspace,
            name=name,
            email=f"person{number}@example.com" if number % 4 else None,
            phone=f"+3461234{number:04d}" if number % 3 else None,
            phone_digits=f"3461234{number:04d}" if number % 3 else None,
            image_url=None,
            avatar_color="indigo",
            channel=channel,
            external_id=None if channel == "imported" else f"{channel}-{number}",
            created_at=T0 - timedelta(days=30 - number),
            updated_at=T0 - timedelta(days=number),
            last_interaction_at=None if number % 4 == 3 else T0 - timedelta(hours=number),
            last_message_text=None if number % 4 == 3 else f"Last words of {number}",
            last_message_direction=None if number % 4 == 3 else "incoming",
            campaign_opt_in=number % 2 == 1,
            custom_fields=custom,
        )
    contact_ids = list(world.contacts.values())
    for index, contact_id in enumerate(contact_ids[:12]):
        for label in ("VIP", "Lead", "Churned")[: index % 3]:
            w.insert("contact_label", contact_id=contact_id, label_id=world.labels[label])
    w.insert("contact_label", contact_id=contact_ids[13], label_id=world.labels["globex VIP"])
    message_number = 0
    for index, contact_id in enumerate(contact_ids[:8] + contact_ids[12:14]):
        workspace = acme if index < 8 else globex
        for turn in range(1 + index % 2):
            key = f"conversation {index}.{turn}"
            world.conversations[key] = w.insert(
                "conversation",
                workspace_id=workspace,
                contact_id=contact_id,
                channel=channels[index % 4],
                status=("open", "pending", "resolved")[(index + turn) % 3],
                created_at=T0 - timedelta(days=5, hours=index),
                updated_at=T0 - timedelta(hours=index + turn),
                custom_fields={"topic": f"Topic {index}", "priority": "High"} if turn else {},
            )
            if index % 3 == 0:
                w.insert(
                    "conversation_label",
                    conversation_id=world.conversations[key],
                    label_id=world.labels["Lead" if workspace == acme else "globex VIP"],
                )
            for line in range(3):
                message_number += 1
                world.messages.append(
                    w.insert(
                        "message",
                        conversation_id=world.conversations[key],
                        # Columns of later revisions (dropped where a table lacks them).
                        workspace_id=workspace,
                        channel=channels[index % 4],
                        external_id=f"mid-{message_number}" if line else None,
                        direction=("incoming", "outgoing")[line % 2],
                        text=f"Message {message_number}: ¿qué tal? 👋",
                        sent_at=T0 - timedelta(hours=index, minutes=10 * (3 - line)),
                    )
                )
    for position, (name, spec) in enumerate(
        (
            ("Gold plan", {"match": "all", "conditions": [_rule("cf.plan", "is", "Gold")]}),
            ("VIP leads", {"match": "any", "conditions": [_rule("label", "has", "VIP")]}),
        )
    ):
        world.segments[name] = w.insert(
            "segment",
            workspace_id=acme,
            name=name,
            description=f"Segment {name}",
            color="blue",
            filter_spec=spec,
            position=position,
            on_board=True,
            created_at=T0,
            updated_at=T0,
        )


def _rule(field_name: str, operator: str, value: Any) -> dict[str, Any]:
    return {"field": field_name, "operator": operator, "value": value}


# --------------------------------------------------------------------------- comparing

Snapshot = dict[str, dict[tuple, dict[str, Any]]]


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def snapshot(url: str) -> Snapshot:
    """Every row of every data table, keyed by primary key, values normalised."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = _reflect(connection).tables
            result: Snapshot = {}
            for name, table in tables.items():
                if name.startswith(_DERIVED_TABLES):
                    continue
                key_columns = list(table.primary_key.columns) or list(table.columns)
                rows = connection.execute(sa.select(table)).mappings()
                result[name] = {
                    tuple(row[c.name] for c in key_columns): {k: _normal(v) for k, v in row.items()}
                    for row in rows
                }
            return result
    finally:
        engine.dispose()


def assert_nothing_lost(
    before: Snapshot,
    after: Snapshot,
    *,
    dropped: dict[str, set[str]] | None = None,
    removed: dict[str, set[tuple]] | None = None,
    changed: dict[str, dict[tuple, set[str]]] | None = None,
) -> None:
    """Every table, row and column value of `before` is in `after`, except the columns
    in `dropped`, the rows in `removed` and the (row, columns) in `changed`."""
    dropped, removed, changed = dropped or {}, removed or {}, changed or {}
    problems: list[str] = []
    for table, rows in before.items():
        if table not in after:
            problems.append(f"table {table} is gone")
            continue
        expected_keys = set(rows) - removed.get(table, set())
        missing = expected_keys - set(after[table])
        if missing:
            problems.append(f"{table}: {len(missing)} rows lost, e.g. {sorted(missing)[:3]}")
        for gone in removed.get(table, set()) & set(after[table]):
            problems.append(f"{table}: row {gone} should have been removed")
        for key in sorted(expected_keys & set(after[table])):
            skip = dropped.get(table, set()) | changed.get(table, {}).get(key, set())
            for column, value in rows[key].items():
                if column in skip:
                    continue
                if column not in after[table][key]:
                    problems.append(f"{table}.{column} is gone")
                    break
                if after[table][key][column] != value:
                    problems.append(
                        f"{table} {key}: {column} was {value!r}, is {after[table][key][column]!r}"
                    )
    assert not problems, "The upgrade lost data:\n" + "\n".join(problems[:30])


def check_upgrade_keeps_data(
    url: str,
    from_revision: str,
    to_revision: str = "head",
    *,
    extra: dict[str, dict[str, Any]] | None = None,
    dropped: dict[str, set[str]] | None = None,
) -> tuple[Snapshot, Snapshot]:
    """Build `url` (empty) at `from_revision`, fill it, upgrade to `to_revision` and
    assert that nothing was lost. Returns the (before, after) snapshots."""
    build_at(url, from_revision)
    fill_representative(url, extra=extra)
    before = snapshot(url)
    assert sum(len(rows) for rows in before.values()) > 100, "the fill wrote too little"
    upgrade_to(url, to_revision)
    after = snapshot(url)
    assert {t: len(r) for t, r in after.items() if t in before} == {
        t: len(r) for t, r in before.items()
    }, "row counts changed"
    assert_nothing_lost(before, after, dropped=dropped)
    return before, after
