"""Contacts → Import in Chromium: upload, mapping guesses, preview, import, report."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.models import Contact, ImportJob
from cloodot_app.state.importer import ImportState

FILE = Path(__file__).parent / "data" / "import-people.csv"


def test_import_a_csv_with_good_and_bad_rows(page: Page, app_server):
    page.goto("/contacts/import")
    page.locator("input[type=file]").set_input_files(str(FILE))
    expect(page.get_by_text("4 rows · utf-8 · comma-separated")).to_be_visible()
    expect(page.get_by_role("combobox", name="Import E-mail as")).to_have_text("Email")
    expect(page.get_by_role("combobox", name="Import Mobile as")).to_have_text("Phone")
    preview = page.get_by_role("table", name="Preview")
    expect(preview.locator("tbody tr")).to_have_count(4)
    expect(preview.locator("tbody tr").nth(1)).to_contain_text("not a valid email address")
    expect(preview.locator("tbody tr").nth(2)).to_contain_text(
        "“=SUM(A1:A9)” is not one of the options"
    )
    page.screenshot(path="test-artifacts/import-mapping.png", full_page=True)
    page.get_by_role("button", name="Import 4 rows").click()
    report = page.get_by_role("region", name="Import report")
    expect(report).to_contain_text("Created2")
    expect(report).to_contain_text("Failed2")
    expect(page.get_by_text("Row 5, Tags: Unknown label “Unknownlabel”")).to_be_visible()
    with app_server.session() as session:
        imported = session.execute(
            sa.select(Contact.name, Contact.channel, Contact.phone)
            .where(Contact.email.in_(["ana.importa@example.com", "zed.importa@example.com"]))
            .order_by(Contact.name)
        ).all()
        assert not session.execute(
            sa.select(Contact.id).where(Contact.email == "formula@example.com")
        ).first()
    assert imported == [
        ("Ana Importa", "imported", "+34612000111"),
        ("Zed Importa", "imported", "+442079460001"),
    ]
    href = page.get_by_role("link", name="Download all 3 problems as CSV").get_attribute("href")
    # With this browser's cookies: the file is for members who may import, in this workspace.
    errors = page.context.request.get(app_server.url + href)
    assert errors.status == 200
    assert errors.text().splitlines()[0] == "Row,Column,Value,Message"
    # A formula-looking value is neutralised in the report.
    assert "4,Plan,'=SUM(A1:A9)," in errors.text()
    # The import is listed under Recent imports with its outcome.
    recent = page.get_by_role("table", name="Recent imports")
    expect(recent.locator("tbody tr").first).to_contain_text("import-people.csv")
    expect(recent.locator("tbody tr").first).to_contain_text(
        "Imported 4 rows (2 created, 2 failed)."
    )
    page.screenshot(path="test-artifacts/import-report.png", full_page=True)


def test_importing_the_same_file_again_skips_the_duplicates(page: Page):
    page.goto("/contacts/import")
    page.locator("input[type=file]").set_input_files(str(FILE))
    expect(page.get_by_role("table", name="Preview").locator("tbody tr")).to_have_count(4)
    page.get_by_role("button", name="Import 4 rows").click()
    expect(page.get_by_role("region", name="Import report")).to_contain_text(
        "Skipped (duplicates)2"
    )


def test_a_file_that_is_not_a_csv_is_refused_with_a_reason(page: Page, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    page.goto("/contacts/import")
    page.locator("input[type=file]").set_input_files(str(empty))
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_text("Drop a CSV file here")).to_be_visible()


def test_an_import_whose_worker_died_says_where_it_stopped(page: Page, app_server):
    """A job left "running" by a killed worker (its heartbeat stale) is shown interrupted,
    with the rows that are in."""
    from cloodot_app.models import utcnow

    long_ago = utcnow() - timedelta(hours=1)
    with app_server.session() as session:
        session.add(
            ImportJob(
                workspace_id=app_server.workspace_id,
                file_name="crm-export.csv",
                status="running",
                total_rows=10_000,
                rows_done=3_000,
                created=3_000,
                started_at=long_ago,
                heartbeat_at=long_ago,
            )
        )
    page.goto("/contacts/import")
    row = page.get_by_role("table", name="Recent imports").locator(
        "tbody tr", has_text="crm-export"
    )
    expect(row).to_contain_text("interrupted")
    expect(row).to_contain_text(
        "Stopped at row 3,000 of 10,000 — rows 1–3,000 were imported (3,000 created)."
    )


def test_a_file_over_the_size_cap_is_refused_in_the_browser(page: Page, tmp_path):
    big = tmp_path / "big.csv"
    with big.open("wb") as out:
        out.write(b"Name\r\n")
        out.write(b"x" * (20 * 1024 * 1024))
    page.goto("/contacts/import")
    page.locator("input[type=file]").set_input_files(str(big))
    expect(page.get_by_role("alert")).to_contain_text("The file is larger than 20 MB.")
    expect(page.get_by_text("Drop a CSV file here")).to_be_visible()


def test_an_upload_over_the_cap_is_cut_off_by_the_server(page: Page, app_server):
    """A client that ignores the browser's check (posting straight to the upload
    endpoint) is stopped by the server once the cap is reached, with the same message."""
    page.goto("/contacts/import")
    expect(page.get_by_text("Drop a CSV file here")).to_be_visible()
    # The recent imports arrive over the websocket: the tab's token is registered.
    expect(page.get_by_role("table", name="Recent imports")).to_be_visible()
    token = page.evaluate("() => window.sessionStorage.getItem('token')")
    handler = ImportState.get_full_name() + ".receive_upload"
    body = b"Name\r\n" + b"x" * (30 * 1024 * 1024)
    try:
        response = httpx.post(
            app_server.url + "/_upload",
            files={"files": ("huge.csv", body, "text/csv")},
            headers={"Reflex-Client-Token": token, "Reflex-Event-Handler": handler},
            timeout=60,
        )
        assert response.status_code == 400  # the handler stopped reading it
    except httpx.TransportError:
        pass  # or the server closed the connection before the body was sent
    expect(page.get_by_role("alert")).to_contain_text("The file is larger than 20 MB.")
