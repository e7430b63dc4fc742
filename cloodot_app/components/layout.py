"""The product's frame: a left sidebar (views, settings, who is signed in) and the page.

The sidebar offers only what the member's role may do; the page body shows only once the
tab's session is known (a tab without one is sent to the sign-in page by the guard).
"""

from __future__ import annotations

import reflex as rx

from cloodot_app import routes
from cloodot_app.access import CAPABILITY_WORDS, Capability
from cloodot_app.state.session import SessionState


def can(capability: Capability) -> rx.Var[bool]:
    """True in the page when the signed-in member's role has `capability` (for showing and
    enabling controls; the server checks again on every call)."""
    return SessionState.capabilities.contains(capability.value)


def _nav_link(label: str, icon: str, href: str) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"), align="center", spacing="2"),
        href=href,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        padding_x="10px",
        padding_y="6px",
        border_radius="6px",
        width="100%",
        _hover={"background": rx.color("gray", 4)},
    )


def _section(label: str) -> rx.Component:
    return rx.text(
        label, size="1", weight="bold", color_scheme="gray", padding_x="10px", padding_top="16px"
    )


def _workspace_switcher() -> rx.Component:
    return rx.cond(
        SessionState.workspaces.length() > 1,
        rx.select.root(
            rx.select.trigger(aria_label="Workspace", width="100%"),
            rx.select.content(
                rx.foreach(
                    SessionState.workspaces,
                    lambda w: rx.select.item(w.name, value=w.workspace_id.to_string()),
                )
            ),
            value=SessionState.workspace_id.to_string(),
            on_change=SessionState.switch_workspace,
            size="2",
        ),
        rx.text(SessionState.workspace_name, size="2", weight="medium", padding_x="10px"),
    )


SHORTCUTS = [
    ("/", "Search"),
    ("f", "Open Filters"),
    ("↓ ↑", "Move between the table's rows"),
    ("Enter", "Open the contact in the row"),
    ("Esc", "Close a dialog, drawer or menu; cancel an edit"),
    ("Tab", "Go to the next control (the focused one has a ring)"),
    ("?", "Show this list"),
]


def shortcuts_dialog() -> rx.Component:
    """The list of keyboard shortcuts; "?" anywhere opens it (assets/autoload.js)."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("keyboard", size=14),
                "Keyboard shortcuts",
                variant="ghost",
                color_scheme="gray",
                size="2",
                data_shortcut_list="true",
                margin="0",
                padding_x="10px",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Keyboard shortcuts"),
            rx.dialog.description(
                "Letters work when the cursor is not in a text field.",
                size="2",
                color_scheme="gray",
            ),
            rx.el.dl(
                *[
                    rx.hstack(
                        rx.el.dt(rx.code(key, size="2"), min_width="64px"),
                        rx.el.dd(rx.text(words, size="2"), margin="0"),
                        align="center",
                        spacing="3",
                    )
                    for key, words in SHORTCUTS
                ],
                display="grid",
                gap="10px",
                margin_top="12px",
            ),
            rx.hstack(rx.dialog.close(rx.button("Close")), justify="end", margin_top="16px"),
            max_width="440px",
        ),
    )


def dark_mode_switch() -> rx.Component:
    """Follows the system setting until switched here (then this browser keeps the choice)."""
    return rx.el.label(
        rx.hstack(
            rx.icon("moon", size=14),
            rx.text("Dark mode", size="2"),
            rx.spacer(),
            rx.color_mode.switch(size="1", aria_label="Dark mode"),
            align="center",
            spacing="2",
            width="100%",
        ),
        padding_x="10px",
        width="100%",
    )


def _account() -> rx.Component:
    return rx.vstack(
        shortcuts_dialog(),
        dark_mode_switch(),
        rx.separator(size="4"),
        _workspace_switcher(),
        rx.hstack(
            rx.avatar(fallback=SessionState.initials, size="2", radius="full", variant="soft"),
            rx.vstack(
                rx.text(SessionState.user_name, size="2", weight="medium", trim="both"),
                rx.text(SessionState.role_label, size="1", color_scheme="gray"),
                spacing="0",
                min_width="0",
            ),
            align="center",
            spacing="2",
            padding_x="10px",
        ),
        rx.hstack(
            rx.button(
                rx.icon("log_out", size=14),
                "Sign out",
                variant="ghost",
                color_scheme="gray",
                size="2",
                on_click=SessionState.sign_out,
            ),
            rx.tooltip(
                rx.icon_button(
                    rx.icon("monitor_off", size=14),
                    variant="ghost",
                    color_scheme="gray",
                    size="2",
                    on_click=SessionState.sign_out_everywhere,
                    aria_label="Sign out on every device",
                ),
                content="Sign out on every device",
            ),
            justify="between",
            width="100%",
            padding_x="6px",
        ),
        spacing="2",
        width="100%",
        margin_top="auto",
    )


def _nav_items() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.image(src="/logo.svg", width="28px", height="28px", alt=""),
            rx.heading("Cloodot", size="4", weight="bold"),
            align="center",
            spacing="2",
            padding_x="10px",
            padding_bottom="12px",
        ),
        rx.text("Contacts", size="1", weight="bold", color_scheme="gray", padding_x="10px"),
        _nav_link("All", "users", routes.CONTACTS_ALL),
        _nav_link("Leads", "kanban", routes.LEADS),
        _nav_link("Segments", "layers", routes.SEGMENTS),
        rx.cond(can(Capability.IMPORT), _nav_link("Import", "upload", routes.IMPORT)),
        rx.cond(
            can(Capability.MERGE_CONTACTS),
            _nav_link("Duplicates", "copy", routes.DUPLICATES),
        ),
        rx.cond(
            can(Capability.MANAGE_FIELDS),
            rx.fragment(
                _section("Settings"),
                _nav_link("Labels", "tag", routes.LABELS),
                _nav_link("Custom fields", "list_plus", routes.CUSTOM_FIELDS),
                rx.cond(
                    can(Capability.MANAGE_CHANNELS),
                    _nav_link("Channels", "plug", routes.CHANNELS),
                ),
            ),
        ),
        rx.cond(
            can(Capability.MANAGE_WORKSPACE),
            rx.fragment(
                _section("Workspace"),
                _nav_link("Members", "user_cog", routes.MEMBERS),
                _nav_link("Audit log", "scroll_text", routes.AUDIT_LOG),
            ),
        ),
        _account(),
        spacing="1",
        width="100%",
        height="100%",
    )


def sidebar() -> rx.Component:
    """From tablet width up (768 px): the sidebar beside the page."""
    return rx.el.nav(
        _nav_items(),
        aria_label="Main",
        width="220px",
        min_width="220px",
        height="100vh",
        position="sticky",
        top="0",
        padding="16px 10px",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
        display=["none", "none", "block"],
        overflow_y="auto",
    )


def mobile_bar() -> rx.Component:
    """Below tablet width: a top bar whose menu button opens the same sidebar as a drawer."""
    return rx.el.header(
        rx.hstack(
            rx.drawer.root(
                rx.drawer.trigger(
                    rx.icon_button(
                        rx.icon("menu", size=20),
                        variant="ghost",
                        color_scheme="gray",
                        size="3",
                        aria_label="Menu",
                    )
                ),
                rx.drawer.overlay(
                    z_index="50", position="fixed", inset="0", background="rgba(0, 0, 0, 0.35)"
                ),
                rx.drawer.portal(
                    rx.drawer.content(
                        rx.el.nav(
                            _nav_items(),
                            aria_label="Main",
                            height="100%",
                        ),
                        position="fixed",
                        top="0",
                        left="0",
                        height="100%",
                        width="min(280px, 85vw)",
                        padding="16px 10px",
                        overflow_y="auto",
                        background_color=rx.color("gray", 2),
                        z_index="60",
                        role="dialog",
                        aria_label="Menu",
                    )
                ),
                direction="left",
            ),
            rx.image(src="/logo.svg", width="24px", height="24px", alt=""),
            rx.text("Cloodot", size="3", weight="bold"),
            align="center",
            spacing="2",
            padding="8px 12px",
            border_bottom=f"1px solid {rx.color('gray', 5)}",
            background=rx.color("gray", 2),
            width="100%",
        ),
        position="sticky",
        top="0",
        z_index="30",
        width="100%",
        display=["block", "block", "none"],
    )


def _no_access(capability: Capability) -> rx.Component:
    return rx.callout(
        f"Your role cannot {CAPABILITY_WORDS[capability][0]}. Ask an admin of this workspace.",
        icon="lock",
        color_scheme="amber",
        role="status",
    )


def layout(*children: rx.Component, needs: Capability = Capability.VIEW) -> rx.Component:
    """A page behind sign-in; `needs` is what its role must be able to do to see it."""
    body = rx.vstack(*children, spacing="4", width="100%")
    return rx.cond(
        SessionState.signed_in,
        rx.flex(
            mobile_bar(),
            sidebar(),
            rx.el.main(
                rx.cond(can(needs), body, _no_access(needs)) if needs != Capability.VIEW else body,
                flex="1",
                min_width="0",
                width="100%",
                padding=["16px 12px 96px", "16px 16px 96px", "24px 28px"],
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            align="start",
            width="100%",
            min_height="100vh",
        ),
        rx.center(rx.spinner(size="3"), min_height="100vh", aria_label="Loading"),
    )
