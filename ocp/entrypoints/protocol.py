"""uvicorn's HTTP protocol with a deadline on request headers: uvicorn times out an idle
keep-alive connection but not one that trickles its headers a byte at a time, so 300 such
connections held 300 sockets and buffers forever. A connection whose request head
is not complete within `OCP_HEADER_TIMEOUT_S` of its first byte (or of connecting) is closed.
A reverse proxy in front should still buffer requests and time them out itself."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ocp.settings import Settings


@functools.cache
def header_timeout_s() -> float:
    return Settings().header_timeout_s


class HeaderDeadlineProtocol(HttpToolsProtocol):
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._await_head()

    def on_headers_complete(self) -> None:
        self._cancel_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._cancel_deadline()
        self._head_deadline = self.loop.call_later(header_timeout_s(), self._head_too_slow)

    def _cancel_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()
