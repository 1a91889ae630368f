"""The production mailer: sends each message through an SMTP server (STARTTLS or TLS)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

import anyio.to_thread

from ocp.adapters.mail import DEFAULT_SENDER, compose
from ocp.application.ports.common import DependencyUnavailable
from ocp.application.ports.identity import MailMessage


class SmtpMailer:
    """One connection per message: mail is rare here, and a held connection would go stale."""

    def __init__(
        self,
        host: str,
        port: int = 587,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        use_ssl: bool = False,
        sender: str = DEFAULT_SENDER,
        timeout_s: float = 10,
    ) -> None:
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        # Implicit TLS (port 465) already encrypts; STARTTLS only applies to a plain connection.
        self._starttls = starttls and not use_ssl
        self._use_ssl = use_ssl
        self._sender = sender
        self._timeout_s = timeout_s

    async def send(self, message: MailMessage) -> None:
        mail = compose(message, self._sender)
        try:
            await anyio.to_thread.run_sync(self._deliver, mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DependencyUnavailable("mail server") from exc

    def _deliver(self, mail: EmailMessage) -> None:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self._use_ssl:
            client = smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout_s, context=context
            )
        else:
            client = smtplib.SMTP(self._host, self._port, timeout=self._timeout_s)
        with client:
            if self._starttls:
                client.starttls(context=context)
            if self._username is not None:
                client.login(self._username, self._password or "")
            client.send_message(mail)
