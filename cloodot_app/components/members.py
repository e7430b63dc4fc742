"""Settings → Members: the members table, pending invitations, the Invite dialog, the
one-time link and token dialogs, and the Channels (ingestion token) section."""

from __future__ import annotations

import reflex as rx

from cloodot_app.access import CAPABILITY_WORDS, ROLE_CAPABILITIES, Capability, Role
from cloodot_app.components.buttons import icon_action
from cloodot_app.components.contact_bits import relative_time
from cloodot_app.components.dialogs import confirm_dialog, dialog_actions, error_alert
from cloodot_app.state.members import (
    ROLE_CHOICES,
    ChannelsState,
    InvitationRow,
    InviteState,
    MemberRow,
    MembersState,
    ResetLinkState,
)

ROLE_COLORS = {Role.ADMIN.value: "iris", Role.MANAGER.value: "teal", Role.AGENT.value: "gray"}
CHANNEL_NAMES = "instagram, facebook, whatsapp or webchat"


def section_heading(title: str, subtitle: str, *actions: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.heading(title, size="4", as_="h2"),
            rx.text(subtitle, size="2", color_scheme="gray"),
            spacing="1",
        ),
        rx.spacer(),
        *actions,
        width="100%",
        align="end",
        margin_top="12px",
    )


def copy_field(value, label: str) -> rx.Component:
    """A read-only field holding a link or a token, with a button that copies it."""
    return rx.hstack(
        rx.input(
            value=value,
            read_only=True,
            aria_label=label,
            width="100%",
            size="2",
            font_family="var(--code-font-family)",
            on_focus=rx.call_script("document.activeElement.select()"),
        ),
        rx.button(
            rx.icon("copy", size=14),
            "Copy",
            variant="soft",
            on_click=[rx.set_clipboard(value), rx.toast.success("Copied to the clipboard.")],
            aria_label=f"Copy {label.lower()}",
        ),
        width="100%",
        spacing="2",
    )


def role_badge(role, label) -> rx.Component:
    return rx.match(
        role,
        *[
            (value, rx.badge(label, color_scheme=color, variant="soft"))
            for value, color in ROLE_COLORS.items()
        ],
        rx.badge(label, variant="soft"),
    )


def _role_select(value, on_change, label, **props) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label=label, min_width="120px", **props),
        rx.select.content(
            *[rx.select.item(text, value=role) for role, text in ROLE_CHOICES],
        ),
        value=value,
        on_change=on_change,
        size="2",
    )


# ------------------------------------------------------------------- what roles may do


def _sentence(words: str) -> str:
    return words[:1].upper() + words[1:]


def roles_help() -> rx.Component:
    """A popover with the capability table (the same one access.py enforces)."""
    header = rx.table.row(
        rx.table.column_header_cell("Capability"),
        *[rx.table.column_header_cell(role.label, text_align="center") for role in Role],
    )
    rows = [
        rx.table.row(
            rx.table.row_header_cell(rx.text(_sentence(CAPABILITY_WORDS[capability][1]), size="1")),
            *[
                rx.table.cell(
                    rx.icon("check", size=14, color=rx.color("green", 10), aria_label="yes")
                    if capability in ROLE_CAPABILITIES[role]
                    else rx.icon("minus", size=14, color=rx.color("gray", 8), aria_label="no"),
                    text_align="center",
                )
                for role in Role
            ],
        )
        for capability in Capability
    ]
    return rx.popover.root(
        rx.popover.trigger(
            rx.button(
                rx.icon("circle_help", size=14),
                "What each role may do",
                variant="ghost",
                size="1",
                color_scheme="gray",
            )
        ),
        rx.popover.content(
            rx.table.root(
                rx.table.header(header),
                rx.table.body(*rows),
                size="1",
                variant="ghost",
            ),
            max_width="560px",
        ),
    )


# ------------------------------------------------------------------- members


def _member_name(member: MemberRow) -> rx.Component:
    return rx.hstack(
        rx.avatar(fallback=member.initials, size="2", radius="full", variant="soft"),
        rx.text(member.name, weight="medium"),
        rx.cond(member.is_you, rx.text("(you)", color_scheme="gray", size="2")),
        rx.cond(member.disabled, rx.badge("disabled", color_scheme="red", variant="soft")),
        align="center",
        spacing="2",
    )


def member_row(member: MemberRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(_member_name(member)),
        rx.table.cell(rx.text(member.email, size="2", color_scheme="gray")),
        rx.table.cell(
            _role_select(
                member.role,
                lambda role: MembersState.change_role(member.user_id, role),
                "Role of " + member.name,
                variant="soft",
                color_scheme=rx.match(member.role, *ROLE_COLORS.items(), "gray"),
            )
        ),
        rx.table.cell(relative_time(member.joined_at), white_space="nowrap"),
        rx.table.cell(
            rx.hstack(
                icon_action(
                    "key_round",
                    "Reset link for " + member.name,
                    ResetLinkState.create(member.user_id),
                ),
                icon_action(
                    "user_x",
                    "Remove " + member.name,
                    MembersState.ask_remove(member.user_id),
                    "red",
                ),
                spacing="1",
                justify="end",
            )
        ),
        align="center",
    )


def members_table() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.el.caption("Members", class_name="sr-only"),
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Name"),
                    rx.table.column_header_cell("Email"),
                    rx.table.column_header_cell("Role"),
                    rx.table.column_header_cell("Joined"),
                    rx.table.column_header_cell(rx.text("Actions", class_name="sr-only")),
                )
            ),
            rx.table.body(rx.foreach(MembersState.members, member_row)),
            variant="surface",
            width="100%",
        ),
        rx.hstack(
            rx.text(
                "A role change or a removal ends that member's open sessions in this "
                "workspace at once.",
                size="1",
                color_scheme="gray",
            ),
            rx.spacer(),
            roles_help(),
            width="100%",
            align="center",
        ),
        width="100%",
        spacing="2",
    )


def remove_member_dialog() -> rx.Component:
    return confirm_dialog(
        rx.cond(
            MembersState.remove_is_you,
            "Remove yourself from this workspace?",
            rx.fragment("Remove ", MembersState.remove_name, " from this workspace?"),
        ),
        rx.vstack(
            rx.cond(
                MembersState.remove_is_you,
                rx.text(
                    "You lose access to this workspace at once and are signed out of it. "
                    "Another admin can invite you again."
                ),
                rx.text(
                    rx.text.strong(MembersState.remove_email),
                    " loses access at once: their open sessions in this workspace end now, "
                    "and any open tab is signed out on its next action. Their account and "
                    "what they did stay (the audit log keeps their name).",
                ),
            ),
            spacing="2",
        ),
        "Remove member",
        MembersState.confirm_remove,
        MembersState.remove_user_id > 0,
        MembersState.set_remove_open,
    )


def own_role_dialog() -> rx.Component:
    return confirm_dialog(
        rx.fragment("Change your own role to ", MembersState.own_role_label, "?"),
        rx.text(
            "Your sessions in this workspace end and you sign in again. As ",
            MembersState.own_role_label,
            " you can no longer manage members, tokens or the audit log.",
        ),
        "Change my role",
        MembersState.confirm_own_role,
        MembersState.own_role != "",
        MembersState.set_own_role_open,
    )


# ------------------------------------------------------------------- invitations


def invitation_row(invitation: InvitationRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(invitation.email, weight="medium")),
        rx.table.cell(role_badge(invitation.role, invitation.role_label)),
        rx.table.cell(
            rx.cond(
                invitation.invited_by != "",
                rx.text(invitation.invited_by, size="2"),
                rx.text("—", color_scheme="gray"),
            )
        ),
        rx.table.cell(relative_time(invitation.created_at), white_space="nowrap"),
        rx.table.cell(relative_time(invitation.expires_at), white_space="nowrap"),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Revoke",
                    variant="soft",
                    color_scheme="red",
                    size="1",
                    on_click=MembersState.revoke_invitation(invitation.id),
                    aria_label="Revoke the invitation of " + invitation.email,
                ),
                justify="end",
            )
        ),
        align="center",
    )


def invitations_table() -> rx.Component:
    return rx.cond(
        MembersState.invitations.length() > 0,
        rx.table.root(
            rx.el.caption("Pending invitations", class_name="sr-only"),
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Email"),
                    rx.table.column_header_cell("Role"),
                    rx.table.column_header_cell("Invited by"),
                    rx.table.column_header_cell("Sent"),
                    rx.table.column_header_cell("Expires"),
                    rx.table.column_header_cell(rx.text("Actions", class_name="sr-only")),
                )
            ),
            rx.table.body(rx.foreach(MembersState.invitations, invitation_row)),
            variant="surface",
            width="100%",
        ),
        rx.card(
            rx.hstack(
                rx.icon("mail_check", size=16, color=rx.color("gray", 9)),
                rx.text(
                    "No invitations are waiting. Invited people appear here until they join.",
                    size="2",
                    color_scheme="gray",
                ),
                align="center",
                spacing="2",
            ),
            variant="surface",
            width="100%",
        ),
    )


def invite_button() -> rx.Component:
    return rx.button(rx.icon("user_plus", size=16), "Invite", on_click=InviteState.open_dialog)


def _labelled(caption: str, control: rx.Component) -> rx.Component:
    return rx.el.label(
        rx.text(caption, size="2", weight="medium", as_="div", margin_bottom="4px"),
        control,
        display="block",
        width="100%",
    )


def _invite_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _labelled(
                "Email",
                rx.input(
                    value=InviteState.email,
                    on_change=InviteState.set_email,
                    type="email",
                    placeholder="name@company.com",
                    auto_focus=True,
                    width="100%",
                ),
            ),
            _labelled(
                "Role",
                _role_select(InviteState.role, InviteState.set_role, "Role", width="100%"),
            ),
            error_alert(InviteState.error),
            dialog_actions(
                rx.button(
                    rx.cond(InviteState.mail_configured, "Send invitation", "Create invitation"),
                    type="submit",
                    loading=InviteState.busy,
                ),
            ),
            spacing="3",
            margin_top="12px",
        ),
        on_submit=InviteState.send,
        reset_on_submit=False,
    )


def _invite_result() -> rx.Component:
    return rx.vstack(
        rx.cond(
            InviteState.mailed,
            rx.callout(
                rx.fragment(
                    "Invitation mailed to ", rx.text.strong(InviteState.invited_email), "."
                ),
                icon="mail_check",
                color_scheme="green",
                width="100%",
            ),
            rx.callout(
                rx.fragment(
                    "Invitation created for ", rx.text.strong(InviteState.invited_email), "."
                ),
                icon="circle_check",
                color_scheme="green",
                width="100%",
            ),
        ),
        error_alert(InviteState.mail_error),
        _labelled("Invitation link", copy_field(InviteState.link, "Invitation link")),
        rx.text(
            "This link works once, for ",
            InviteState.invitation_days,
            ". ",
            rx.cond(
                InviteState.mailed,
                "If the mail does not arrive, send it to them yourself.",
                "Send it to them yourself.",
            ),
            size="2",
            color_scheme="gray",
        ),
        rx.hstack(
            rx.button(
                "Invite another",
                variant="soft",
                color_scheme="gray",
                on_click=InviteState.invite_another,
            ),
            rx.dialog.close(rx.button("Done")),
            justify="end",
            width="100%",
        ),
        spacing="3",
        margin_top="12px",
        width="100%",
    )


def invite_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Invite a member"),
            rx.dialog.description(
                rx.cond(
                    InviteState.mail_configured,
                    "They get a mail with a link to join this workspace with the role you choose.",
                    "You get a link to send them: it lets them join this workspace with the "
                    "role you choose.",
                ),
                size="2",
                color_scheme="gray",
            ),
            rx.cond(InviteState.link != "", _invite_result(), _invite_form()),
            max_width="480px",
        ),
        open=InviteState.is_open,
        on_open_change=InviteState.set_is_open,
    )


# ------------------------------------------------------------------- one-time secrets


def secret_dialog(title, description, field: rx.Component, open_, on_open_change):
    """Shows a link or token once: copy it now, it is not shown again."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(description, size="2", color_scheme="gray"),
            rx.vstack(
                field,
                rx.callout(
                    "Copy it now: it is not shown again.",
                    icon="eye_off",
                    color_scheme="amber",
                    size="1",
                    width="100%",
                ),
                rx.hstack(rx.dialog.close(rx.button("Done")), justify="end", width="100%"),
                spacing="3",
                margin_top="12px",
            ),
            max_width="520px",
        ),
        open=open_,
        on_open_change=on_open_change,
    )


def reset_link_dialog() -> rx.Component:
    return secret_dialog(
        rx.fragment("Password reset link for ", ResetLinkState.name),
        "Send it to them yourself. It works once, within an hour; setting a new password "
        "signs them out everywhere. Any older reset link of theirs no longer works.",
        _labelled("Reset link", copy_field(ResetLinkState.link, "Reset link")),
        ResetLinkState.link != "",
        ResetLinkState.set_is_open,
    )


def new_token_dialog() -> rx.Component:
    return secret_dialog(
        "New ingestion token",
        "Put it in each channel's settings as the Authorization: Bearer token. The old "
        "token already stopped working.",
        _labelled("Ingestion token", copy_field(ChannelsState.new_token, "Ingestion token")),
        ChannelsState.new_token != "",
        ChannelsState.set_token_open,
    )


# ------------------------------------------------------------------- channels


def _setting_row(caption: str, *content: rx.Component) -> rx.Component:
    """Caption beside the value; on a phone, above it."""
    return rx.flex(
        rx.text(caption, size="2", weight="medium", min_width="140px", padding_top="6px"),
        rx.vstack(*content, spacing="1", width="100%", min_width="0"),
        direction=rx.breakpoints(initial="column", sm="row"),
        width="100%",
        align="start",
        gap=rx.breakpoints(initial="2", sm="4"),
    )


def channels_section() -> rx.Component:
    return rx.vstack(
        section_heading(
            "Channels",
            "Your own systems can send messages to this endpoint as JSON; each message "
            "creates or updates a contact. WhatsApp, Messenger, Instagram and WebChat "
            "connect in Settings → Channels.",
        ),
        rx.card(
            rx.vstack(
                _setting_row(
                    "Ingestion endpoint",
                    copy_field("POST " + ChannelsState.endpoint, "Ingestion endpoint"),
                    rx.text(
                        "{channel} is ",
                        CHANNEL_NAMES,
                        ". Send a JSON body with external_id and text.",
                        size="1",
                        color_scheme="gray",
                    ),
                ),
                rx.separator(size="4"),
                _setting_row(
                    "Token",
                    rx.hstack(
                        rx.code(
                            ChannelsState.masked_token,
                            size="3",
                            variant="soft",
                            color_scheme="gray",
                            aria_label="Ingestion token, ending in " + ChannelsState.token_hint,
                        ),
                        rx.spacer(),
                        rx.button(
                            rx.icon("refresh_cw", size=14),
                            "Rotate token",
                            flex_shrink="0",
                            variant="soft",
                            color_scheme="red",
                            on_click=ChannelsState.ask_rotate,
                        ),
                        align="center",
                        width="100%",
                        wrap="wrap",
                    ),
                    rx.text(
                        "Channels send it as Authorization: Bearer <token>. Only its last "
                        "4 characters are shown.",
                        size="1",
                        color_scheme="gray",
                    ),
                ),
                spacing="4",
                width="100%",
            ),
            width="100%",
            size=rx.breakpoints(initial="2", sm="3"),
        ),
        confirm_dialog(
            "Rotate the ingestion token?",
            rx.text(
                "A new token is made and shown to you once. Channels using the old token "
                "stop working at once, until their settings have the new one."
            ),
            "Rotate token",
            ChannelsState.rotate,
            ChannelsState.confirm_open,
            ChannelsState.set_confirm_open,
        ),
        new_token_dialog(),
        width="100%",
        spacing="3",
    )
