"""The development mailer: every message becomes one `.eml` file in a folder, nothing is sent."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import anyio.to_thread

from ocp.adapters.mail import DEFAULT_SENDER, compose
from ocp.application.ports.common import DependencyUnavailable
from ocp.application.ports.identity import MailMessage


class OutboxMailer:
    def __init__(self, directory: Path, sender: str = DEFAULT_SENDER) -> None:
        self._directory = directory
        self._sender = sender

    async def send(self, message: MailMessage) -> None:
        now = datetime.now(UTC)
        content = compose(message, self._sender, now).as_bytes()
        # Sortable by time; the random part keeps two messages of the same microsecond apart.
        name = f"{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.eml"
        try:
            await anyio.to_thread.run_sync(self._write, name, content)
        except OSError as exc:
            raise DependencyUnavailable("mail outbox") from exc

    def _write(self, name: str, content: bytes) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        # A reader watching for *.eml must never see half a message: write aside, then rename.
        fd, temp = tempfile.mkstemp(dir=self._directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self._directory / name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
