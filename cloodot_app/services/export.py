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

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.errors import ExportError, TicketError
from cloodot_app.filters import CompileContext, FilterError, FilterSpec
from cloodot_app.models import (
    Contact,
    Conversation,
    ConversationLabel,
    CustomFieldDefinition,
    FieldEntity,
    Label,
)
from cloodot_app.services import tickets
from cloodot_app.services.contact_rows import (
    display,
    labels_by_contact,
    latest_conversation_values,
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


def neutralize(value: str) -> str:
    """Prefix a quote to a cell a spreadsheet would read as a formula."""
    starts = (*FORMULA_PREFIXES, *_FULL_WIDTH_FORMULA_PREFIXES)
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
    if not rows:
        return ""
    frame = pd.DataFrame(rows, dtype=object)
    return frame.to_csv(index=False, header=False, lineterminator=LINE_TERMINATOR)


def _text(value: Any) -> str:
    return neutralize("" if value is None else str(value))


def _timestamp(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _field_cell(type_name: str, value: Any) -> Any:
    """A custom field's value as the cell shows it: numbers as stored, lists joined."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A number is not text: it cannot be a formula, and -5 must stay -5.
        return value
    if isinstance(value, list):
        return neutralize(", ".join(str(item) for item in value))
    return neutralize(display(type_name, value))


def _recent_conversation_labels(
    session: Session, workspace_id: int, ids: Sequence[int]
) -> dict[int, str]:
    """The distinct labels of each contact's RECENT_CONVERSATIONS most recent
    conversations, the newest conversation's first."""
    ranked = (
        sa.select(
            Conversation.id.label("conversation_id"),
            Conversation.contact_id.label("contact_id"),
            sa.func.row_number()
            .over(
                partition_by=Conversation.contact_id,
                order_by=(Conversation.updated_at.desc(), Conversation.id.desc()),
            )
            .label("recency"),
        )
        .where(Conversation.workspace_id == workspace_id, Conversation.contact_id.in_(ids))
        .subquery()
    )
    names: dict[int, dict[str, None]] = {}
    for contact_id, name in session.execute(
        sa.select(ranked.c.contact_id, Label.name)
        .select_from(ranked)
        .join(ConversationLabel, ConversationLabel.conversation_id == ranked.c.conversation_id)
        .join(Label, Label.id == ConversationLabel.label_id)
        .where(ranked.c.recency <= RECENT_CONVERSATIONS, Label.workspace_id == workspace_id)
        .order_by(ranked.c.contact_id, ranked.c.recency, Label.name)
    ):
        names.setdefault(contact_id, {})[name] = None
    return {contact_id: ", ".join(labels) for contact_id, labels in names.items()}


def _chunk_rows(
    session: Session,
    workspace_id: int,
    ids: Sequence[int],
    layout: _Layout,
) -> list[list[Any]]:
    contacts = {
        row.id: row
        for row in session.execute(
            sa.select(
                Contact.id,
                Contact.name,
                Contact.email,
                Contact.phone,
                Contact.channel,
                Contact.created_at,
                Contact.last_interaction_at,
                Contact.campaign_opt_in,
                Contact.custom_fields,
            ).where(Contact.workspace_id == workspace_id, Contact.id.in_(ids))
        )
    }
    labels = {
        contact_id: ", ".join(tag.name for tag in tags)
        for contact_id, tags in labels_by_contact(session, workspace_id, ids).items()
    }
    conversation_labels = (
        _recent_conversation_labels(session, workspace_id, ids)
        if layout.conversation_labels
        else {}
    )
    conversation_values = (
        latest_conversation_values(
            session, workspace_id, ids, {c.key for c in layout.conversation_fields}
        )
        if layout.conversation_fields
        else {}
    )
    rows: list[list[Any]] = []
    for contact_id in ids:
        contact = contacts.get(contact_id)
        if contact is None:  # deleted since the export started
            continue
        values = contact.custom_fields or {}
        row: list[Any] = [
            _text(contact.name),
            _text(contact.email),
            _text(contact.phone),
            _text(contact.channel),
            _timestamp(contact.created_at),
            _timestamp(contact.last_interaction_at),
            "yes" if contact.campaign_opt_in else "no",
            _text(labels.get(contact_id, "")),
        ]
        row.extend(_field_cell(c.type, values.get(c.key)) for c in layout.contact_fields)
        if layout.conversation_labels:
            row.append(_text(conversation_labels.get(contact_id, "")))
        latest = conversation_values.get(contact_id, {})
        row.extend(_field_cell(c.type, latest.get(c.key)) for c in layout.conversation_fields)
        rows.append(row)
    return rows


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
    yield _csv([[neutralize(header) for header in layout.headers]])
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        with session_factory() as session:
            rows = _chunk_rows(session, workspace_id, chunk, layout)
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
