"""Quick filters (AND / OR, each kind of field), the segment selector, banner and
"Save as segment", through the real page."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.filters import FilterSpec
from cloodot_app.models import Label, Segment
from cloodot_app.services.contacts import ContactQuery, count_contacts
from tests.e2e.conftest import wait_until_connected


def found(page: Page):
    return page.get_by_role("status", name="Contacts found")


def expected_total(app_server, spec: dict | None = None, segment_id: int | None = None) -> int:
    with app_server.session() as session:
        query = ContactQuery(filter=FilterSpec.parse(spec or {}), segment_id=segment_id)
        return count_contacts(session, app_server.workspace_id, query)


def total_text(total: int) -> str:
    noun = "contact" if total == 1 else "contacts"
    return f"1–{min(10, total)} of {total} {noun}" if total else "No contacts found"


def open_filters(page: Page):
    page.get_by_role("button", name="Filters").click()
    return page.get_by_role("dialog", name="Filters")


def choose(page: Page, scope, combobox: str, option: str, nth: int = 0):
    scope.get_by_role("combobox", name=combobox).nth(nth).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_text_filter_and_chip_removal(page: Page, app_server):
    page.goto("/contacts")
    wait_until_connected(page)
    drawer = open_filters(page)
    choose(page, drawer, "Field", "Email")
    choose(page, drawer, "Operator", "contains")
    drawer.get_by_role("textbox", name="Value").fill("example.org")
    drawer.get_by_role("button", name="Apply").click()
    expect(drawer).to_be_hidden()
    spec = {"conditions": [{"field": "email", "operator": "contains", "value": "example.org"}]}
    expect(found(page)).to_have_text(total_text(expected_total(app_server, spec)))
    chip = page.get_by_role("button", name="Remove filter Email contains example.org")
    expect(chip).to_be_visible()
    assert "f=" in page.url
    chip.click()
    expect(found(page)).to_have_text(total_text(expected_total(app_server)))


def test_label_and_number_filters_with_and_versus_or(page: Page, app_server):
    with app_server.session() as session:
        vip = session.execute(sa.select(Label.id).where(Label.name == "VIP")).scalar_one()
    conditions = [
        {"field": "label", "operator": "has_any_of", "value": [vip]},
        {"field": "cf.lifetime_value", "operator": "gte", "value": 500},
    ]
    page.goto("/contacts")
    wait_until_connected(page)
    drawer = open_filters(page)
    choose(page, drawer, "Field", "Label")
    drawer.get_by_role("group", name="Options").get_by_text("VIP", exact=True).click()
    drawer.get_by_role("button", name="Add condition").click()
    choose(page, drawer, "Field", "Lifetime value", nth=1)
    choose(page, drawer, "Operator", "≥", nth=1)
    drawer.get_by_role("spinbutton", name="Value").fill("500")
    drawer.get_by_role("button", name="Apply").click()
    and_total = expected_total(app_server, {"match": "all", "conditions": conditions})
    expect(found(page)).to_have_text(total_text(and_total))

    drawer = open_filters(page)
    drawer.get_by_text("Any condition matches (OR)").click()
    drawer.get_by_role("button", name="Apply").click()
    or_total = expected_total(app_server, {"match": "any", "conditions": conditions})
    expect(found(page)).to_have_text(total_text(or_total))
    assert or_total > and_total
    expect(page.get_by_text("Any of:")).to_be_visible()


def test_date_and_select_filters(page: Page, app_server):
    page.goto("/contacts")
    wait_until_connected(page)
    drawer = open_filters(page)
    choose(page, drawer, "Field", "Created at")
    choose(page, drawer, "Operator", "within the last N days")
    drawer.get_by_role("spinbutton", name="Days").fill("30")
    drawer.get_by_role("button", name="Add condition").click()
    choose(page, drawer, "Field", "Channel", nth=1)
    choose(page, drawer, "Operator", "is", nth=1)
    choose(page, drawer, "Value", "whatsapp")
    drawer.get_by_role("button", name="Apply").click()
    spec = {
        "conditions": [
            {"field": "created_at", "operator": "within_last_days", "value": 30},
            {"field": "channel", "operator": "is", "value": "whatsapp"},
        ]
    }
    expect(found(page)).to_have_text(total_text(expected_total(app_server, spec)))


def test_an_invalid_condition_says_why_and_is_not_applied(page: Page, app_server):
    page.goto("/contacts")
    wait_until_connected(page)
    drawer = open_filters(page)
    choose(page, drawer, "Field", "Name")
    drawer.get_by_role("button", name="Apply").click()
    expect(drawer.get_by_role("alert")).to_have_text(re.compile("Condition 1: Type a value"))
    expect(drawer).to_be_visible()
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(found(page)).to_have_text(total_text(expected_total(app_server)))


def test_segment_selector_shows_banner_and_clears_filters(page: Page, app_server):
    with app_server.session() as session:
        segment_id = session.execute(
            sa.select(Segment.id).where(Segment.name == "Recent WhatsApp leads")
        ).scalar_one()
    page.goto("/contacts?q=a")
    wait_until_connected(page)
    choose(page, page, "Segment", "Recent WhatsApp leads")
    total = expected_total(app_server, segment_id=segment_id)
    banner = page.get_by_role("status", name="Active segment")
    noun = "contact matches" if total == 1 else "contacts match"
    expect(banner).to_contain_text(f"Recent WhatsApp leads segment: {total} {noun}")
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("")
    expect(found(page)).to_have_text(total_text(total))
    page.reload()
    wait_until_connected(page)
    expect(banner).to_contain_text("Recent WhatsApp leads")
    banner.get_by_role("button", name="Clear segment").click()
    expect(banner).to_be_hidden()
    expect(found(page)).to_have_text(total_text(expected_total(app_server)))


def test_save_quick_filters_as_a_segment(page: Page, app_server):
    page.goto("/contacts")
    wait_until_connected(page)
    drawer = open_filters(page)
    choose(page, drawer, "Field", "Campaign opt-in")
    choose(page, drawer, "Value", "Yes")
    drawer.get_by_role("button", name="Apply").click()
    page.get_by_role("button", name="Save as segment").click()
    dialog = page.get_by_role("dialog", name="Save as segment")
    dialog.get_by_role("button", name="Save segment").click()
    expect(dialog.get_by_role("alert")).to_have_text("Give the segment a name.")
    dialog.get_by_role("textbox", name="Segment name").fill("Opted-in (e2e)")
    dialog.get_by_role("button", name="Save segment").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status", name="Active segment")).to_contain_text("Opted-in (e2e)")
    with app_server.session() as session:
        stored = session.execute(
            sa.select(Segment.filter_spec).where(Segment.name == "Opted-in (e2e)")
        ).scalar_one()
    assert stored["conditions"] == [{"field": "campaign_opt_in", "operator": "is", "value": True}]
