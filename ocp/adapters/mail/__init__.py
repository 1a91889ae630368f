"""Mail adapters: compose a message once, then drop it in an outbox folder or send it by SMTP."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from ocp.application.ports.identity import MailMessage

DEFAULT_SENDER = "OCP <no-reply@ocp.local>"


def compose(message: MailMessage, sender: str, now: datetime | None = None) -> EmailMessage:
    """The RFC 5322 message both mailers deliver; a header with a line break raises ValueError."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(now or datetime.now(UTC))
    # An explicit domain: make_msgid's default looks up this host's FQDN, which can block on DNS.
    mail["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "ocp.local")
    mail.set_content(message.text)
    return mail
