"""The outbox and SMTP mailers: what lands on disk or on the wire, and a server that is down."""

from __future__ import annotations

import email
import socket
import socketserver
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from ocp.adapters.mail.outbox import OutboxMailer
from ocp.adapters.mail.smtp import SmtpMailer
from ocp.application.ports.common import DependencyUnavailable
from ocp.application.ports.identity import MailMessage

RESET = MailMessage(to="ada@example.com", subject="Reset your password", text="Your code: 1234\n")


def outbox_files(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def read_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def test_the_outbox_writes_one_readable_message_per_mail(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"  # not there yet: the mailer makes it
    mailer = OutboxMailer(outbox)

    await mailer.send(RESET)
    await mailer.send(MailMessage(to="bob@example.com", subject="Verify", text="Welcome\n"))

    files = outbox_files(outbox)
    assert [path.suffix for path in files] == [".eml", ".eml"]  # no temporary file left over
    by_recipient = {str(read_eml(path)["To"]): read_eml(path) for path in files}
    reset = by_recipient["ada@example.com"]
    assert reset["Subject"] == "Reset your password"
    assert reset["From"] == "OCP <no-reply@ocp.local>"
    assert reset["Date"] is not None and reset["Message-ID"] is not None
    assert reset.get_content() == "Your code: 1234\n"
    assert by_recipient["bob@example.com"].get_content() == "Welcome\n"


async def test_the_outbox_keeps_non_ascii_text_intact(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path, sender="Académie <noreply@academie.example>")

    await mailer.send(
        MailMessage(to="zoë@example.com", subject="Bienvenue à l'OCP", text="Café ☕\n")
    )

    (path,) = outbox_files(tmp_path)
    message = read_eml(path)
    assert message["Subject"] == "Bienvenue à l'OCP"
    assert message["To"] == "zoë@example.com"
    assert message["From"] == "Académie <noreply@academie.example>"
    assert message.get_content() == "Café ☕\n"


async def test_an_outbox_that_cannot_be_written_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")

    with pytest.raises(DependencyUnavailable):
        await OutboxMailer(blocker).send(RESET)


class SmtpSink(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib to hand over one message."""

    server: SinkServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self.reply("220 sink ready")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply("250 sink")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.reply("250 ok")
            elif verb == b"DATA":
                self.reply("354 end with a dot")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)
                self.server.received.append(b"".join(lines))
                self.reply("250 queued")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class SinkServer(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpSink)
        self.received: list[bytes] = []


@pytest.fixture
def smtp_sink() -> Iterator[SinkServer]:
    server = SinkServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


async def test_smtp_delivers_the_message_to_the_server(smtp_sink: SinkServer) -> None:
    mailer = SmtpMailer("127.0.0.1", port=smtp_sink.server_address[1], starttls=False)

    await mailer.send(RESET)

    (raw,) = smtp_sink.received
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Reset your password"
    assert message.get_content().replace("\r\n", "\n") == "Your code: 1234\n"


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_smtp_server_is_unavailable(closed_port: int) -> None:
    mailer = SmtpMailer("127.0.0.1", port=closed_port, starttls=False, timeout_s=2)

    with pytest.raises(DependencyUnavailable) as caught:
        await mailer.send(RESET)
    assert caught.value.dependency == "mail server"


async def test_a_server_without_starttls_is_unavailable_rather_than_sent_in_clear(
    smtp_sink: SinkServer,
) -> None:
    mailer = SmtpMailer("127.0.0.1", port=smtp_sink.server_address[1], starttls=True)

    with pytest.raises(DependencyUnavailable):
        await mailer.send(RESET)
    assert smtp_sink.received == []
