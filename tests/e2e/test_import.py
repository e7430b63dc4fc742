"""Contacts → Import in Chromium: upload, mapping guesses, preview, import, report."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.models import Contact

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
    errors = httpx.get(app_server.url + href, timeout=10)
    assert errors.status_code == 200
    assert errors.text.splitlines()[0] == "Row,Column,Value,Message"
    # A formula-looking value is neutralised in the report.
    assert "4,Plan,'=SUM(A1:A9)," in errors.text
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
