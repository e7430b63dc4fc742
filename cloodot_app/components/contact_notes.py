"""The details drawer's Notes section: write a note, and read, edit or delete the notes
(your own; an admin's any), newest first, with author and time."""

from __future__ import annotations

import reflex as rx

from cloodot_app.components.contact_bits import relative_time
from cloodot_app.components.dialogs import confirm_dialog
from cloodot_app.services.notes import MAX_NOTE_LENGTH, NoteLine
from cloodot_app.state.contact_notes import ContactNotesState


def _note_editor() -> rx.Component:
    return rx.vstack(
        rx.text_area(
            value=ContactNotesState.edit_text,
            on_change=ContactNotesState.set_edit_text,
            aria_label="Edit note",
            aria_invalid=ContactNotesState.edit_error != "",
            max_length=MAX_NOTE_LENGTH,
            rows="3",
            width="100%",
            auto_focus=True,
        ),
        rx.cond(
            ContactNotesState.edit_error != "",
            rx.text(ContactNotesState.edit_error, color_scheme="red", size="1", role="alert"),
        ),
        rx.hstack(
            rx.button(
                "Cancel",
                variant="soft",
                color_scheme="gray",
                size="1",
                on_click=ContactNotesState.cancel_edit,
            ),
            rx.button("Save note", size="1", on_click=ContactNotesState.save_edit),
            justify="end",
            width="100%",
        ),
        spacing="2",
        width="100%",
    )


def _note_actions(note: NoteLine) -> rx.Component:
    return rx.hstack(
        rx.icon_button(
            rx.icon("pencil", size=12),
            variant="ghost",
            size="1",
            color_scheme="gray",
            on_click=ContactNotesState.start_edit(note.id),
            aria_label="Edit note by " + note.author,
        ),
        rx.icon_button(
            rx.icon("trash_2", size=12),
            variant="ghost",
            size="1",
            color_scheme="red",
            on_click=ContactNotesState.ask_delete(note.id),
            aria_label="Delete note by " + note.author,
        ),
        spacing="2",
    )


def _note(note: NoteLine) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.hstack(
                rx.text(note.author, size="1", weight="bold"),
                rx.text(relative_time(note.created_at), size="1", color_scheme="gray"),
                rx.cond(
                    note.edited_at != "",
                    rx.text(
                        "· edited ", relative_time(note.edited_at), size="1", color_scheme="gray"
                    ),
                ),
                rx.spacer(),
                rx.cond(
                    note.can_change & (ContactNotesState.editing_id != note.id),
                    _note_actions(note),
                ),
                align="center",
                spacing="2",
                width="100%",
            ),
            rx.cond(
                ContactNotesState.editing_id == note.id,
                _note_editor(),
                rx.text(note.body, size="2", white_space="pre-wrap", overflow_wrap="anywhere"),
            ),
            spacing="1",
            width="100%",
        ),
        list_style="none",
        padding="8px 10px",
        border_radius="8px",
        background=rx.color("amber", 2),
        border=f"1px solid {rx.color('amber', 4)}",
    )


def _new_note() -> rx.Component:
    return rx.vstack(
        rx.text_area(
            value=ContactNotesState.draft,
            on_change=ContactNotesState.set_draft,
            placeholder="Write a note about this contact",
            aria_label="New note",
            aria_invalid=ContactNotesState.draft_error != "",
            max_length=MAX_NOTE_LENGTH,
            rows="2",
            width="100%",
        ),
        rx.cond(
            ContactNotesState.draft_error != "",
            rx.text(ContactNotesState.draft_error, color_scheme="red", size="1", role="alert"),
        ),
        rx.hstack(
            rx.text("Everyone in the workspace can read notes.", size="1", color_scheme="gray"),
            rx.spacer(),
            rx.button(
                rx.icon("plus", size=14),
                "Add note",
                size="1",
                on_click=ContactNotesState.add,
                disabled=ContactNotesState.draft.strip() == "",
            ),
            align="center",
            width="100%",
        ),
        spacing="2",
        width="100%",
    )


def notes_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Notes", size="3", id="notes-title"),
        _new_note(),
        rx.cond(
            ContactNotesState.notes.length() > 0,
            rx.el.ul(
                rx.foreach(ContactNotesState.notes, _note),
                aria_labelledby="notes-title",
                display="flex",
                flex_direction="column",
                gap="8px",
                width="100%",
                margin="0",
                padding="0",
            ),
            rx.text("No notes yet.", size="2", color_scheme="gray"),
        ),
        confirm_dialog(
            "Delete this note?",
            rx.text("The note is removed for everyone. This cannot be undone."),
            "Delete note",
            ContactNotesState.delete,
            ContactNotesState.delete_id != 0,
            ContactNotesState.set_delete_open,
        ),
        spacing="3",
        width="100%",
    )
