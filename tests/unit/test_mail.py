"""Mail really goes out over SMTP: a local SMTP server (aiosmtpd) started by the test
receives it."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller

from cloodot_app.errors import MailError
from cloodot_app.services import mail

SENDER = "Cloodot <no-reply@cloodot.example>"


@dataclass
class Sink:
    """Keeps every message the server accepted."""

    port: int = 0
    received: list[tuple[str, list[str], email.message.EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def sink() -> Iterator[Sink]:
    handler = Sink(port=free_port())
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


def test_a_mail_is_delivered_to_the_smtp_server(sink):
    sent = mail.send_mail(
        "ana@acme.example", "Hello", "Body line\n", smtp_url=sink.url, mail_from=SENDER
    )
    assert sent is True
    [(mail_from, recipients, message)] = sink.received
    assert mail_from == "no-reply@cloodot.example"
    assert recipients == ["ana@acme.example"]
    assert message["Subject"] == "Hello"
    assert message["From"] == SENDER
    assert message.get_content().splitlines() == ["Body line"]


def test_an_invitation_mail_carries_the_link(sink):
    link = "http://localhost:3000/accept-invitation?token=abc"
    assert mail.send_invitation(
        "new@acme.example", "Acme", "Ada", link, smtp_url=sink.url, mail_from=SENDER
    )
    [(_, recipients, message)] = sink.received
    assert recipients == ["new@acme.example"]
    assert message["Subject"] == "You are invited to Acme"
    body = message.get_content()
    assert link in body and "Ada invited you to the workspace Acme" in body


def test_a_reset_mail_carries_the_link(sink):
    link = "http://localhost:3000/reset-password?token=xyz"
    assert mail.send_password_reset("ana@acme.example", link, smtp_url=sink.url, mail_from=SENDER)
    [(_, _, message)] = sink.received
    assert message["Subject"] == "Reset your password"
    assert link in message.get_content()


def test_without_a_server_nothing_is_sent_and_the_caller_shows_the_link(sink, monkeypatch):
    import dataclasses

    monkeypatch.setattr(
        mail, "settings", dataclasses.replace(mail.settings, smtp_url=None, mail_from=None)
    )
    assert mail.mail_configured() is False
    assert mail.send_mail("ana@acme.example", "Hi", "x") is False
    assert mail.send_mail("ana@acme.example", "Hi", "x", smtp_url=sink.url) is False  # no sender
    assert sink.received == []
    monkeypatch.setattr(
        mail, "settings", dataclasses.replace(mail.settings, smtp_url=sink.url, mail_from=SENDER)
    )
    assert mail.mail_configured() is True
    assert mail.send_mail("ana@acme.example", "Hi", "x") is True
    assert len(sink.received) == 1


def test_a_password_is_never_sent_without_encryption(sink):
    """The sink offers no STARTTLS: the mail is refused before any password goes out."""
    url = f"smtp://mailer:secret@127.0.0.1:{sink.port}"
    with pytest.raises(MailError, match="no encryption"):
        mail.send_mail("ana@acme.example", "Hi", "x", smtp_url=url, mail_from=SENDER)
    assert sink.received == []


def test_an_unreachable_server_is_a_clear_error():
    url = f"smtp://127.0.0.1:{free_port()}"
    with pytest.raises(MailError, match="did not take the message"):
        mail.send_mail("ana@acme.example", "Hi", "x", smtp_url=url, mail_from=SENDER)


def test_a_malformed_smtp_url_is_explained():
    with pytest.raises(MailError, match="smtp://user:password@host:587"):
        mail.send_mail("a@acme.example", "Hi", "x", smtp_url="http://x", mail_from=SENDER)
