"""CSV export of a contacts view: validation, a streamed file, and signed download tickets.

The browser downloads the file through a plain link (`GET /api/contacts/export.csv`), so
the request carries no workspace of its own: the Reflex state signs an *export ticket*
(workspace id + export options, valid a few minutes) and the HTTP route trusts only that.

The file:

- UTF-8 without BOM, RFC 4180 (CRLF line ends, fields quoted when they hold a comma, a
  quote, CR or LF), a header row first.
- Columns: Name, Email, Phone, Channel, Created At, Last Interaction (ISO 8601, UTC),
  Campaign Opt-in (yes/no), Labels, one column per contact custom field (header = the
  field's label), then, when asked, "Labels (recent conversations)" and one
  "<label> (conversation)" column per conversation custom field.
- Spreadsheet formulas are neutralised: every text cell (headers too) that starts with
  `=`, `+`, `-`, `@`, TAB, CR or LF gets a leading `'`. Phone numbers are stored in E.164
  ("+4420…"), so they come out as "'+4420…": intended (that cell starts with "+"), and
  spreadsheets show the number without the quote. Numbers stored in number fields are not
  text and are written as stored, so -5 stays -5.

No Reflex import here: the route (cloodot_app.api) and the state both call these functions.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from cloodot_app.errors import ExportError, TicketError
from cloodot_app.fieldtypes import FIELD_TYPES, FieldType
from cloodot_app.filters import CompileContext, FilterError, FilterSpec
from cloodot_app.models import (
    Contact,
    ContactLabel,
    Conversation,
    ConversationLabel,
    CustomFieldDefinition,
    FieldEntity,
    Label,
)
from cloodot_app.services import tickets
from cloodot_app.services.contact_rows import (
    CONVERSATION_RECENCY,
    add_older_values,
    display,
)
from cloodot_app.services.contacts import ContactQuery, NotFound, contact_condition, sort_order
from cloodot_app.services.tickets import ticket_secret  # noqa: F401  (the routes' key)
from cloodot_app.services.workspaces import field_catalog

ExportSort = Literal["last_interaction_at", "created_at"]
EXPORT_SORTS: tuple[str, ...] = get_args(ExportSort)

# How many of a contact's most recent conversations "labels from recent sessions" reads.
RECENT_CONVERSATIONS = 5
DEFAULT_CHUNK_SIZE = 2000
# RFC 4180. With a bare "\n" terminator pandas (Python's csv module) leaves a field holding
# a lone CR unquoted, which every reader then takes for the end of the row.
LINE_TERMINATOR = "\r\n"

BUILTIN_HEADERS = (
    "Name",
    "Email",
    "Phone",
    "Channel",
    "Created At",
    "Last Interaction",
    "Campaign Opt-in",
    "Labels",
)
CONVERSATION_LABELS_HEADER = "Labels (recent conversations)"

# OWASP "CSV injection": a cell starting with one of these is a formula to a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass
class ExportOptions:
    """What the export dialog asked for.

    `query` is the current view (search, quick filters, segment); its page, page size and
    table sort are ignored: the export has its own `limit` and `sort` (always descending,
    contacts never contacted last).
    """

    query: ContactQuery = field(default_factory=ContactQuery)
    limit: int = 1000
    sort: ExportSort = "last_interaction_at"
    include_conversation_labels: bool = False
    include_conversation_fields: bool = False

    def to_json(self) -> dict[str, Any]:
        try:
            spec = FilterSpec.parse(self.query.filter)
        except FilterError as error:
            raise ExportError(str(error)) from None
        return {
            "query": {
                "search": self.query.search,
                "filter": spec.model_dump(mode="json"),
                "segment_id": self.query.segment_id,
            },
            "limit": self.limit,
            "sort": self.sort,
            "include_conversation_labels": self.include_conversation_labels,
            "include_conversation_fields": self.include_conversation_fields,
        }

    @classmethod
    def from_json(cls, data: Any) -> ExportOptions:
        """The inverse of to_json; raises TypeError or ValueError (FilterError) on anything
        else."""
        if not isinstance(data, dict) or not isinstance(data.get("query"), dict):
            raise TypeError("not an export")
        query = data["query"]
        segment_id = query.get("segment_id")
        search = query.get("search", "")
        limit = data.get("limit")
        sort = data.get("sort")
        flags = (data.get("include_conversation_labels"), data.get("include_conversation_fields"))
        if (
            not isinstance(search, str)
            or not (segment_id is None or _is_int(segment_id))
            or not _is_int(limit)
            or sort not in EXPORT_SORTS
            or not all(isinstance(flag, bool) for flag in flags)
        ):
            raise ValueError("not an export")
        return cls(
            query=ContactQuery(
                search=search, filter=FilterSpec.parse(query.get("filter")), segment_id=segment_id
            ),
            limit=limit,
            sort=sort,
            include_conversation_labels=flags[0],
            include_conversation_fields=flags[1],
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------- validating


def _check_options(options: ExportOptions, max_rows: int | None) -> None:
    if not _is_int(options.limit) or options.limit < 1:
        raise ExportError("Choose at least one contact to export.")
    if max_rows is not None and options.limit > max_rows:
        raise ExportError(f"You can export at most {max_rows:,} contacts at a time.")
    if options.sort not in EXPORT_SORTS:
        raise ExportError("Contacts can be exported by last interaction or by created date.")


def _export_condition(
    session: Session, workspace_id: int, options: ExportOptions
) -> sa.ColumnElement[bool]:
    try:
        return contact_condition(session, workspace_id, options.query)
    except (FilterError, NotFound) as error:
        raise ExportError(str(error)) from None


def validate_export(
    session: Session, workspace_id: int, options: ExportOptions, max_rows: int
) -> int:
    """The exact number of rows the file will have: min(limit, contacts in the view).

    Raises ExportError (message for the user) for a limit outside 1..max_rows, an unknown
    sort, or a view whose filter or segment no longer applies.
    """
    _check_options(options, max_rows)
    where = _export_condition(session, workspace_id, options)
    # Counting at most `limit` rows is all the answer needs, and cheaper on a big view.
    capped = sa.select(Contact.id).where(where).limit(options.limit).subquery()
    matches = session.execute(sa.select(sa.func.count()).select_from(capped)).scalar_one()
    return min(options.limit, matches)


def prepare_export(
    session: Session, workspace_id: int, options: ExportOptions, max_rows: int
) -> tuple[int, str]:
    """What the Download CSV dialog's confirm does: the exact row count and a signed
    ticket the browser presents to the streaming route."""
    rows = validate_export(session, workspace_id, options, max_rows)
    return rows, make_ticket(workspace_id, options, tickets.ticket_secret())


def export_filename(today: date) -> str:
    return f"contacts-{today.isoformat()}.csv"


# --------------------------------------------------------------------------- the file


# Spreadsheets also read the full-width forms (U+FF1D ＝, FF0B ＋, FF0D －, FF20 ＠) as
# formula starts, and a leading ";" (or full-width "；") before one of them is skipped as a
# separator by some importers.
_FULL_WIDTH_FORMULA_PREFIXES = ("\uff1d", "\uff0b", "\uff0d", "\uff20")
_SEPARATORS = (";", "\uff1b")


_FORMULA_STARTS = (*FORMULA_PREFIXES, *_FULL_WIDTH_FORMULA_PREFIXES)
# Every rule below looks at the first character first: a cell starting with anything else
# is returned at once (most cells; a 100,000-row export neutralises ~1.5 million).
_SUSPECT_FIRST = frozenset("".join((*_FORMULA_STARTS, *_SEPARATORS)))


def neutralize(value: str) -> str:
    """Prefix a quote to a cell a spreadsheet would read as a formula."""
    if value[:1] not in _SUSPECT_FIRST:
        return value
    starts = _FORMULA_STARTS
    rest = value.lstrip("".join(_SEPARATORS) + " ")
    if value.startswith(starts) or (value.startswith(_SEPARATORS) and rest.startswith(starts)):
        return "'" + value
    return value


@dataclass(frozen=True)
class _Column:
    key: str
    type: str
    header: str


@dataclass(frozen=True)
class _Layout:
    """The columns, fixed when the export starts (a field added meanwhile is not in it)."""

    contact_fields: tuple[_Column, ...]
    conversation_fields: tuple[_Column, ...]
    conversation_labels: bool

    @property
    def headers(self) -> list[str]:
        headers = [*BUILTIN_HEADERS, *(c.header for c in self.contact_fields)]
        if self.conversation_labels:
            headers.append(CONVERSATION_LABELS_HEADER)
        headers.extend(c.header for c in self.conversation_fields)
        return headers


def _layout(session: Session, workspace_id: int, options: ExportOptions) -> _Layout:
    definitions = session.execute(
        sa.select(CustomFieldDefinition)
        .where(CustomFieldDefinition.workspace_id == workspace_id)
        .order_by(CustomFieldDefinition.position, CustomFieldDefinition.id)
    ).scalars()
    contact_fields: list[_Column] = []
    conversation_fields: list[_Column] = []
    for definition in definitions:
        if definition.entity == FieldEntity.CONTACT.value:
            contact_fields.append(_Column(definition.key, definition.type, definition.label))
        elif options.include_conversation_fields:
            conversation_fields.append(
                _Column(definition.key, definition.type, f"{definition.label} (conversation)")
            )
    return _Layout(
        tuple(contact_fields), tuple(conversation_fields), options.include_conversation_labels
    )


def _csv(rows: list[list[Any]]) -> str:
    # The csv module, not pandas' to_csv: pandas writes object columns through this very
    # writer (same dialect) after building a DataFrame per chunk, which cost ~0.3 s per
    # 100,000 rows for nothing. The one thing pandas added, None/NaN -> "", _field_cell
    # does (tests/unit/test_export.py compares the two on awkward values).
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator=LINE_TERMINATOR).writerows(rows)
    return buffer.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    return neutralize(value if isinstance(value, str) else str(value))


def _timestamp(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:  # stored as UTC (models.utcnow): the usual case, kept cheap
        return value.isoformat(timespec="seconds") + "Z"
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _field_cell(type_name: str, value: Any) -> Any:
    """A custom field's value as the cell shows it: numbers as stored, lists joined."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A number is not text: it cannot be a formula, and -5 must stay -5. NaN (which
        # json.loads accepts from SQLite text) is an empty cell, as pandas wrote it.
        return "" if value != value else value
    if isinstance(value, list):
        return neutralize(", ".join(str(item) for item in value))
    if isinstance(value, str) and type_name in _TEXT_AS_STORED:
        return neutralize(value)
    return neutralize(display(type_name, value))


# The field types whose display() shows a stored string as it is (FieldType's own):
# _field_cell skips the call for them, ~1 µs a cell.
_TEXT_AS_STORED = frozenset(
    name for name, kind in FIELD_TYPES.items() if type(kind).display is FieldType.display
)


# --------------------------------------------------------------------------- reading a chunk


@dataclass(frozen=True)
class _Cells:
    """The cells of a run of custom-field columns, filled from one record's stored values.

    Walks the keys the record has rather than every column: most contacts hold a few of a
    workspace's fields, and most cells of a big export are empty.
    """

    types: tuple[str, ...]
    positions: dict[str, list[int]]

    @classmethod
    def of(cls, columns: Sequence[_Column]) -> _Cells:
        positions: dict[str, list[int]] = {}
        for index, column in enumerate(columns):
            positions.setdefault(column.key, []).append(index)
        return cls(tuple(column.type for column in columns), positions)

    def __call__(self, values: dict[str, Any]) -> list[Any]:
        cells: list[Any] = [""] * len(self.types)
        for key, value in values.items():
            for index in self.positions.get(key, ()):
                cells[index] = _field_cell(self.types[index], value)
        return cells


def _among(
    column: sa.ColumnElement[int], dialect: str, name: str = "ids"
) -> sa.ColumnElement[bool]:
    """`column IN (the ids bound as `name`)`, as ONE parameter (see _ids_parameter).

    A plain `IN (:id_1, …, :id_2000)` made SQLAlchemy expand and bind 2,000 parameters per
    query, five queries a chunk: ~1 s of a 100,000-row export on SQLite, more on
    PostgreSQL (which also plans each distinct list length anew).
    """
    if dialect == "postgresql":
        # Bound as the text of an array ('{1,2,3}'): psycopg adapts a list of ints one
        # Python call per element (~0.3 s of a 100,000-row export). Unnested, not
        # `= ANY(array)`: with ANY PostgreSQL scanned the whole conversation table per
        # chunk (570 ms against 30 ms for index probes from the unnested ids, at 100k).
        array = sa.cast(sa.bindparam(name, type_=sa.String), postgresql.ARRAY(sa.Integer))
        return column.in_(sa.select(sa.func.unnest(array)))
    if dialect == "sqlite":
        listed = sa.func.json_each(sa.bindparam(name, type_=sa.String))
        return column.in_(sa.select(sa.column("value", sa.Integer)).select_from(listed))
    return column.in_(sa.bindparam(name, expanding=True))


def _ids_parameter(ids: Sequence[int], dialect: str) -> Any:
    if dialect == "postgresql":
        return "{" + ",".join(str(int(id_)) for id_ in ids) + "}"
    if dialect == "sqlite":
        return json.dumps([int(id_) for id_ in ids])
    return list(ids)


def _json_text(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """A JSON column as its text, which rows() decodes with json.loads: what SQLAlchemy
    (SQLite) and psycopg (JSONB) do, less their per-value calls (psycopg also sniffs each
    value's encoding)."""
    if dialect == "sqlite":
        return sa.type_coerce(column, sa.String)  # stored as text already
    return sa.cast(column, sa.Text)


# The timestamp cell as the file shows it ("2026-01-10T09:30:15Z"): formatted by
# PostgreSQL (to_char truncates to the second, as isoformat(timespec="seconds") does), read
# as the stored text on SQLite (_stored_timestamp), and formatted here elsewhere.
_PG_TIMESTAMP = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'


def _timestamp_cell(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), _PG_TIMESTAMP)
    if dialect == "sqlite":
        return sa.type_coerce(column, sa.String)
    return column


def _timestamp_formatter(dialect: str) -> Callable[[Any], str]:
    if dialect == "postgresql":
        return _formatted_timestamp
    if dialect == "sqlite":
        return _stored_timestamp
    return _timestamp


def _formatted_timestamp(value: str | None) -> str:
    return value or ""


@dataclass(frozen=True)
class _ChunkReader:
    """The queries of one chunk, built once per export and run with each chunk's ids.

    Core statements on the session's connection, not ORM ones: the ORM's per-row work was
    most of the time. JSON comes back as text (_json_text) and timestamps as text too
    (_timestamp_cell), without the per-value processor calls of their column types.
    """

    contacts: sa.Select[Any]
    labels: sa.Select[Any]
    conversations: sa.Select[Any] | None
    conversation_labels: sa.Select[Any] | None
    dialect: str

    @classmethod
    def build(cls, workspace_id: int, layout: _Layout, dialect: str) -> _ChunkReader:
        contact = Contact.__table__.c
        conversation = Conversation.__table__.c
        contact_label = ContactLabel.__table__.c
        conversation_label = ConversationLabel.__table__.c
        label = Label.__table__.c

        contacts = sa.select(
            contact.id,
            contact.name,
            contact.email,
            contact.phone,
            contact.channel,
            _timestamp_cell(contact.created_at, dialect),
            _timestamp_cell(contact.last_interaction_at, dialect),
            contact.campaign_opt_in,
            _json_text(contact.custom_fields, dialect),
        ).where(contact.workspace_id == workspace_id, _among(contact.id, dialect))
        labels = (
            sa.select(contact_label.contact_id, label.name)
            .join_from(ContactLabel, Label, label.id == contact_label.label_id)
            .where(_among(contact_label.contact_id, dialect), label.workspace_id == workspace_id)
            .order_by(contact_label.contact_id, label.name)
        )
        conversations = None
        if layout.conversation_labels or layout.conversation_fields:
            values = (
                _json_text(conversation.custom_fields, dialect)
                if layout.conversation_fields
                else sa.null()
            )
            conversations = (
                sa.select(conversation.id, conversation.contact_id, values)
                .where(
                    conversation.workspace_id == workspace_id,
                    _among(conversation.contact_id, dialect),
                )
                .order_by(*CONVERSATION_RECENCY)
            )
        conversation_labels = None
        if layout.conversation_labels:
            # The labels of the recent conversations the conversations query found (of
            # this workspace), looked up by their ids on conversation_label's primary key.
            # Joining conversation on the contact ids instead let PostgreSQL read every
            # conversation label of the workspace per chunk (2.4 s a chunk at 100k), and
            # SQLite walk the labels first. Names are sorted in SQL, as the Labels
            # column's are, so both follow the database's collation.
            conversation_labels = (
                sa.select(conversation_label.conversation_id, label.name)
                .join_from(ConversationLabel, Label, label.id == conversation_label.label_id)
                .where(
                    _among(conversation_label.conversation_id, dialect, "conversation_ids"),
                    label.workspace_id == workspace_id,
                )
                .order_by(conversation_label.conversation_id, label.name)
            )
        return cls(contacts, labels, conversations, conversation_labels, dialect)

    def rows(self, session: Session, ids: Sequence[int], layout: _Layout) -> list[list[Any]]:
        """The CSV rows of the contacts `ids`, in that order (one deleted since the export
        started is left out)."""
        connection = session.connection()
        parameters = {"ids": _ids_parameter(ids, self.dialect)}
        # .all(): one fetchall per query; iterating a result fetches row by row.
        contacts = {row[0]: row for row in connection.execute(self.contacts, parameters).all()}
        labels: dict[int, list[str]] = {}
        for contact_id, name in connection.execute(self.labels, parameters).all():
            labels.setdefault(contact_id, []).append(name)
        recent, latest = self._conversations(connection, parameters, layout)
        conversation_labels = self._conversation_labels(connection, recent)

        when = _timestamp_formatter(self.dialect)
        contact_cells = _Cells.of(layout.contact_fields)
        conversation_cells = _Cells.of(layout.conversation_fields)
        rows: list[list[Any]] = []
        for contact_id in ids:
            contact = contacts.get(contact_id)
            if contact is None:  # deleted since the export started
                continue
            _, name, email, phone, channel, created, interacted, opt_in, values = contact
            values = (json.loads(values) if values else None) or {}
            row: list[Any] = [
                _text(name),
                _text(email),
                _text(phone),
                _text(channel),
                when(created),
                when(interacted),
                "yes" if opt_in else "no",
                neutralize(", ".join(labels.get(contact_id, ()))),
            ]
            row.extend(contact_cells(values))
            if conversation_labels is not None:
                row.append(neutralize(conversation_labels.get(contact_id, "")))
            row.extend(conversation_cells(latest.get(contact_id, {})))
            rows.append(row)
        return rows

    def _conversations(
        self, connection: sa.Connection, parameters: dict[str, Any], layout: _Layout
    ) -> tuple[dict[int, list[int]], dict[int, dict[str, Any]]]:
        """Per contact: the ids of its RECENT_CONVERSATIONS newest conversations, and its
        latest conversation values (contact_rows.latest_conversation_values' rule)."""
        recent: dict[int, list[int]] = {}
        latest: dict[int, dict[str, Any]] = {}
        if self.conversations is None:
            return recent, latest
        keys = {c.key for c in layout.conversation_fields}
        for conversation_id, contact_id, values in connection.execute(
            self.conversations, parameters
        ).all():
            newest = recent.setdefault(contact_id, [])
            if len(newest) < RECENT_CONVERSATIONS:
                newest.append(conversation_id)
            found = latest.setdefault(contact_id, {})
            if len(found) < len(keys) and values:  # older ones cannot add to a full set
                add_older_values(found, json.loads(values), keys)
        return recent, latest

    def _conversation_labels(
        self, connection: sa.Connection, recent: dict[int, list[int]]
    ) -> dict[int, str] | None:
        """The distinct labels of each contact's recent conversations, the newest
        conversation's first (None: the column is not asked for)."""
        if self.conversation_labels is None:
            return None
        conversation_ids = [id_ for ids in recent.values() for id_ in ids]
        if not conversation_ids:
            return {}
        parameters = {"conversation_ids": _ids_parameter(conversation_ids, self.dialect)}
        by_conversation: dict[int, list[str]] = {}
        rows = connection.execute(self.conversation_labels, parameters).all()
        for conversation_id, name in rows:
            by_conversation.setdefault(conversation_id, []).append(name)
        joined: dict[int, str] = {}
        for contact_id, conversation_ids in recent.items():
            names = dict.fromkeys(
                name
                for conversation_id in conversation_ids
                for name in by_conversation.get(conversation_id, ())
            )
            if names:
                joined[contact_id] = ", ".join(names)
        return joined


def _stored_timestamp(value: str | None) -> str:
    """A timestamp as SQLite stores it (SQLAlchemy's text form) as the file shows it."""
    if value is None:
        return ""
    if len(value) == 26 and value[10] == " " and value[19] == ".":
        # SQLAlchemy's storage format, "2026-01-10 09:30:15.000123" (naive UTC): the cell
        # is a slice of it, twice as fast as parsing (~0.2 s of a 100,000-row export).
        return f"{value[:10]}T{value[11:19]}Z"
    return _timestamp(datetime.fromisoformat(value))


def export_rows(
    session_factory: SessionFactory,
    workspace_id: int,
    options: ExportOptions,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    promised_rows: int | None = None,
) -> Iterator[str]:
    """Yield the CSV file as text chunks: the header line, then rows `chunk_size` at a time.

    The ordered list of contact ids (`SELECT id … ORDER BY … LIMIT limit`: ids only, a few
    hundred KB for 100,000 contacts) is taken ONCE, in the first session. The set of rows is
    fixed from then on: a contact added during the download is not in the file, and paging
    can neither skip nor repeat a contact. Each chunk is then read in a NEW session from
    `session_factory()` (e.g. `cloodot_app.db.session_scope`), so no transaction stays open
    for the whole download and no session is held while a chunk waits to be sent.

    Because each chunk is read when it is sent, a contact deleted during the export is
    simply missing from the file (one row fewer than announced), and an edit made during
    the export shows if its chunk had not been read yet. Columns are fixed at the start.

    `promised_rows` (optional) caps the file at that many rows: pass the count
    validate_export returned, so the file never has more rows than announced even when
    contacts were added between the two calls. Raises ExportError (on the first `next()`)
    for an invalid limit, sort or view.
    """
    _check_options(options, None)
    limit = options.limit
    if promised_rows is not None:
        limit = min(limit, max(promised_rows, 0))
    chunk_size = max(1, chunk_size)
    with session_factory() as session:
        catalog = field_catalog(session, workspace_id)
        ctx = CompileContext.for_session(session)
        try:
            where = contact_condition(session, workspace_id, options.query, catalog, ctx)
        except (FilterError, NotFound) as error:
            raise ExportError(str(error)) from None
        ids: list[int] = (
            list(
                session.execute(
                    sa.select(Contact.id)
                    .where(where)
                    .order_by(*sort_order(options.sort, True, ctx.dialect))
                    .limit(limit)
                ).scalars()
            )
            if limit > 0
            else []
        )
        layout = _layout(session, workspace_id, options)
        reader = _ChunkReader.build(workspace_id, layout, ctx.dialect)
    yield _csv([[neutralize(header) for header in layout.headers]])
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        with session_factory() as session:
            rows = reader.rows(session, chunk, layout)
        text = _csv(rows)
        if text:
            yield text


# --------------------------------------------------------------------------- tickets


EXPORT_TICKET = "export"


def make_ticket(
    workspace_id: int,
    options: ExportOptions,
    secret: str,
    ttl_seconds: float = 300,
    *,
    now: float | None = None,
) -> str:
    """A signed, single-use ticket (services/tickets.py) for one export of one workspace,
    valid for `ttl_seconds`. The filter it carries is readable, not forgeable."""
    payload = {"w": workspace_id, "o": options.to_json()}
    return tickets.sign(EXPORT_TICKET, payload, secret, ttl_seconds, now=now)


def read_export_ticket(
    ticket: str, secret: str, *, now: float | None = None
) -> tuple[int, ExportOptions, str]:
    """(workspace id, options, nonce) from a ticket made by make_ticket with the same
    secret. Raises TicketError when it is malformed, altered, foreign or expired."""
    payload = tickets.read(
        EXPORT_TICKET,
        ticket,
        secret,
        now=now,
        expired="This download link has expired. Start the export again.",
    )
    try:
        workspace_id = payload["w"]
        if not _is_int(workspace_id):
            raise ValueError("bad ticket")
        options = ExportOptions.from_json(payload["o"])
    except (ValueError, KeyError, TypeError):
        raise TicketError("This download link is not valid.") from None
    return workspace_id, options, payload["n"]


def read_ticket(ticket: str, secret: str, *, now: float | None = None) -> tuple[int, ExportOptions]:
    """(workspace id, options): read_export_ticket without the nonce."""
    workspace_id, options, _nonce = read_export_ticket(ticket, secret, now=now)
    return workspace_id, options
