"""Time the duplicate finder and a bulk edit of every contact against N contacts.

    python bench/bulk_bench.py --contacts 1000000 --skip-bulk-edit
    python bench/bulk_bench.py --contacts 100000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

If the workspace has no contacts yet it is seeded with N first, then 1 in 500 contacts
gets a planted duplicate (a third each: same email on another channel, same phone digits,
the same number without its country code under a close name); neither is timed. The
finder runs once cold, then --runs more times (first run and median). The bulk edit adds a
label to all contacts in chunks of 1,000 (each its own transaction, as the app runs it),
then undoes it.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.db import make_engine, refresh_statistics, session_scope
from cloodot_app.fieldtypes import digits_only
from cloodot_app.models import Contact, Label
from cloodot_app.seed import seed_demo
from cloodot_app.services.contact_bulk_edits import (
    BulkRequest,
    bulk_edit_preview,
    run_bulk_edit,
    undo_bulk_edit,
)
from cloodot_app.services.contact_deletes import Selection
from cloodot_app.services.contact_merges import find_duplicates
from cloodot_app.services.contacts import ContactQuery

PLANTED = "bench-dup-"


def default_url(contacts: int) -> str:
    return f"sqlite:///{ROOT / 'bench' / 'results' / f'bench_{contacts}.db'}"


def plant_duplicates(engine: sa.Engine, workspace_id: int) -> int:
    """1 in 500 contacts gets a duplicate (once per database)."""
    with Session(engine) as session:
        if session.execute(
            sa.select(Contact.id).where(Contact.external_id.like(f"{PLANTED}%")).limit(1)
        ).first():
            return 0
        rows = session.execute(
            sa.select(Contact.id, Contact.name, Contact.email, Contact.phone)
            .where(Contact.workspace_id == workspace_id, Contact.id % 500 == 0)
            .order_by(Contact.id)
        ).all()
        rng = random.Random(7)
        added = []
        for number, (cid, name, email, phone) in enumerate(rows):
            kind = number % 3
            values: dict = {"name": name, "channel": "webchat", "custom_fields": {}}
            if kind == 0 and email:
                values["email"] = email
            elif kind == 1 and phone:
                values["phone"] = phone
            elif phone and len(digits_only(phone)) > 9:
                values["phone"] = digits_only(phone)[-9:]  # without its country code
                values["name"] = name.upper() if rng.random() < 0.5 else name + "."
            else:
                continue
            values["phone_digits"] = digits_only(values.get("phone")) or None
            added.append({"workspace_id": workspace_id, "external_id": f"{PLANTED}{cid}", **values})
        session.execute(sa.insert(Contact), added)
        session.commit()
    return len(added)


def timed(call, runs: int) -> tuple[float, float, object]:
    started = time.perf_counter()
    result = call()
    first = (time.perf_counter() - started) * 1000
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - started) * 1000)
    return first, statistics.median(samples) if samples else first, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workspace", default="demo")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-bulk-edit", action="store_true")
    args = parser.parse_args(argv)
    url = args.database_url or default_url(args.contacts)

    started = time.perf_counter()
    workspace_id = seed_demo(url, args.contacts, workspace_slug=args.workspace)
    engine = make_engine(url)
    planted = plant_duplicates(engine, workspace_id)
    if planted:
        refresh_statistics(url)
    seeded = time.perf_counter() - started
    if seeded > 5:
        print(f"(seeded the database in {seeded:.0f} s, {planted:,} duplicates planted)")

    with Session(engine) as session:
        total = session.execute(
            sa.select(sa.func.count()).where(Contact.workspace_id == workspace_id)
        ).scalar_one()
    backend = f"{engine.dialect.name} {'.'.join(map(str, engine.dialect.server_version_info))}"
    print(f"# bulk_bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {backend}, {total:,} contacts")
    print()
    print("| what | first ms | median ms | result |")
    print("|---|---:|---:|---|")

    def finder():
        with Session(engine) as session:
            return find_duplicates(session, workspace_id)

    first, median, groups = timed(finder, args.runs)
    kinds = {}
    for group in groups:  # type: ignore[union-attr]
        kinds[group.kind] = kinds.get(group.kind, 0) + 1
    print(
        f"| find_duplicates (25 largest groups) | {first:,.1f} | {median:,.1f} | "
        f"{len(groups)} groups {kinds}, largest {groups[0].size if groups else 0} |"  # type: ignore[index,arg-type]
    )

    if not args.skip_bulk_edit:
        with session_scope(engine) as session:
            label = session.execute(
                sa.select(Label).where(Label.workspace_id == workspace_id, Label.name == "Bench")
            ).scalar_one_or_none()
            if label is None:
                label = Label(workspace_id=workspace_id, name="Bench")
                session.add(label)
                session.flush()
            label_id = label.id
        started = time.perf_counter()
        with session_scope(engine) as session:
            preview = bulk_edit_preview(
                session,
                workspace_id,
                Selection(query=ContactQuery()),
                BulkRequest("add_label", label_id=label_id),
            )
        counted = (time.perf_counter() - started) * 1000
        print(
            f"| bulk edit: confirmation counts | {counted:,.1f} | | "
            f"{preview.selected:,} selected, {preview.already:,} already |"
        )
        steps: list[float] = []
        started = time.perf_counter()
        result = run_bulk_edit(
            lambda: session_scope(engine),
            workspace_id,
            preview.selection,
            preview.plan,
            progress=lambda done, total: steps.append(time.perf_counter()),
        )
        ran = time.perf_counter() - started
        gaps = [b - a for a, b in itertools.pairwise(steps)]
        print(
            f"| bulk edit: add a label to all, chunks of 1,000 | {ran * 1000:,.0f} | "
            f"{statistics.median(gaps) * 1000 if gaps else 0:,.1f} per chunk | "
            f"{result.changed:,} changed, {len(steps) - 1} progress reports |"
        )
        started = time.perf_counter()
        with session_scope(engine) as session:
            undone = undo_bulk_edit(session, workspace_id, result.bulk_edit_id)
        print(
            f"| bulk edit: Undo (one transaction) | {(time.perf_counter() - started) * 1000:,.0f} "
            f"| | {undone.reverted:,} put back |"
        )
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
