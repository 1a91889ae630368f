"""Ports of outgoing webhooks: sending one signed request to a subscriber's URL, and deciding
whether a URL may be called at all (the SSRF policy)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """What one delivery attempt got: the status code when a response arrived (any code,
    2xx or not), else None with `error` saying why, in words safe to show an admin
    ("timed out after 10 s", "refused address 10.0.0.7 (private)", "connection refused")."""

    status_code: int | None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender(Protocol):
    async def check_url(self, url: str) -> None:
        """`RuleViolated(field="url")` when `url` may not be called: not https (unless plain
        http is allowed), no host, or a host that resolves to a refused address (loopback,
        private, multicast, reserved unless private ones are allowed; link-local always)."""
        ...

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendOutcome:
        """POST `body` with `headers` to `url`. The host is resolved and checked again, then
        the connection goes to the address that was checked (no second lookup: DNS
        rebinding); redirects are not followed; at most 64 KiB of the response is read;
        the whole attempt ends after 10 s. Faults of the endpoint are an outcome, never
        an exception."""
        ...

    async def close(self) -> None: ...
