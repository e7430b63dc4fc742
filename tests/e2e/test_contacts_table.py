"""All Contacts in Chromium: the table, search, sorting, paging and the opt-in switch."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.models import Contact
from tests.e2e.conftest import wait_until_connected


def rows(page: Page):
    return page.get_by_role("table", name="Contacts").locator("tbody tr")


def test_table_shows_first_page_and_total(page: Page, app_server):
    page.goto("/contacts")
    wait_until_connected(page)
    expect(rows(page)).to_have_count(10)
    with app_server.session() as session:
        total = session.execute(sa.select(sa.func.count()).select_from(Contact)).scalar_one()
    expect(page.get_by_role("status", name="Contacts found")).to_have_text(
        f"1–10 of {total} contacts"
    )
    for header in ("Name", "Email", "Phone", "Created At", "Last Interaction"):
        expect(page.get_by_role("button", name=f"Sort by {header}")).to_be_visible()
    page.screenshot(path="test-artifacts/contacts-table.png", full_page=True)


def test_search_by_name_and_by_phone_with_punctuation(page: Page):
    page.goto("/contacts")
    wait_until_connected(page)
    search = page.get_by_role("searchbox", name="Search")
    search.fill("quarterm")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Zoe Quartermaine")
    search.fill("(415) 555-01")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Yusuf Quayle")
    search.fill("no such person xyz")
    expect(page.get_by_text("No contacts match")).to_be_visible()
    page.get_by_role("button", name="Clear search").first.click()
    expect(rows(page)).to_have_count(10)


def test_search_survives_a_reload(page: Page):
    page.goto("/contacts?q=quayle")
    wait_until_connected(page)
    expect(rows(page)).to_have_count(1)
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("quayle")


def test_sort_by_name_both_ways(page: Page, app_server):
    with app_server.session() as session:
        names = session.execute(sa.select(Contact.name).order_by(Contact.name)).scalars().all()
    page.goto("/contacts")
    wait_until_connected(page)
    page.get_by_role("button", name="Sort by Name").click()
    expect(rows(page).first).to_contain_text(names[0])
    page.get_by_role("button", name="Sort by Name").click()
    expect(rows(page).first).to_contain_text(names[-1])


def test_pagination_next_previous_and_page_size(page: Page, app_server):
    with app_server.session() as session:
        total = session.execute(sa.select(sa.func.count()).select_from(Contact)).scalar_one()
    page.goto("/contacts")
    wait_until_connected(page)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("status", name="Contacts found")).to_have_text(
        f"11–20 of {total} contacts"
    )
    expect(page.get_by_role("button", name="Page 2")).to_have_attribute("aria-current", "page")
    page.get_by_role("button", name="Previous").click()
    expect(page.get_by_role("status", name="Contacts found")).to_have_text(
        f"1–10 of {total} contacts"
    )
    page.get_by_role("combobox", name="Rows per page").click()
    page.get_by_role("option", name="25").click()
    expect(rows(page)).to_have_count(25)
    last_page = -(-total // 25)
    page.get_by_role("button", name=f"Page {last_page}").click()
    expect(page.get_by_role("status", name="Contacts found")).to_have_text(
        re.compile(rf"^{(last_page - 1) * 25 + 1}–{total} of {total} contacts$")
    )


def test_campaign_opt_in_switch_saves(page: Page, app_server):
    page.goto("/contacts?q=quartermaine")
    wait_until_connected(page)
    switch = page.get_by_role("switch", name="Campaign opt-in for Zoe Quartermaine")
    before = switch.get_attribute("aria-checked") == "true"
    switch.click()
    expect(page.get_by_text(re.compile("Campaign opt-in turned"))).to_be_visible()
    with app_server.session() as session:
        stored = session.execute(
            sa.select(Contact.campaign_opt_in).where(Contact.name == "Zoe Quartermaine")
        ).scalar_one()
    assert stored is (not before)
    page.reload()
    wait_until_connected(page)
    expect(
        page.get_by_role("switch", name="Campaign opt-in for Zoe Quartermaine")
    ).to_have_attribute("aria-checked", "true" if stored else "false")
