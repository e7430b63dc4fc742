"""Sign in, forgot password, set a new password, accept an invitation."""

from __future__ import annotations

import reflex as rx

from cloodot_app import routes
from cloodot_app.access import Role
from cloodot_app.components.auth import (
    auth_card,
    back_to_sign_in,
    form,
    labelled_input,
    submit_button,
    text_link,
)
from cloodot_app.settings import settings
from cloodot_app.state.sign_in import (
    ForgotPasswordState,
    InvitationState,
    ResetPasswordState,
    SignInState,
)


def _demo_buttons() -> rx.Component:
    return rx.vstack(
        rx.separator(size="4"),
        rx.text("Or look around first, with demo data:", size="2", color_scheme="gray"),
        *[
            rx.button(
                f"Try the demo as {role.label}",
                variant="soft",
                size="3",
                width="100%",
                on_click=SignInState.try_demo(role.value),
            )
            for role in (Role.ADMIN, Role.MANAGER, Role.AGENT)
        ],
        spacing="2",
        width="100%",
    )


def sign_in_page() -> rx.Component:
    return auth_card(
        "Sign in",
        "Your workspace's contacts, leads and segments.",
        rx.cond(
            SignInState.notice != "",
            rx.callout(SignInState.notice, icon="info", role="status", width="100%"),
        ),
        form(
            labelled_input("Email", "email", "email", auto_complete="username", required=True),
            labelled_input(
                "Password", "password", "password", auto_complete="current-password", required=True
            ),
            submit_button("Sign in", loading=SignInState.busy),
            on_submit=SignInState.sign_in,
            error=SignInState.error,
        ),
        text_link("Forgot password?", routes.FORGOT_PASSWORD),
        *([_demo_buttons()] if settings.demo_mode else []),
    )


def forgot_password_page() -> rx.Component:
    return auth_card(
        "Forgot your password?",
        "Enter the email you sign in with.",
        rx.cond(
            ForgotPasswordState.sent_message != "",
            rx.callout(ForgotPasswordState.sent_message, icon="mail", role="status"),
            form(
                labelled_input("Email", "email", "email", auto_complete="username", required=True),
                submit_button("Send me a link"),
                on_submit=ForgotPasswordState.request,
                error=ForgotPasswordState.error,
            ),
        ),
        back_to_sign_in(),
    )


def reset_password_page() -> rx.Component:
    return auth_card(
        "Choose a new password",
        "At least 10 characters. Every other session of your account is signed out.",
        rx.cond(
            ResetPasswordState.done,
            rx.callout("Your password is changed. Sign in with it.", icon="check", role="status"),
            form(
                labelled_input(
                    "New password", "password", "password", auto_complete="new-password"
                ),
                labelled_input(
                    "New password again", "password_again", "password", auto_complete="new-password"
                ),
                submit_button("Set password"),
                on_submit=ResetPasswordState.set_new_password,
                error=ResetPasswordState.error,
            ),
        ),
        back_to_sign_in(),
    )


def _invitation_form() -> rx.Component:
    details = InvitationState.details
    return rx.vstack(
        rx.text(
            "You are invited to ",
            rx.text.strong(details.workspace_name),
            " as ",
            rx.text.strong(InvitationState.role_label),
            " (",
            details.email,
            ").",
            size="2",
        ),
        form(
            rx.cond(
                details.has_account,
                rx.text(
                    "You already have an account: enter its password to join.",
                    size="2",
                    color_scheme="gray",
                ),
                labelled_input("Your name", "name", auto_complete="name", required=True),
            ),
            labelled_input(
                "Password",
                "password",
                "password",
                auto_complete=rx.cond(details.has_account, "current-password", "new-password"),
                required=True,
            ),
            submit_button("Join the workspace"),
            on_submit=InvitationState.accept,
            error=InvitationState.error,
        ),
        spacing="3",
        width="100%",
    )


def accept_invitation_page() -> rx.Component:
    return auth_card(
        "Join your team",
        "An invitation to a Cloodot workspace.",
        rx.cond(
            InvitationState.problem != "",
            rx.callout(InvitationState.problem, icon="triangle_alert", color_scheme="red"),
            rx.cond(InvitationState.details, _invitation_form(), rx.spinner()),
        ),
        back_to_sign_in(),
    )
