"""An in-memory webhook sender: keeps every request it was asked to send and answers with
the status codes a test scripts, so the worker's delivery rules run without a network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ocp.application.ports.webhooks import SendOutcome
from ocp.domain.errors import RuleViolated


@dataclass(frozen=True, slots=True)
class SentRequest:
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class InMemoryWebhookSender:
    allow_http: bool = False
    # Hosts treated as resolving to a refused address.
    refused_hosts: set[str] = field(default_factory=set)
    # Status codes to answer, first to last (None: no answer, a network error); then 200.
    answers: list[int | None] = field(default_factory=list)
    sent: list[SentRequest] = field(default_factory=list)

    async def check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "https" and not (self.allow_http and parts.scheme == "http"):
            raise RuleViolated("the endpoint must be an https:// URL", field="url")
        if not parts.hostname:
            raise RuleViolated("the URL names no host", field="url")
        if parts.hostname in self.refused_hosts:
            raise RuleViolated(f"{parts.hostname} resolves to a refused address", field="url")

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendOutcome:
        host = urlsplit(url).hostname or ""
        if host in self.refused_hosts:
            return SendOutcome(None, f"refused address for {host}")
        self.sent.append(SentRequest(url, body, dict(headers)))
        status = self.answers.pop(0) if self.answers else 200
        if status is None:
            return SendOutcome(None, "connection refused")
        return SendOutcome(status)

    async def close(self) -> None:
        return None
