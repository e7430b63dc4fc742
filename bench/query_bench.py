"""Time the service calls behind the Contacts screen against a database of N contacts.

    python bench/query_bench.py --contacts 1000000
    python bench/query_bench.py --contacts 100000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

If the workspace has no contacts yet it is seeded with N first (not timed). Each query runs
once cold, then --runs more times; the table shows the first run and the median.

Every row is timed with the count cache (services/count_cache.py) emptied before each run,
so the medians are what a first view costs, except the rows marked "unchanged": those
repeat a view whose counts were already taken at the same data version (the cache's job).
The script also runs against a checkout without the cache (the "before" numbers).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.db import make_engine
from cloodot_app.filters import FilterSpec
from cloodot_app.models import Contact, Label, Segment
from cloodot_app.seed import seed_demo
from cloodot_app.services.contact_deletes import Selection, delete_preview
from cloodot_app.services.contacts import ContactQuery, contacts_view, count_contacts

try:
    from cloodot_app.services import count_cache
except ImportError:  # a checkout from before the count cache
    count_cache = None  # type: ignore[assignment]

try:
    from cloodot_app.services.segments import segments_with_counts
except ImportError:
    segments_with_counts = None  # type: ignore[assignment]

from cloodot_app.services.leads import load_board


def forget_counts() -> None:
    if count_cache is not None:
        # Counts and pages of ids (a checkout before the page cache has counts only).
        getattr(count_cache, "clear", count_cache.CACHE.clear)()


def default_url(contacts: int) -> str:
    return f"sqlite:///{ROOT / 'bench' / 'results' / f'bench_{contacts}.db'}"


def timed(call: Callable[[], object], runs: int, warm: bool = False) -> tuple[float, float, object]:
    """(first run ms, median of the next `runs` in ms, last result). Cold (the default):
    the count cache is emptied before every run; warm: only before the first."""
    forget_counts()
    started = time.perf_counter()
    result = call()
    first = (time.perf_counter() - started) * 1000
    samples = []
    for _ in range(runs):
        if not warm:
            forget_counts()
        started = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - started) * 1000)
    return first, statistics.median(samples), result


def describe(result: object) -> str:
    if isinstance(result, list) and result and hasattr(result[0], "count"):
        return ", ".join(f"{s.count:,}" if s.count is not None else "—" for s in result)
    if hasattr(result, "columns"):
        return ", ".join(f"{c.total:,}" for c in result.columns)
    if isinstance(result, str):
        return result
    if hasattr(result, "chips"):
        page = result.page
        plus = "" if getattr(page, "exact", True) else "+"
        return f"{page.total:,}{plus} match, {len(page.rows)} rows"
    if hasattr(result, "total"):
        return f"{result.total:,} match, {len(result.rows)} rows"
    if hasattr(result, "selected"):
        return f"{result.selected} selected, {result.with_conversations} with conversations"
    return f"{result:,}"


Case = tuple[str, Callable[[], object], bool]  # name, call, warm


def cases(session: Session, workspace_id: int) -> list[Case]:
    labels = {
        label.name: label.id
        for label in session.execute(
            sa.select(Label).where(Label.workspace_id == workspace_id)
        ).scalars()
    }
    total = session.execute(
        sa.select(sa.func.count()).select_from(Contact).where(Contact.workspace_id == workspace_id)
    ).scalar_one()
    # A search term and a phone fragment that exist in this data set (from a middle row).
    middle = session.execute(
        sa.select(Contact)
        .where(Contact.workspace_id == workspace_id, Contact.phone_digits.is_not(None))
        .order_by(Contact.id)
        .offset(total // 2)
        .limit(1)
    ).scalar_one()
    name_term = max(middle.name.split(), key=len)
    phone_term = middle.phone_digits[-7:-1]

    def page(**kwargs) -> Callable[[], object]:
        # What All Contacts calls: the page and its total (capped at 10,000 since the count
        # cap; the exact count then follows in the background, see the "exactly" rows).
        return lambda: contacts_view(session, workspace_id, ContactQuery(**kwargs))

    def spec(match: str, *conditions: tuple[str, str, object]) -> FilterSpec:
        return FilterSpec.parse(
            {
                "match": match,
                "conditions": [{"field": f, "operator": o, "value": v} for f, o, v in conditions],
            }
        )

    plain: list[tuple[str, Callable[[], object]]] = [
        ("list page 1 (newest first)", page()),
        ("list page 1000 (newest first)", page(page=1000)),
        ("list page 1, sort by name", page(sort="name", descending=False)),
        ("list page 1, sort by last interaction", page(sort="last_interaction_at")),
        (f"search name “{name_term}”", page(search=name_term)),
        ("search “mar” (many matches)", page(search="mar")),
        ("search “ma” (2 letters: no trigram)", page(search="ma")),
        (f"search phone digits “{phone_term}”", page(search=phone_term)),
        (
            "filter label has any of Customer",
            page(filter=spec("all", ("label", "has_any_of", [labels["Customer"]]))),
        ),
        (
            "filter cf.lifetime_value ≥ 1000",
            page(filter=spec("all", ("cf.lifetime_value", "gte", 1000))),
        ),
        (
            "filter OR: WhatsApp / Enterprise / VIP",
            page(
                filter=spec(
                    "any",
                    ("channel", "is", "whatsapp"),
                    ("cf.plan", "is", "Enterprise"),
                    ("label", "has_any_of", [labels["VIP"]]),
                )
            ),
        ),
    ]
    result: list[Case] = [(name, call, False) for name, call in plain]
    for segment_id, name in session.execute(
        sa.select(Segment.id, Segment.name)
        .where(Segment.workspace_id == workspace_id)
        .order_by(Segment.position)
    ):
        result.append(
            (
                f"count segment “{name}”",
                lambda segment_id=segment_id: count_contacts(
                    session, workspace_id, ContactQuery(segment_id=segment_id)
                ),
                False,
            )
        )
    if segments_with_counts is not None:
        six = lambda: segments_with_counts(session, workspace_id)  # noqa: E731
        result.append(("the six demo segment counts, together (Segments page)", six, False))
        result.append(("  … again, nothing changed since (Segments page)", six, True))
    board = lambda: load_board(session, workspace_id, "")  # noqa: E731
    result.append(("Leads board: columns with counts and 25 cards each", board, False))
    result.append(("  … again, nothing changed since (Leads board)", board, True))
    customer = page(filter=spec("all", ("label", "has_any_of", [labels["Customer"]])))
    result.append(("  … filter label Customer again, nothing changed since", customer, True))
    ids = list(
        session.execute(
            sa.select(Contact.id)
            .where(Contact.workspace_id == workspace_id)
            .order_by(Contact.id)
            .offset(total // 3)
            .limit(100)
        ).scalars()
    )
    result.append(
        (
            "delete preview of 100 ids",
            lambda: delete_preview(session, workspace_id, Selection(ids)),
            False,
        )
    )
    return result


def load() -> str:
    return "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def export(engine: sa.Engine, workspace_id: int, limit: int) -> int:
    """The streamed CSV export as the download route runs it, newest interaction first,
    with the conversation labels and fields columns; returns the rows written."""
    from cloodot_app.db import session_scope
    from cloodot_app.services.export import ExportOptions, export_rows, validate_export

    options = ExportOptions(
        query=ContactQuery(),
        limit=limit,
        sort="last_interaction_at",
        include_conversation_labels=True,
        include_conversation_fields=True,
    )
    with session_scope(engine) as session:
        promised = validate_export(session, workspace_id, options, limit)
    lines = 0
    for chunk in export_rows(
        partial(session_scope, engine), workspace_id, options, 2000, promised_rows=promised
    ):
        lines += chunk.count("\r\n")
    return lines - 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workspace", default="demo")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--export-rows",
        type=int,
        default=100_000,
        help="rows of the CSV export row (with conversation labels and fields); 0: skip",
    )
    args = parser.parse_args(argv)
    url = args.database_url or default_url(args.contacts)

    started = time.perf_counter()
    workspace_id = seed_demo(url, args.contacts, workspace_slug=args.workspace)
    seeded = time.perf_counter() - started
    if seeded > 5:
        print(f"(seeded the database in {seeded:.0f} s)", file=sys.stderr)

    engine = make_engine(url)
    with Session(engine) as session:
        total = session.execute(
            sa.select(sa.func.count())
            .select_from(Contact)
            .where(Contact.workspace_id == workspace_id)
        ).scalar_one()
        backend = f"{engine.dialect.name} {'.'.join(map(str, engine.dialect.server_version_info))}"
        print(f"# query_bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {load()} at the start")
        print(
            f"{total:,} contacts, {backend}, {platform.python_implementation()} "
            f"{platform.python_version()}, {os.cpu_count()} CPUs; "
            f"first run and median of {args.runs} more"
        )
        print()
        print("| query | first ms | median ms | result |")
        print("|---|---:|---:|---|")
        for name, call, warm in cases(session, workspace_id):
            first, median, result = timed(call, args.runs, warm)
            flag = " ⚠" if median > 100 else ""
            print(f"| {name} | {first:,.1f} | {median:,.1f}{flag} | {describe(result)} |")
            session.rollback()
        if args.export_rows:
            started = time.perf_counter()
            rows = export(engine, workspace_id, args.export_rows)
            elapsed = time.perf_counter() - started
            print(
                f"| CSV export {rows:,} rows, with labels and custom fields from recent "
                f"sessions | {elapsed * 1000:,.0f} | (one run) | peak RSS {peak_rss_mb():.0f} MB |"
            )
        print()
        print(f"load {load()} at the end")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
