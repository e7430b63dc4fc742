"""The Segments page and the All Contacts segment selector hold the service's typed rows."""

from __future__ import annotations

import cloodot_app.db as db
from cloodot_app.services.segments import SegmentSummary, create_segment
from cloodot_app.state.contacts import ContactsState
from cloodot_app.state.segments import SegmentEditorState, SegmentsState
from tests.state.conftest import run

WHATSAPP = {
    "match": "all",
    "conditions": [{"field": "channel", "operator": "is", "value": "whatsapp"}],
}


def add_segment(workspace_id: int, name: str, spec: dict) -> int:
    with db.session_scope() as session:
        return create_segment(session, workspace_id, name, spec).id


def test_the_segments_page_holds_rows_with_counts(tab, workspace):
    segment_id = add_segment(workspace, "On WhatsApp", WHATSAPP)
    state = tab.of(SegmentsState)
    run(SegmentsState.load, state)
    (row,) = state.segments
    assert isinstance(row, SegmentSummary)
    # 23 contacts over four channels in turn: numbers 0, 4, … 20 are on WhatsApp.
    assert (row.id, row.name, row.rules, row.count) == (
        segment_id,
        "On WhatsApp",
        "Channel is whatsapp",
        6,
    )
    assert row.filter_spec == WHATSAPP and row.problem == ""


def test_the_editor_opens_a_segment_from_its_row(tab, workspace):
    segment_id = add_segment(workspace, "On WhatsApp", WHATSAPP)
    editor = tab.of(SegmentEditorState)
    run(SegmentEditorState.open_edit, editor, segment_id)
    assert (editor.is_open, editor.segment_id, editor.name) == (True, segment_id, "On WhatsApp")
    assert [draft.field for draft in editor.drafts] == ["channel"]
    # Another id: a toast, nothing opens.
    editor.is_open = False
    assert run(SegmentEditorState.open_edit, editor, 2**70) is not None
    assert editor.is_open is False


def test_the_segment_banner_words_come_with_the_rows(tab, workspace):
    segment_id = add_segment(workspace, "On WhatsApp", WHATSAPP)
    state = tab.of(ContactsState)
    run(ContactsState.load_segments, state)
    assert [s.name for s in state.segments] == ["On WhatsApp"]
    run(ContactsState.select_segment, state, str(segment_id))
    run(ContactsState.load, state)
    assert (state.total, state.segment_rules) == (6, "Channel is whatsapp")
    assert state.active_segment.name == "On WhatsApp"
    run(ContactsState.clear_segment, state)
    run(ContactsState.select_segment, state, "0")
    run(ContactsState.load, state)
    assert (state.total, state.segment_rules) == (23, "")
