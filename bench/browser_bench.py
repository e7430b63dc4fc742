"""Time what a person sees in Chromium (Playwright) against a database of N contacts.

    python bench/browser_bench.py --contacts 1000000
    python bench/browser_bench.py --contacts 1000000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Starts the app (`reflex run --env prod`, demo mode for the sign-in button, no demo traffic)
on the benchmark database (seeded by query_bench / seed_bench first), signs in as the demo
Admin and measures, --runs times each (median, and every run):

- first load of All Contacts: from navigation to the first page of rows drawn;
- typing a search ("ma", "mar") into the search box: from the last key to the settled
  table (the "Contacts found" status showing the new total), the 300 ms debounce included;
- applying the segment "No reply in 7 days" from the segment selector: from the click on
  the option to the banner with its count;
- opening Segments: from navigation to every segment's count drawn;
- opening Leads: from navigation to every column's count badge drawn.

Settled means what the page shows, not what the server did: the wait polls the DOM.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, sync_playwright

from cloodot_app.db import make_engine
from cloodot_app.models import Segment, Workspace

DEBOUNCE_MS = 300


def default_url(contacts: int) -> str:
    return f"sqlite:///{ROOT / 'bench' / 'results' / f'bench_{contacts}.db'}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load() -> str:
    return "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())


def start_app(
    database_url: str, port: int, log_path: Path, settings: dict[str, str] | None = None
) -> subprocess.Popen:
    """`reflex run --env prod` on the database in demo mode (no demo contacts or traffic),
    waiting until it answers. `settings`: more environment (live_bench adds Redis); without
    REDIS_URL among them, the app runs without Redis whatever the shell has."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CLOODOT_DEMO_CONTACTS": "0",
        "CLOODOT_DEMO_MODE": "1",
        "CLOODOT_DEMO_TRAFFIC_SECONDS": "0",
        "FRONTEND_PORT": str(port),
        "CLOODOT_APP_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("REDIS_URL", None)
    env.update(settings or {})
    log = open(log_path, "w")  # noqa: SIM115  (the server writes to it until the end)
    process = subprocess.Popen(
        ["reflex", "run", "--env", "prod", "--loglevel", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited; see {log_path}")
        try:
            if httpx.get(f"{url}/ping", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start within 15 minutes")
        time.sleep(2)


def stop_app(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, 9)


def rows_ready(page: Page, timeout: float = 60_000) -> None:
    page.wait_for_function(
        "() => document.querySelector('[data-rows-state=\"ready\"]') !== null", timeout=timeout
    )


def found_text(page: Page) -> str:
    return page.get_by_role("status", name="Contacts found").inner_text()


def wait_found_changes(page: Page, before: str) -> None:
    """Until the "Contacts found" status shows something else than `before`, with rows."""
    page.wait_for_function(
        """(before) => {
            const s = document.querySelector('[aria-label="Contacts found"]');
            const ready = document.querySelector('[data-rows-state="ready"]') !== null;
            return s && ready && s.innerText !== before;
        }""",
        arg=before,
        timeout=120_000,
    )


def measure(name: str, runs: int, once: Callable[[], float]) -> tuple[str, list[float]]:
    samples = [once() for _ in range(runs)]
    return name, samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workspace", default="demo")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    url = args.database_url or default_url(args.contacts)

    engine = make_engine(url)
    with engine.connect() as connection:
        workspace_id = connection.execute(
            sa.select(Workspace.id).where(Workspace.slug == args.workspace)
        ).scalar_one()
        segments = list(
            connection.execute(
                sa.select(Segment.name, Segment.on_board).where(
                    Segment.workspace_id == workspace_id
                )
            )
        )
    engine.dispose()
    on_board = [name for name, board in segments if board]

    port = args.port or free_port()
    log_path = ROOT / "bench" / "results" / "browser_bench_server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    server = start_app(url, port, log_path)
    print(f"(app started in {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    base = f"http://127.0.0.1:{port}"
    results: list[tuple[str, list[float]]] = []
    print(f"# browser_bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {load()} at the start")
    try:
        with sync_playwright() as playwright:
            # The system Chromium, as the browser tests use it (tests/e2e/conftest.py).
            chromium = (
                os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
            )
            browser = playwright.chromium.launch(
                executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            context = browser.new_context(base_url=base, viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.goto("/signin")
            page.get_by_role("button", name="Try the demo as Admin").click()
            page.wait_for_url("**/contacts**", timeout=120_000)
            rows_ready(page, timeout=180_000)

            def first_load() -> float:
                start = time.perf_counter()
                page.goto("/contacts")
                rows_ready(page)
                page.get_by_role("status", name="Contacts found").wait_for()
                return time.perf_counter() - start

            results.append(measure("first load of All Contacts", args.runs, first_load))
            shots = ROOT / "bench" / "results"
            page.screenshot(path=str(shots / "browser_bench_contacts.png"))

            def search(term: str) -> Callable[[], float]:
                def once() -> float:
                    page.goto("/contacts")
                    rows_ready(page)
                    box = page.get_by_role("searchbox", name="Search")
                    before = found_text(page)
                    box.fill(term[:-1])
                    start = time.perf_counter()
                    box.press(term[-1])
                    wait_found_changes(page, before)
                    return time.perf_counter() - start

                return once

            results.append(
                measure("search “ma” (typing to settled table)", args.runs, search("ma"))
            )
            results.append(
                measure("search “mar” (typing to settled table)", args.runs, search("mar"))
            )

            def segment() -> float:
                page.goto("/contacts")
                rows_ready(page)
                page.get_by_role("combobox", name="Segment").click()
                option = page.get_by_role("option", name="No reply in 7 days", exact=True)
                start = time.perf_counter()
                option.click()
                banner = page.get_by_role("status", name="Active segment")
                banner.get_by_text("No reply in 7 days segment:").wait_for(timeout=120_000)
                page.wait_for_function(
                    """() => {
                        const b = document.querySelector('[aria-label="Active segment"]');
                        return b && /segment: [0-9]/.test(b.innerText)
                            && document.querySelector('[data-rows-state="ready"]') !== null;
                    }""",
                    timeout=120_000,
                )
                return time.perf_counter() - start

            results.append(measure("apply segment “No reply in 7 days”", args.runs, segment))

            def segments_page() -> float:
                start = time.perf_counter()
                page.goto("/contacts/segments")
                page.wait_for_function(
                    """(expected) => {
                        const t = [...document.querySelectorAll('table')].find(
                            x => x.caption && x.caption.textContent.trim() === 'Segments');
                        if (!t) return false;
                        const rows = [...t.querySelectorAll('tbody tr')];
                        return rows.length === expected && rows.every(
                            r => /^[0-9,—]+$/.test(((r.cells[2] || {}).textContent || '').trim()));
                    }""",
                    arg=len(segments),
                    timeout=120_000,
                )
                return time.perf_counter() - start

            results.append(measure("open Segments (every count drawn)", args.runs, segments_page))
            page.screenshot(path=str(shots / "browser_bench_segments.png"))

            def leads_page() -> float:
                start = time.perf_counter()
                page.goto("/contacts/leads")
                for name in on_board:
                    page.get_by_role("heading", name=name, exact=True).wait_for(timeout=120_000)
                return time.perf_counter() - start

            results.append(measure("open Leads (every column drawn)", args.runs, leads_page))
            browser.close()
    finally:
        stop_app(server)

    print(f"{args.contacts:,} contacts, {sa.engine.make_url(url).get_backend_name()}, Chromium")
    print()
    print("| interaction | median s | runs (s) | median − 300 ms debounce |")
    print("|---|---:|---|---:|")
    for name, samples in results:
        median = statistics.median(samples)
        shown = ", ".join(f"{s:.2f}" for s in samples)
        less = f"{median - DEBOUNCE_MS / 1000:.2f}" if "typing" in name else ""
        print(f"| {name} | {median:.2f} | {shown} | {less} |")
    print()
    print(f"load {load()} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
