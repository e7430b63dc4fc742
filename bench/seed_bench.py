"""Time the demo-data generator: N contacts into a fresh database.

    python bench/seed_bench.py --contacts 1000000
    python bench/seed_bench.py --contacts 100000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

A SQLite file is deleted first; on any other database the benchmark workspace is re-seeded
with --force (its old rows deleted first, which is not part of the timing).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa

from cloodot_app.db import make_engine, migrate
from cloodot_app.seed import seed_demo

TABLES = ("contact", "contact_label", "conversation", "conversation_label", "message")


def default_url(contacts: int) -> str:
    return f"sqlite:///{ROOT / 'bench' / 'results' / f'bench_{contacts}.db'}"


def fresh_sqlite(url: str) -> None:
    path = Path(url.split("///", 1)[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def table_counts(engine: sa.Engine, workspace_id: int) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()
            for table in TABLES
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workspace", default="demo")
    args = parser.parse_args(argv)
    url = args.database_url or default_url(args.contacts)
    sqlite = url.startswith("sqlite")

    if sqlite:
        fresh_sqlite(url)
    else:
        # Empty the benchmark workspace outside the timed run.
        migrate(url)
        seed_demo(url, 0, seed=args.seed, workspace_slug=args.workspace, force=True)

    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        print(f"\r  {done:,}/{total:,} contacts  {elapsed:6.1f} s", end="", file=sys.stderr)

    workspace_id = seed_demo(
        url,
        args.contacts,
        seed=args.seed,
        workspace_slug=args.workspace,
        force=not sqlite,
        progress=progress,
    )
    seconds = time.perf_counter() - started
    print(file=sys.stderr)

    engine = make_engine(url)
    counts = table_counts(engine, workspace_id)
    engine.dispose()
    rows = sum(counts.values())
    size = ""
    if sqlite:
        path = Path(url.split("///", 1)[1])
        size = f", file {path.stat().st_size / 2**20:,.0f} MiB"
    print(f"# seed_bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {sa.make_url(url).get_backend_name()}{size}"
    )
    print()
    print("| table | rows |")
    print("|---|---:|")
    for table, count in counts.items():
        print(f"| {table} | {count:,} |")
    print(f"| **all** | **{rows:,}** |")
    print()
    print(
        f"{args.contacts:,} contacts in {seconds:.1f} s: "
        f"{args.contacts / seconds:,.0f} contacts/s, {rows / seconds:,.0f} rows/s "
        + ("(including the FTS5 rebuild and ANALYZE)" if sqlite else "(including VACUUM ANALYZE)")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
