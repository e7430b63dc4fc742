"""Why is this contact in this segment: the explanation agrees with the segment's own SQL.

For every seeded demo segment (plus a few that use "any", notes, conversation fields and
labels), for a sample of demo contacts, on SQLite and PostgreSQL: the drawer's "in / not
in" is exactly whether the table's query for that segment returns the contact, and the
✔/✘ of the conditions combine (all / any) to the same answer. The contact's own values are
shown in words ("Lifetime value ≥ 1000: ✔ 1,250").
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cloodot_app.access import Identity, Role
from cloodot_app.errors import NotFound
from cloodot_app.models import Contact, CustomFieldDefinition, Label, Segment, User
from cloodot_app.seed import seed_demo
from cloodot_app.services import notes
from cloodot_app.services.contacts import ContactQuery, contact_condition
from cloodot_app.services.segment_explain import contact_segments, explain_segment
from cloodot_app.services.segments import create_segment

SAMPLE = 60  # contacts per database, spread over the ids


@pytest.fixture
def demo(engine: sa.Engine, session: Session) -> int:
    """200 demo contacts with their six segments, some notes, and four more segments."""
    workspace_id = seed_demo(engine, 200, seed=11)
    author = User(email="nia@demo.example", name="Nia", password_hash="!")
    session.add(author)
    session.commit()
    assert author.id is not None
    nia = Identity(author.id, author.email, "Nia", workspace_id, "Demo", Role.AGENT, 0)
    ids = list(
        session.execute(
            sa.select(Contact.id).where(Contact.workspace_id == workspace_id).order_by(Contact.id)
        ).scalars()
    )
    for number, contact_id in enumerate(ids[::7]):
        text = ("Asked about a refund", "Happy with the plan", "Call back in May")[number % 3]
        notes.add_note(session, workspace_id, nia, contact_id, text)
    vip = session.execute(
        sa.select(Label.id).where(Label.workspace_id == workspace_id, Label.name == "VIP")
    ).scalar_one()
    more = {
        "Refunds or big spenders": {
            "match": "any",
            "conditions": [
                {"field": "notes", "operator": "contains", "value": "refund"},
                {"field": "cf.lifetime_value", "operator": "gt", "value": 2000},
            ],
        },
        "Billing talks, not VIP": {
            "match": "all",
            "conditions": [
                {"field": "conv.topic", "operator": "is", "value": "Billing"},
                {"field": "label", "operator": "has_none_of", "value": [vip]},
            ],
        },
        "Quiet subscribers": {
            "match": "all",
            "conditions": [
                {"field": "campaign_opt_in", "operator": "is", "value": True},
                {"field": "notes", "operator": "is_empty", "value": None},
                {"field": "cf.interests", "operator": "has_any_of", "value": ["Books", "Home"]},
            ],
        },
        "Renewing soon or no email": {
            "match": "any",
            "conditions": [
                {"field": "cf.renewal_date", "operator": "within_last_days", "value": 90},
                {"field": "email", "operator": "is_empty", "value": None},
                {"field": "conv.order_value", "operator": "gte", "value": 300},
            ],
        },
    }
    for name, spec in more.items():
        create_segment(session, workspace_id, name, spec)
    session.commit()
    return workspace_id


def members_by_sql(session: Session, workspace_id: int, segment_id: int) -> set[int]:
    """The contacts the All Contacts table shows for the segment."""
    where = contact_condition(session, workspace_id, ContactQuery(segment_id=segment_id))
    return set(session.execute(sa.select(Contact.id).where(where)).scalars())


def test_explanations_agree_with_the_sql_on_every_segment(session, demo):
    segments = session.execute(
        sa.select(Segment.id, Segment.name).where(Segment.workspace_id == demo)
    ).all()
    assert len(segments) == 10
    ids = list(
        session.execute(
            sa.select(Contact.id).where(Contact.workspace_id == demo).order_by(Contact.id)
        ).scalars()
    )
    sample = ids[:: max(1, len(ids) // SAMPLE)]
    members = {segment_id: members_by_sql(session, demo, segment_id) for segment_id, _ in segments}
    seen_in, seen_out = set(), set()
    for contact_id in sample:
        listed = {line.id: line for line in contact_segments(session, demo, contact_id)}
        for segment_id, name in segments:
            expected = contact_id in members[segment_id]
            explanation = explain_segment(session, demo, contact_id, segment_id)
            assert explanation.problem == "" and listed[segment_id].problem == ""
            assert explanation.member is expected, (name, contact_id)
            assert listed[segment_id].member is expected, (name, contact_id)
            combine = all if explanation.match == "all" else any
            assert combine(check.holds for check in explanation.checks) is expected, (
                name,
                contact_id,
                [(c.words, c.holds, c.value) for c in explanation.checks],
            )
            assert all(check.words and check.value for check in explanation.checks)
            (seen_in if expected else seen_out).add(name)
    # The sample is worth something: every segment was seen holding and failing someone.
    names = {name for _, name in segments}
    assert seen_out == names
    assert len(seen_in) >= 8, seen_in


def test_the_contacts_own_values_in_words(session, workspace_id):
    contact = Contact(
        workspace_id=workspace_id,
        name="Lena Value",
        custom_fields={"lifetime_value": 1250, "interests": ["Books", "Home"]},
    )
    session.add(contact)
    session.commit()
    session.add_all(
        [
            CustomFieldDefinition(
                workspace_id=workspace_id,
                entity="contact",
                key="lifetime_value",
                label="Lifetime value",
                type="number",
            ),
            CustomFieldDefinition(
                workspace_id=workspace_id,
                entity="contact",
                key="interests",
                label="Interests",
                type="multi_select",
                options=["Books", "Home", "Travel"],
            ),
        ]
    )
    session.commit()
    segment = create_segment(
        session,
        workspace_id,
        "Big readers",
        {
            "match": "all",
            "conditions": [
                {"field": "cf.lifetime_value", "operator": "gte", "value": 1000},
                {"field": "cf.interests", "operator": "has_any_of", "value": ["Travel"]},
                {"field": "has_conversations", "operator": "is", "value": False},
                {"field": "created_at", "operator": "within_last_days", "value": 30},
                {"field": "notes", "operator": "contains", "value": "book"},
            ],
        },
    )
    session.commit()
    assert segment.id is not None
    explanation = explain_segment(session, workspace_id, contact.id, segment.id)
    assert explanation.member is False
    lines = [(c.words, c.holds, c.value) for c in explanation.checks]
    assert lines[:3] == [
        ("Lifetime value ≥ 1000", True, "1,250"),
        ("Interests has any of Travel", False, "Books, Home"),
        ("Has conversations is no", True, "no conversations"),
    ]
    created = explanation.checks[3]
    assert (created.words, created.holds) == ("Created at within the last 30 days", True)
    assert created.value_time == contact.created_at.isoformat()
    assert lines[4] == ("Notes contain book", False, "no notes")


def test_another_workspaces_contact_or_segment_is_not_explained(
    session, workspace_id, make_workspace
):
    contact = Contact(workspace_id=workspace_id, name="Here")
    session.add(contact)
    session.commit()
    segment = create_segment(
        session,
        workspace_id,
        "Named Here",
        {"conditions": [{"field": "name", "operator": "equals", "value": "Here"}]},
    )
    session.commit()
    other = make_workspace("globex")
    with pytest.raises(NotFound):
        explain_segment(session, other, contact.id, segment.id)
    with pytest.raises(NotFound):
        contact_segments(session, other, contact.id)
    stranger = Contact(workspace_id=other, name="Here")
    session.add(stranger)
    session.commit()
    with pytest.raises(NotFound):
        explain_segment(session, other, stranger.id, segment.id)
    assert explain_segment(session, workspace_id, contact.id, segment.id).member is True


def test_a_broken_segment_says_why_instead_of_guessing(session, workspace_id):
    contact = Contact(workspace_id=workspace_id, name="Broken")
    session.add(contact)
    segment = Segment(
        workspace_id=workspace_id,
        name="Uses a deleted field",
        filter_spec={"conditions": [{"field": "cf.gone", "operator": "equals", "value": "x"}]},
    )
    session.add(segment)
    session.commit()
    explanation = explain_segment(session, workspace_id, contact.id, segment.id)
    assert explanation.problem == "Condition 1: The field “gone” no longer exists."
    assert explanation.member is False and explanation.checks == []
    (line,) = contact_segments(session, workspace_id, contact.id)
    assert line.problem and line.member is False
