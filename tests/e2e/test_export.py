"""Download CSV in Chromium: the dialog, the file's name, and its rows against the database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.models import Contact
from tests.e2e.conftest import wait_until_connected


def download(page: Page, limit: str | None = None, sort: str | None = None) -> tuple[str, list]:
    page.get_by_role("button", name="Download CSV").click()
    dialog = page.get_by_role("dialog", name="Download CSV")
    if limit is not None:
        dialog.get_by_role("spinbutton", name="Number of contacts").fill(limit)
    if sort is not None:
        dialog.get_by_text(sort, exact=True).click()
    with page.expect_download() as info:
        dialog.get_by_role("button", name="Download").click()
    file = info.value
    with open(file.path(), encoding="utf-8") as stream:
        text = stream.read()
    return file.suggested_filename, list(csv.DictReader(io.StringIO(text)))


def test_export_the_newest_contacts_by_created_date(page: Page, app_server):
    page.goto("/contacts")
    wait_until_connected(page)
    name, rows = download(page, limit="5", sort="Created Date")
    assert name == f"contacts-{datetime.now(UTC).date().isoformat()}.csv"
    with app_server.session() as session:
        expected = (
            session.execute(
                sa.select(Contact.name)
                .order_by(Contact.created_at.desc(), Contact.id.desc())
                .limit(5)
            )
            .scalars()
            .all()
        )
    assert [row["Name"] for row in rows] == expected
    assert {"Name", "Email", "Phone", "Created At", "Last Interaction", "Labels"} <= set(rows[0])


def test_export_follows_the_search_and_neutralises_formulas(page: Page, app_server):
    with app_server.session() as session:
        session.add(
            Contact(
                workspace_id=app_server.workspace_id,
                name="=HYPERLINK(evil) Exportee",
                email="exportee@example.com",
                channel="imported",
            )
        )
    page.goto("/contacts?q=Exportee")
    wait_until_connected(page)
    _name, rows = download(page)
    assert len(rows) == 1
    assert rows[0]["Name"] == "'=HYPERLINK(evil) Exportee"
    assert rows[0]["Email"] == "exportee@example.com"


def test_export_refuses_a_number_out_of_range(page: Page):
    page.goto("/contacts")
    wait_until_connected(page)
    page.get_by_role("button", name="Download CSV").click()
    dialog = page.get_by_role("dialog", name="Download CSV")
    dialog.get_by_role("spinbutton", name="Number of contacts").fill("0")
    dialog.get_by_role("button", name="Download").click()
    expect(dialog.get_by_role("alert")).to_be_visible()
    expect(dialog).to_be_visible()
