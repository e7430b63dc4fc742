"""Time a streamed CSV export of N contacts (services.export.export_rows), as the route runs it.

    python bench/export_bench.py --contacts 100000
    python bench/export_bench.py --contacts 100000 --conversation-columns
    python bench/export_bench.py --contacts 100000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

If the workspace has no contacts yet it is seeded with N first, in a child process, so that
neither the time nor the peak RSS reported includes seeding. Prints one markdown table row:
seconds for the whole file, time to the first rows, the CPU seconds of this process (on
SQLite the whole export; on a shared machine steadier than the wall time, which waits for
other jobs' turns), rows/s, file size and peak RSS of this process (ru_maxrss: the export
plus the interpreter and imports, shown as "before").
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa

from cloodot_app.db import make_engine, migrate, session_scope
from cloodot_app.models import Contact, Workspace
from cloodot_app.services.contacts import ContactQuery
from cloodot_app.services.export import (
    ExportOptions,
    export_rows,
    validate_export,
)


def default_url(contacts: int) -> str:
    return f"sqlite:///{ROOT / 'bench' / 'results' / f'bench_{contacts}.db'}"


def peak_rss_mb() -> float:
    # Kilobytes on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def workspace_contacts(engine: sa.Engine, slug: str) -> tuple[int | None, int]:
    with engine.connect() as connection:
        workspace_id = connection.execute(
            sa.select(Workspace.id).where(Workspace.slug == slug)
        ).scalar_one_or_none()
        if workspace_id is None:
            return None, 0
        count = connection.execute(
            sa.select(sa.func.count())
            .select_from(Contact)
            .where(Contact.workspace_id == workspace_id)
        ).scalar_one()
        return workspace_id, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000, help="contacts to seed if empty")
    parser.add_argument("--limit", type=int, default=None, help="rows to export (default: N)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workspace", default="demo")
    parser.add_argument(
        "--sort", choices=("last_interaction_at", "created_at"), default="last_interaction_at"
    )
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument(
        "--conversation-columns",
        action="store_true",
        help="include labels and custom fields from recent conversations",
    )
    args = parser.parse_args(argv)
    url = args.database_url or default_url(args.contacts)
    limit = args.limit or args.contacts

    migrate(url)
    engine = make_engine(url)
    workspace_id, existing = workspace_contacts(engine, args.workspace)
    if not existing:
        print(f"seeding {args.contacts:,} contacts into {url} …", file=sys.stderr)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "cloodot_app.seed",
                "--contacts",
                str(args.contacts),
                "--database-url",
                url,
                "--workspace",
                args.workspace,
            ],
            check=True,
            cwd=ROOT,
        )
        workspace_id, existing = workspace_contacts(engine, args.workspace)
    assert workspace_id is not None

    options = ExportOptions(
        query=ContactQuery(),
        limit=limit,
        sort=args.sort,
        include_conversation_labels=args.conversation_columns,
        include_conversation_fields=args.conversation_columns,
    )
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    cpu_started = time.process_time()
    with session_scope(engine) as session:
        promised = validate_export(session, workspace_id, options, max(limit, 1))
    counted = time.perf_counter()
    first_rows = None
    size = 0
    chunks = 0
    lines = 0
    for chunk in export_rows(
        partial(session_scope, engine),
        workspace_id,
        options,
        args.chunk_size,
        promised_rows=promised,
    ):
        data = chunk.encode("utf-8")
        size += len(data)
        lines += data.count(b"\r\n")
        chunks += 1
        if chunks == 2 and first_rows is None:
            first_rows = time.perf_counter() - started
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    engine.dispose()

    dialect = sa.engine.make_url(url).get_backend_name()
    extras = "conversation labels + fields" if args.conversation_columns else "contact columns only"
    print(
        f"| {dialect} | {existing:,} in workspace | {promised:,} rows, {args.sort}, {extras} "
        f"| {elapsed:.2f} s (count {counted - started:.2f} s, first rows "
        f"{(first_rows or elapsed):.2f} s) | CPU {cpu:.2f} s | {promised / elapsed:,.0f} rows/s "
        f"| {size / 1e6:.1f} MB, {chunks} chunks | peak RSS {peak_rss_mb():.0f} MB "
        f"(before {rss_before:.0f} MB) | {platform.python_version()}, {os.cpu_count()} CPU |"
    )
    if lines < promised + 1:
        print(f"warning: {lines - 1} line ends for {promised} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
