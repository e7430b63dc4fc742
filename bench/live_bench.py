"""Measure N idle browser tabs in Live mode against the issue-10 budget.

    python bench/live_bench.py --contacts 100000 --tabs 20
    python bench/live_bench.py --contacts 100000 --tabs 200

Budget (issue 10): "200 idle tabs in Live mode: no page re-query while nothing changes,
< 25 % of one core, state per tab < 50 KB (measured with Redis)".

Starts the app (`reflex run --env prod`, as browser_bench.py does: demo mode for the
sign-in button, no demo traffic) on the benchmark database with REDIS_URL set (Reflex's
Redis state manager, so every tab's state is a set of Redis keys whose size can be read),
signs in once as the demo Admin in one headless Chromium context, opens --tabs pages in it
(they share the session cookie; every --leads-every-th one on Leads, the others on All
Contacts), switches Live on in each and leaves them alone. Then:

1. backend CPU over --idle seconds: user + system time of the `reflex run` process and all
   its descendants (the Granian workers), read from /proc, as % of one core. Chromium is
   not a descendant and is not counted. The same is measured first with no tab open.
2. page re-queries over the same window: the server log's "live refresh of" lines (Live
   mode logs one per page it re-reads; an idle tab must add none) and "live loop for"
   lines (a loop that ended).
3. Redis memory per tab: MEMORY USAGE of every state key of the tab's token, summed;
   median and max per tab, and the largest state classes.
4. that every loop is still alive: the workspace's data_version is bumped once (as any
   write does) and the bench waits for one "live refresh of" line per tab.

The Redis database of --redis-url is emptied first: use a database number of your own.
"""

from __future__ import annotations

import argparse
import collections
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis
import sqlalchemy as sa
from browser_bench import default_url, free_port, load, rows_ready, stop_app
from browser_bench import start_app as start_browser_bench_app
from playwright.sync_api import Page, sync_playwright

from cloodot_app.db import make_engine
from cloodot_app.models import Workspace

REFRESH_LINE = "live refresh of"
STOP_LINE = "live loop for"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------- backend CPU from /proc


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, user + system clock ticks) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces.
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def process_tree(root: int) -> dict[int, int]:
    """CPU ticks of `root` and every descendant, by pid."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents[int(entry.name)], ticks[int(entry.name)] = stat
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return {pid: ticks[pid] for pid in tree if pid in ticks}


def cpu_percent(root: int, seconds: float) -> tuple[float, int]:
    """Backend CPU over `seconds` as % of one core, and how many processes it counted.
    Only processes alive at both ends count (the workers live as long as the server)."""
    before = process_tree(root)
    started = time.monotonic()
    time.sleep(seconds)
    after = process_tree(root)
    elapsed = time.monotonic() - started
    used = sum(after[pid] - before[pid] for pid in after.keys() & before.keys())
    return 100 * used / CLOCK_TICKS / elapsed, len(after.keys() & before.keys())


# ----------------------------------------------------------------- the server log


class LogCounter:
    """Counts lines of the server log written since the last mark."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size

    def lines_since_mark(self) -> list[str]:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            return log.read().decode("utf-8", "replace").splitlines()

    def count(self, needle: str) -> int:
        return sum(needle in line for line in self.lines_since_mark())


# ----------------------------------------------------------------- Redis state sizes


def state_sizes(client: redis.Redis) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Bytes per tab token (every state key of the token summed) and bytes per state class.
    Keys are `{token}_{state full name}` (reflex/state.py `_substate_key`); lock keys and
    anything else without a state name are left out."""
    per_token: dict[str, int] = collections.Counter()
    per_class: dict[str, list[int]] = collections.defaultdict(list)
    for key in client.scan_iter(count=1000):
        name = key.decode("utf-8", "replace")
        token, _, state = name.partition("_")
        if not state or "state" not in state or state.endswith("_lock"):
            continue
        size = client.memory_usage(key) or 0
        per_token[token] += size
        per_class[state].append(size)
    return dict(per_token), dict(per_class)


# ----------------------------------------------------------------- the app


def start_app(args: argparse.Namespace, port: int, log_path: Path) -> subprocess.Popen:
    """browser_bench.start_app with Redis (and so several Granian workers)."""
    settings = {
        "REDIS_URL": args.redis_url,
        # Several workers refuse to start without one shared key.
        "CLOODOT_SECRET_KEY": secrets.token_urlsafe(32),
        "CLOODOT_LIVE_INTERVAL": str(args.interval),
    }
    if args.workers:
        settings["GRANIAN_WORKERS"] = str(args.workers)
    return start_browser_bench_app(args.url, port, log_path, settings)


def open_live_tab(page: Page, path: str) -> None:
    page.goto(path)
    rows_ready(page, timeout=180_000)
    switch = page.get_by_role("switch", name="Live", exact=True)
    switch.click()
    page.wait_for_function(
        """() => {
            const s = document.querySelector('[role="switch"][aria-label="Live"]');
            return s && s.getAttribute('aria-checked') === 'true';
        }""",
        timeout=60_000,
    )


def bump_data_version(url: str, workspace_id: int) -> None:
    """What every write does (services bump the workspace's data_version): one change."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.update(Workspace)
            .where(Workspace.id == workspace_id)
            .values(data_version=Workspace.data_version + 1)
        )
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workspace", default="demo")
    parser.add_argument("--tabs", type=int, default=200)
    parser.add_argument("--leads-every", type=int, default=4, help="every n-th tab on Leads")
    parser.add_argument("--idle", type=float, default=60, help="idle window, seconds")
    parser.add_argument("--interval", type=float, default=3, help="CLOODOT_LIVE_INTERVAL")
    parser.add_argument("--settle", type=float, default=20, help="wait before measuring")
    parser.add_argument("--workers", type=int, default=0, help="GRANIAN_WORKERS (0: Reflex's)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    args.url = args.database_url or default_url(args.contacts)

    engine = make_engine(args.url)
    with engine.connect() as connection:
        workspace_id = connection.execute(
            sa.select(Workspace.id).where(Workspace.slug == args.workspace)
        ).scalar_one()
    engine.dispose()

    client = redis.Redis.from_url(args.redis_url)
    client.flushdb()

    port = args.port or free_port()
    log_path = ROOT / "bench" / "results" / "live_bench_server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"# live_bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {load()} at the start")
    started = time.perf_counter()
    server = start_app(args, port, log_path)
    print(f"(app started in {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    log = LogCounter(log_path)
    results: dict[str, str] = {}
    try:
        time.sleep(args.settle)
        no_tabs, processes = cpu_percent(server.pid, min(args.idle, 30))
        results["backend CPU, no tab open"] = f"{no_tabs:.1f} % ({processes} processes)"
        results["load with no tab open"] = load()

        with sync_playwright() as playwright:
            chromium = (
                os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
            )
            browser = playwright.chromium.launch(
                executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            context = browser.new_context(
                base_url=f"http://127.0.0.1:{port}", viewport={"width": 1400, "height": 900}
            )
            first = context.new_page()
            first.goto("/signin")
            first.get_by_role("button", name="Try the demo as Admin").click()
            first.wait_for_url("**/contacts**", timeout=120_000)
            rows_ready(first, timeout=180_000)

            opening = time.perf_counter()
            pages = [first]
            on_leads = 0
            for number in range(args.tabs):
                page = first if number == 0 else context.new_page()
                if number > 0:
                    pages.append(page)
                leads = args.leads_every > 0 and number % args.leads_every == args.leads_every - 1
                on_leads += leads
                open_live_tab(page, "/contacts/leads" if leads else "/contacts")
                if (number + 1) % 20 == 0:
                    print(
                        f"({number + 1} tabs live after {time.perf_counter() - opening:.0f} s,"
                        f" load {load()})",
                        file=sys.stderr,
                    )
            results["tabs (All Contacts / Leads)"] = f"{args.tabs - on_leads} / {on_leads}"
            results["time to open them"] = f"{time.perf_counter() - opening:.0f} s"

            # The first turns after opening may re-read (a count finishing in the
            # background changes nothing, but a tab opened before a write would): settle.
            time.sleep(args.settle + 2 * args.interval)
            log.mark()
            load_before = load()
            idle, processes = cpu_percent(server.pid, args.idle)
            refreshes, stops = log.count(REFRESH_LINE), log.count(STOP_LINE)
            results[f"backend CPU, {args.tabs} idle Live tabs"] = (
                f"{idle:.1f} % of one core ({processes} processes, {args.idle:.0f} s)"
            )
            results["load before / after the idle window"] = f"{load_before} / {load()}"
            results["page re-queries in the idle window"] = str(refreshes)
            results["loops ended in the idle window"] = str(stops)

            per_token, per_class = state_sizes(client)
            sizes = sorted(per_token.values())
            if sizes:
                results["Redis state tokens"] = str(len(sizes))
                results["state per tab, median / max"] = (
                    f"{statistics.median(sizes) / 1024:.1f} KB / {sizes[-1] / 1024:.1f} KB"
                )
            biggest = sorted(per_class.items(), key=lambda item: -max(item[1]))[:6]

            # Every loop must still be alive: one change, one re-read per tab.
            log.mark()
            changed = time.monotonic()
            before_change = process_tree(server.pid)
            bump_data_version(args.url, workspace_id)
            deadline = changed + 3 * args.interval + 60
            while log.count(REFRESH_LINE) < args.tabs and time.monotonic() < deadline:
                time.sleep(0.5)
            took = time.monotonic() - changed
            after_change = process_tree(server.pid)
            used = sum(
                after_change[p] - before_change[p] for p in after_change.keys() & before_change
            )
            results["one change: tabs re-read"] = (
                f"{log.count(REFRESH_LINE)} of {args.tabs} within {took:.1f} s"
                f" ({used / CLOCK_TICKS:.1f} s of backend CPU)"
            )
            browser.close()
    finally:
        stop_app(server)

    print(
        f"{args.contacts:,} contacts, {sa.engine.make_url(args.url).get_backend_name()}, "
        f"Redis state manager, Live every {args.interval:g} s"
    )
    print()
    print("| measure | value |")
    print("|---|---|")
    for name, value in results.items():
        print(f"| {name} | {value} |")
    print()
    print("Largest state classes in Redis (max / median bytes per tab):")
    print()
    print("| state | max B | median B | keys |")
    print("|---|---:|---:|---:|")
    for name, values in biggest:
        print(f"| `{name}` | {max(values):,} | {statistics.median(values):,.0f} | {len(values)} |")
    print()
    print(f"load {load()} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
