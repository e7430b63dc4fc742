"""Operator commands: `python -m cloodot_app.admin --help`.

    create-user --email E --name N --role admin --workspace demo [--password-stdin]
    invite      --email E --role agent --workspace demo
    reset-link  --email E
    list-users
    rotate-token --workspace demo

They run as the server itself (no sign-in), on the database DATABASE_URL names, migrated
first. Links are printed (and mailed when CLOODOT_SMTP_URL is set, for invitations).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from typing import TextIO

import sqlalchemy as sa
from sqlmodel import Session, select

from cloodot_app.access import Role
from cloodot_app.db import make_engine, migrate, session_scope
from cloodot_app.errors import MailError, UserError
from cloodot_app.models import Membership, User, Workspace
from cloodot_app.services import accounts, audit, mail
from cloodot_app.services.workspaces import (
    ensure_workspace,
    rotate_ingest_token,
    workspace_by_slug,
)
from cloodot_app.settings import settings

ROLES = [role.value for role in Role]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cloodot_app.admin", description="Cloodot Contacts: accounts and workspaces."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    create = commands.add_parser(
        "create-user",
        help="create a user (or add an existing one) as a member of a workspace",
    )
    create.add_argument("--email", required=True)
    create.add_argument("--name", default="")
    create.add_argument("--role", choices=ROLES, default=Role.ADMIN.value)
    create.add_argument(
        "--workspace", default="demo", help="workspace slug (created if missing; default demo)"
    )
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )

    invite = commands.add_parser("invite", help="invite an email to a workspace; prints the link")
    invite.add_argument("--email", required=True)
    invite.add_argument("--role", choices=ROLES, default=Role.AGENT.value)
    invite.add_argument("--workspace", default="demo")

    reset = commands.add_parser("reset-link", help="print a one-hour password reset link")
    reset.add_argument("--email", required=True)

    commands.add_parser("list-users", help="every user with their workspaces and roles")

    rotate = commands.add_parser(
        "rotate-token", help="new ingestion token for a workspace (the old one stops at once)"
    )
    rotate.add_argument("--workspace", required=True)
    return parser


def _read_password(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> str:
    if args.password_stdin:
        return stdin.readline().rstrip("\r\n")
    if not stdin.isatty():
        raise UserError("No terminal to ask for the password on: use --password-stdin.")
    first = getpass.getpass("Password: ", stream=out)
    if getpass.getpass("Password again: ", stream=out) != first:
        raise UserError("The two passwords differ.")
    return first


def _create_user(session: Session, args: argparse.Namespace, stdin: TextIO, out: TextIO) -> None:
    workspace = workspace_by_slug(session, args.workspace)
    if workspace is None:
        workspace = ensure_workspace(session, args.workspace)
        print(f"Created workspace {workspace.slug}.", file=out)
    user = accounts.user_by_email(session, args.email)
    if user is None:
        password = _read_password(args, stdin, out)
        user = accounts.create_user(session, args.email, args.name, password)
        print(f"Created user {user.email}.", file=out)
    else:
        print(f"{user.email} already has an account (its password is unchanged).", file=out)
    if any(m.user_id == user.id for m in accounts.list_members(session, workspace.id)):
        # change_role keeps the workspace's last admin (and ends the member's sessions).
        accounts.change_role(session, workspace.id, None, user.id, args.role)
    else:
        accounts.add_member(session, workspace.id, user.id, args.role)
        audit.record(
            session,
            workspace.id,
            None,
            "members.add",
            f"{user.email} added as {Role(args.role).label} (admin command)",
            {"email": user.email, "role": args.role},
        )
    print(f"{user.email} is {Role(args.role).label} of {workspace.slug}.", file=out)


def _invite(session: Session, args: argparse.Namespace) -> tuple[str, str, str]:
    workspace = workspace_by_slug(session, args.workspace)
    if workspace is None:
        raise UserError(f"No workspace {args.workspace!r}.")
    invitation, token = accounts.invite(session, workspace.id, None, args.email, args.role)
    return invitation.email, workspace.name, accounts.invitation_link(token)


def _reset_link(session: Session, args: argparse.Namespace) -> str:
    token = accounts.request_password_reset(session, args.email, rate_limited=False)
    if token is None:
        raise UserError(f"No active account with the email {args.email}.")
    return accounts.password_reset_link(token)


def _list_users(session: Session, out: TextIO) -> None:
    rows = session.execute(
        sa.select(User.email, User.name, User.disabled_at, Workspace.slug, Membership.role)
        .outerjoin(Membership, Membership.user_id == User.id)
        .outerjoin(Workspace, Workspace.id == Membership.workspace_id)
        .order_by(User.email, Workspace.slug)
    ).all()
    users: dict[str, tuple[str, bool, list[str]]] = {}
    for email, name, disabled_at, slug, role in rows:
        _, _, places = users.setdefault(email, (name, disabled_at is not None, []))
        if slug:
            places.append(f"{slug}:{role}")
    if not users:
        print("No users yet: create one with create-user.", file=out)
    for email, (name, disabled, places) in users.items():
        state = " (disabled)" if disabled else ""
        print(f"{email}\t{name}\t{', '.join(places) or '-'}{state}", file=out)


def _rotate(session: Session, args: argparse.Namespace) -> str:
    workspace = session.exec(select(Workspace).where(Workspace.slug == args.workspace)).first()
    if workspace is None:
        raise UserError(f"No workspace {args.workspace!r}.")
    return rotate_ingest_token(session, workspace.id)


def main(
    argv: Sequence[str] | None = None,
    *,
    database_url: str | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    args = _parser().parse_args(argv)
    stdin, out, err = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    url = database_url or settings.database_url
    migrate(url)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            if args.command == "create-user":
                _create_user(session, args, stdin, out)
            elif args.command == "invite":
                invited, workspace_name, link = _invite(session, args)
            elif args.command == "reset-link":
                print(_reset_link(session, args), file=out)
            elif args.command == "list-users":
                _list_users(session, out)
            elif args.command == "rotate-token":
                print(_rotate(session, args), file=out)
        if args.command == "invite":
            # After the commit: the link must work by the time the mail arrives.
            print(link, file=out)
            try:
                if mail.send_invitation(invited, workspace_name, "", link):
                    print(f"Mailed to {invited}.", file=out)
            except MailError as error:
                print(f"Not mailed: {error}", file=err)
    except UserError as error:
        print(f"error: {error}", file=err)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
