"""Property-based tests (Hypothesis): generated CSV files — random headers, encodings,
delimiters, quoting, line ends, odd cells (NUL bytes, very long values, formulas, numbers
in odd formats, dates, good and bad emails and phones), ragged and truncated files — are
either refused with a readable CsvImportError, or imported exactly as the report says.
SQLite and PostgreSQL, 100 files each.
"""

from __future__ import annotations

import csv
import io
import itertools
from functools import partial

import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from cloodot_app import db
from cloodot_app.errors import UserError
from cloodot_app.models import Contact, CustomFieldDefinition, ImportJob, Label
from cloodot_app.services import importer
from cloodot_app.services.importer.check import RowChecker, workspace_labels
from cloodot_app.services.workspaces import ensure_workspace

FIELDS = (
    ("plan", "Plan", "select", ["Free", "Pro"]),
    ("score", "Score", "number", []),
    ("birthday", "Birthday", "date", []),
    ("interests", "Interests", "multi_select", ["Shoes", "Bags"]),
    ("website", "Website", "url", []),
    ("company", "Company", "text", []),
)
KNOWN_HEADERS = [
    "Name",
    "Full name",
    "First name",
    "Last name",
    "Email",
    "E-mail",
    "Phone",
    "Mobile",
    "Opt-in",
    "Tags",
    "Plan",
    "Score",
    "Birthday",
    "Interests",
    "Website",
    "Company",
    "Notes",
]
ODD_HEADERS = ["", " ", "Email ", "=cmd|' /C calc'!A0", "名前", "a\x00b", "ana@example.com"]

NUMBERS = ["1,200", "1.5e3", "-0", "1e400", "NaN", "inf", "0x10", "٣", "1 000", "(12)", "12%"]
DATES = ["2020-01-31", "31/01/2020", "2020-02-30", "9999-12-31", "0001-01-01", "2020-1-1"]
EMAILS = ["not-an-email", "a@b", "x@", "@x.com", "ANA@Example.COM", "o'brien@example.com"]
PHONES = ["+44 20 7946 0958", "0044 20 7946 0959", "12345", "+1", "(415) 555-0123", "+0"]
FORMULAS = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", '=HYPERLINK("http://x")', "\t=1", "＝1"]
OTHERS = ["yes", "no", "maybe", "TRUE", "0", "VIP", "vip, Newsletter", "Unknown; VIP", "Pro"]

text = st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=("Cs",)))
cells = st.one_of(
    text.filter(lambda t: len(t) <= 30),
    st.text(min_size=150, max_size=2500).map(lambda t: t.replace("\x00", "")),  # very long
    st.emails(),
    st.sampled_from(EMAILS + PHONES + NUMBERS + DATES + FORMULAS + OTHERS),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats().map(str),
    st.dates().map(str),
    st.sampled_from(["line\nbreak", "cr\ronly", 'say "hi"', "a,b;c\td", " ", ""]),
)
IDENTITY_HEADERS = ["Name", "Full name", "First name", "Email", "E-mail", "Phone", "Mobile"]
other_headers = st.one_of(
    st.sampled_from(KNOWN_HEADERS), st.sampled_from(ODD_HEADERS), st.text(max_size=20)
)


@st.composite
def csv_files(draw) -> bytes:
    """Mostly importable files (a column with a name, email or phone), some broken."""
    header = draw(st.lists(other_headers, max_size=5))
    if draw(st.integers(0, 9)) > 0:
        header.insert(draw(st.integers(0, len(header))), draw(st.sampled_from(IDENTITY_HEADERS)))
    if not header:
        header = [draw(other_headers)]
    width = len(header)
    rows = draw(st.lists(st.lists(cells, min_size=width, max_size=width), max_size=12))
    for _ in range(draw(st.integers(0, 3)) if rows else 0):  # the same contact again
        rows.append(list(rows[draw(st.integers(0, len(rows) - 1))]))
    damage = draw(st.sampled_from(["none"] * 7 + ["ragged", "nul", "truncated"]))
    if damage == "ragged" and rows:
        rows[draw(st.integers(0, len(rows) - 1))].append(draw(cells))
    if damage == "nul" and rows:
        row = rows[draw(st.integers(0, len(rows) - 1))]
        row[0] = row[0] + "\x00"
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=draw(st.sampled_from([",", ";", "\t"])),
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        lineterminator=draw(st.sampled_from(["\r\n", "\n"])),
    )
    writer.writerows([header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    data = buffer.getvalue().encode(encoding, errors="replace")
    if damage == "truncated":
        data = data[: draw(st.integers(0, len(data)))]
    return data


_workspaces = itertools.count()


def fresh_workspace(engine: sa.Engine) -> int:
    """A new workspace with the custom fields and two labels (one per example)."""
    with db.session_scope(engine) as session:
        workspace_id = ensure_workspace(session, f"prop-{next(_workspaces)}").id
        for position, (key, label, type_, options) in enumerate(FIELDS):
            session.add(
                CustomFieldDefinition(
                    workspace_id=workspace_id,
                    entity="contact",
                    key=key,
                    label=label,
                    type=type_,
                    options=options,
                    position=position,
                )
            )
        session.add_all([Label(workspace_id=workspace_id, name=n) for n in ("VIP", "Newsletter")])
    return workspace_id


PROPERTY_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,  # nothing written into the worktree
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # each example makes its own workspace
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@PROPERTY_SETTINGS
@given(
    data=csv_files(),
    on_duplicate=st.sampled_from(["skip", "update"]),
    chunk_size=st.integers(min_value=1, max_value=5),
)
def test_a_csv_is_refused_readably_or_imported_exactly_as_reported(
    engine, data, on_duplicate, chunk_size
):
    workspace_id = fresh_workspace(engine)
    factory = partial(db.session_scope, engine)
    try:
        parsed = importer.read_csv(data)
    except importer.CsvImportError as error:
        event(f"refused: {str(error)[:40]}")
        assert_readable(error)
        return
    with factory() as session:
        definitions = importer.contact_field_definitions(session, workspace_id)
        labels = workspace_labels(session, workspace_id)
    mapping = importer.guess_mapping(parsed.headers, definitions)
    try:
        report = importer.run_import(
            factory, workspace_id, parsed, mapping, on_duplicate, chunk_size=chunk_size
        )
    except importer.CsvImportError as error:  # no name, email or phone column
        event("mapping refused")
        assert_readable(error)
        assert stored(engine, workspace_id) == []
        return

    event(f"imported: {min(report.created, 3)}+ created, {min(report.failed, 3)}+ failed")
    # Every row is accounted for, once.
    assert report.done == parsed.total_rows
    # The rows that fail are exactly those the checker finds errors in...
    checker = RowChecker(parsed.headers, mapping, definitions, labels)
    checks = [checker.check(n, cells) for chunk in parsed.chunks() for n, cells in chunk]
    assert report.failed == sum(1 for c in checks if c.errors)
    ok = [c for c in checks if c.ok]
    assert report.created + report.skipped + report.updated == len(ok)
    if on_duplicate == "skip":
        assert report.updated == 0
    else:
        assert report.skipped == 0
    # ...and the database holds exactly the contacts reported as created, made of the
    # values of rows that passed.
    contacts = stored(engine, workspace_id)
    assert len(contacts) == report.created
    assert {c.email for c in contacts if c.email} <= {c.values.get("email") for c in ok}
    assert {c.phone for c in contacts if c.phone} <= {c.values.get("phone") for c in ok}
    assert all(c.name and c.channel == "imported" for c in contacts)
    # The job row says the same as the report.
    with Session(engine) as fresh:
        job = fresh.get(ImportJob, report.job_id)
    assert (job.status, job.rows_done, job.total_rows) == ("done", report.done, report.total_rows)
    assert (job.created, job.updated, job.skipped, job.failed) == (
        report.created,
        report.updated,
        report.skipped,
        report.failed,
    )
    assert job.problems == len(report.errors) + len(report.warnings)
    # The problems file lists every problem and reads back as CSV.
    rows = list(csv.reader(io.StringIO(report.errors_csv(), newline="")))
    assert len(rows) == 1 + len(report.errors) + len(report.warnings)
    assert {p.row_number for p in report.errors} <= set(parsed.row_numbers)
    # The same file again: what it reports as created is exactly what is added.
    again = importer.run_import(factory, workspace_id, parsed, mapping, on_duplicate)
    assert again.done == parsed.total_rows and again.failed == report.failed
    assert len(stored(engine, workspace_id)) == report.created + again.created


def assert_readable(error: UserError) -> None:
    """A message for a person: one or two sentences, no traceback, no Python repr."""
    message = str(error)
    assert message and message[0].isupper() and message.rstrip().endswith((".", ")"))
    assert "Traceback" not in message and "Error(" not in message and len(message) < 400


def stored(engine: sa.Engine, workspace_id: int) -> list[Contact]:
    with Session(engine) as fresh:
        return list(
            fresh.execute(sa.select(Contact).where(Contact.workspace_id == workspace_id)).scalars()
        )
