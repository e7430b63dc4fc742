"""The Segments page and the Leads board in Chromium."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cloodot_app.filters import FilterSpec
from cloodot_app.models import Contact, ContactLabel, Label, Segment
from cloodot_app.services.contacts import ContactQuery, count_contacts


def wait_for_board(page: Page) -> None:
    page.wait_for_function("() => document.querySelector('[data-rows-state=\"ready\"]') !== null")


def segment_rows(page: Page):
    return page.get_by_role("table", name="Segments").locator("tbody tr")


def count(app_server, spec: dict) -> int:
    with app_server.session() as session:
        return count_contacts(
            session, app_server.workspace_id, ContactQuery(filter=FilterSpec.parse(spec))
        )


def test_segments_list_shows_rules_and_counts(page: Page, app_server):
    page.goto("/contacts/segments")
    expect(segment_rows(page).first).to_be_visible()
    row = segment_rows(page).filter(has_text="Newsletter subscribers")
    expect(row).to_contain_text("Campaign opt-in is yes")
    with app_server.session() as session:
        spec = session.execute(
            sa.select(Segment.filter_spec).where(Segment.name == "Newsletter subscribers")
        ).scalar_one()
    expect(row.get_by_role("cell").nth(1)).to_have_text(str(count(app_server, spec)))
    page.screenshot(path="test-artifacts/segments.png", full_page=True)


def test_create_a_segment_with_live_preview(page: Page, app_server):
    page.goto("/contacts/segments")
    expect(segment_rows(page).first).to_be_visible()
    page.get_by_role("button", name="New segment").click()
    dialog = page.get_by_role("dialog", name="New segment")
    dialog.get_by_role("textbox", name="Segment name").fill("Gmail users (e2e)")
    dialog.get_by_role("combobox", name="Field").click()
    page.get_by_role("option", name="Email", exact=True).click()
    dialog.get_by_role("textbox", name="Value").fill("gmail.com")
    spec = {"conditions": [{"field": "email", "operator": "contains", "value": "gmail.com"}]}
    expected = count(app_server, spec)
    noun = "contact matches" if expected == 1 else "contacts match"
    expect(dialog.get_by_role("status", name="Preview")).to_contain_text(f"{expected} {noun}")
    page.screenshot(path="test-artifacts/segment-editor.png")
    dialog.get_by_role("button", name="Save segment").click()
    expect(dialog).to_be_hidden()
    row = segment_rows(page).filter(has_text="Gmail users (e2e)")
    expect(row).to_contain_text("Email contains gmail.com")
    row.get_by_role("link", name="Gmail users (e2e)").click()
    expect(page).to_have_url(re.compile(r"/contacts/?\?segment=\d+"))
    expect(page.get_by_role("status", name="Active segment")).to_contain_text(
        f"Gmail users (e2e) segment: {expected}"
    )


def test_a_segment_name_must_be_unique(page: Page):
    page.goto("/contacts/segments")
    expect(segment_rows(page).first).to_be_visible()
    page.get_by_role("button", name="New segment").click()
    dialog = page.get_by_role("dialog", name="New segment")
    dialog.get_by_role("textbox", name="Segment name").fill("vip")
    dialog.get_by_role("textbox", name="Value").fill("x")
    dialog.get_by_role("button", name="Save segment").click()
    expect(dialog.get_by_role("alert")).to_have_text("A segment called “vip” already exists.")


def test_duplicate_reorder_and_delete_a_segment(page: Page, app_server):
    page.goto("/contacts/segments")
    expect(segment_rows(page).first).to_be_visible()
    page.get_by_role("button", name="Duplicate Enterprise plan").click()
    expect(segment_rows(page).last).to_contain_text("Enterprise plan (copy)")
    page.get_by_role("button", name="Move Enterprise plan (copy) up").click()
    expect(segment_rows(page).nth(-2)).to_contain_text("Enterprise plan (copy)")
    page.get_by_role("button", name="Delete Enterprise plan (copy)").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("a column on the Leads board")
    dialog.get_by_role("button", name="Delete segment").click()
    # While a dialog is open the page behind it is hidden from the accessibility tree.
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Deleted the segment “Enterprise plan (copy)”.")).to_be_visible()
    expect(segment_rows(page).filter(has_text="Enterprise plan (copy)")).to_have_count(0)
    with app_server.session() as session:
        assert not session.execute(
            sa.select(Segment.id).where(Segment.name == "Enterprise plan (copy)")
        ).first()


def test_leads_board_has_a_column_per_segment_with_counts(page: Page, app_server):
    page.goto("/contacts/leads")
    wait_for_board(page)
    with app_server.session() as session:
        segments = session.execute(
            sa.select(Segment.name, Segment.filter_spec)
            .where(Segment.on_board.is_(True))
            .order_by(Segment.position)
        ).all()
    for name, spec in segments[:3]:
        column = page.get_by_role("region", name=name, exact=True)
        expect(column).to_contain_text(str(count(app_server, spec)))
    page.screenshot(path="test-artifacts/leads.png")


def test_a_column_loads_more_cards_as_it_scrolls(page: Page, app_server):
    page.goto("/contacts/leads")
    wait_for_board(page)
    with app_server.session() as session:
        spec = session.execute(
            sa.select(Segment.filter_spec).where(Segment.name == "No reply in 7 days")
        ).scalar_one()
    total = count(app_server, spec)
    assert total > 25, "the demo world must have more than one load of cards here"
    cards = page.get_by_role("list", name="No reply in 7 days cards").get_by_role("listitem")
    expect(cards).to_have_count(25)
    cards.nth(24).scroll_into_view_if_needed()
    page.get_by_role("list", name="No reply in 7 days cards").evaluate(
        "(element) => element.scrollTo(0, element.scrollHeight)"
    )
    expect(cards).to_have_count(min(50, total))


def add_high_value_contact(app_server, name: str) -> None:
    """A contact that shows up in the "High-value customers" column (and no label column)."""
    with app_server.session() as session:
        session.add(
            Contact(
                workspace_id=app_server.workspace_id,
                name=name,
                channel="imported",
                custom_fields={"lifetime_value": 5000},
            )
        )


def test_drag_a_card_into_a_label_column_sets_the_label(page: Page, app_server):
    add_high_value_contact(app_server, "Dragme Dora")
    page.goto("/contacts/leads")
    wait_for_board(page)
    page.get_by_role("searchbox", name="Search").fill("Dragme")
    card = page.get_by_role("region", name="High-value customers").get_by_role(
        "listitem", name="Dragme Dora"
    )
    expect(card).to_be_visible()
    expect(
        page.get_by_role("region", name="VIP", exact=True).get_by_role("listitem")
    ).to_have_count(0)
    card.drag_to(page.get_by_role("region", name="VIP", exact=True))
    expect(page.get_by_text("Dragme Dora: adds the label VIP.")).to_be_visible()
    expect(
        page.get_by_role("region", name="VIP", exact=True).get_by_role(
            "listitem", name="Dragme Dora"
        )
    ).to_be_visible()
    with app_server.session() as session:
        labels = (
            session.execute(
                sa.select(Label.name)
                .join(ContactLabel, ContactLabel.label_id == Label.id)
                .join(Contact, Contact.id == ContactLabel.contact_id)
                .where(Contact.name == "Dragme Dora")
            )
            .scalars()
            .all()
        )
    assert labels == ["VIP"]


def test_columns_that_cannot_take_a_card_do_not_accept_drops(page: Page):
    page.goto("/contacts/leads")
    wait_for_board(page)
    expect(page.get_by_role("region", name="VIP", exact=True)).to_have_attribute(
        "data-droppable", "true"
    )
    no_reply = page.get_by_role("region", name="No reply in 7 days", exact=True)
    expect(no_reply).not_to_have_attribute("data-droppable", "true")
    expect(page.get_by_role("region", name="VIP", exact=True)).to_contain_text(
        "Drop a card here: adds the label VIP"
    )


def test_move_menu_is_the_keyboard_way_to_drag(page: Page, app_server):
    add_high_value_contact(app_server, "Menumove Milo")
    page.goto("/contacts/leads")
    wait_for_board(page)
    page.get_by_role("searchbox", name="Search").fill("Menumove")
    column = page.get_by_role("region", name="High-value customers", exact=True)
    expect(column.get_by_role("listitem")).to_have_count(1)
    expect(column.get_by_role("listitem", name="Menumove Milo")).to_be_visible()
    column.get_by_role("button", name="Actions for Menumove Milo").click()
    expect(page.get_by_role("menu", name="Actions for Menumove Milo")).to_be_visible()
    page.get_by_role("menuitem", name="Enterprise plan").click()
    expect(page.get_by_text("Menumove Milo: sets Plan to Enterprise.")).to_be_visible()
    expect(
        page.get_by_role("region", name="Enterprise plan", exact=True).get_by_role(
            "listitem", name="Menumove Milo"
        )
    ).to_be_visible()
    with app_server.session() as session:
        values = session.execute(
            sa.select(Contact.custom_fields).where(Contact.name == "Menumove Milo")
        ).scalar_one()
    assert values["plan"] == "Enterprise"
