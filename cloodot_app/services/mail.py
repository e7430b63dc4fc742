"""Outgoing mail (invitations, password resets) over SMTP, when a server is configured.

CLOODOT_SMTP_URL is `smtp://user:pass@host:587` (STARTTLS when the server offers it; a
password is only ever sent encrypted) or `smtps://user:pass@host:465` (TLS from the start);
CLOODOT_MAIL_FROM is the sender. Without both, nothing is sent and the functions return
False: the caller shows the link to the admin, or the operator prints it with
`python -m cloodot_app.admin`. Blocking (smtplib): call it from a worker thread.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from cloodot_app.errors import MailError
from cloodot_app.settings import settings

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
TIMEOUT_SECONDS = 15


def mail_configured(smtp_url: str | None = None, mail_from: str | None = None) -> bool:
    return bool((smtp_url or settings.smtp_url) and (mail_from or settings.mail_from))


def send_mail(
    to: str,
    subject: str,
    body: str,
    *,
    smtp_url: str | None = None,
    mail_from: str | None = None,
) -> bool:
    """Send a plain-text mail. False when no mail server is configured; `MailError` when
    the server could not be reached or refused it."""
    smtp_url = smtp_url or settings.smtp_url
    mail_from = mail_from or settings.mail_from
    if not (smtp_url and mail_from):
        return False
    url = urlsplit(smtp_url)
    if url.scheme not in DEFAULT_PORTS or not url.hostname:
        raise MailError("CLOODOT_SMTP_URL must look like smtp://user:password@host:587.")
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    port = url.port or DEFAULT_PORTS[url.scheme]
    context = ssl.create_default_context()
    try:
        if url.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                url.hostname, port, timeout=TIMEOUT_SECONDS, context=context
            )
        else:
            client = smtplib.SMTP(url.hostname, port, timeout=TIMEOUT_SECONDS)
        with client:
            client.ehlo()
            encrypted = url.scheme == "smtps"
            if not encrypted and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
                encrypted = True
            if url.username:
                if not encrypted:
                    raise MailError(
                        "The mail server offers no encryption (STARTTLS): the password "
                        "was not sent."
                    )
                client.login(unquote(url.username), unquote(url.password or ""))
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("mail to %s not sent: %s", to, error)
        raise MailError(f"The mail server did not take the message ({error}).") from error
    return True


def send_invitation(
    to: str, workspace_name: str, inviter_name: str, link: str, **server: str | None
) -> bool:
    who = inviter_name or "An admin"
    body = (
        f"{who} invited you to the workspace {workspace_name} on Cloodot Contacts.\n\n"
        f"Open this link to join (it works once, for a few days):\n{link}\n\n"
        "If you did not expect this invitation, ignore this mail.\n"
    )
    return send_mail(to, f"You are invited to {workspace_name}", body, **server)


def send_password_reset(to: str, link: str, **server: str | None) -> bool:
    body = (
        "Someone (hopefully you) asked to reset your Cloodot Contacts password.\n\n"
        f"Open this link within an hour to choose a new one (it works once):\n{link}\n\n"
        "If you did not ask, ignore this mail: your password stays as it is.\n"
    )
    return send_mail(to, "Reset your password", body, **server)
