"""Webhook deliveries over HTTP with httpx: one pooled client; every attempt resolves the
host, checks every address against the SSRF policy, and connects to the checked address
(the Host header and TLS name stay the hostname), so a DNS answer that changes between the
check and the connection (rebinding) cannot point a delivery inside the network. No
redirects, at most 64 KiB of the answer read, 10 s for the whole attempt."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit

import httpx

from ocp.adapters.webhooks.addresses import IPAddress, refused_reason, resolve
from ocp.application.ports.webhooks import SendOutcome
from ocp.domain.errors import RuleViolated

USER_AGENT = "OCP-Webhooks/1"


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HttpWebhookSender:
    def __init__(
        self,
        *,
        allow_http: bool,
        allow_private: bool,
        timeout_s: float = 10.0,
        max_response_bytes: int = 65_536,
    ) -> None:
        self._allow_http = allow_http
        self._allow_private = allow_private
        self._timeout_s = timeout_s
        self._max_response_bytes = max_response_bytes
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the policy decides alone
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            headers={"user-agent": USER_AGENT},
        )

    async def check_url(self, url: str) -> None:
        try:
            await self._target(url)
        except _Refused as refused:
            raise RuleViolated(refused.reason, field="url") from None

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendOutcome:
        try:
            async with asyncio.timeout(self._timeout_s):
                parts, address = await self._target(url)
                return await self._post(parts, address, body, headers)
        except _Refused as refused:
            return SendOutcome(None, refused.reason)
        except TimeoutError:
            return SendOutcome(None, f"timed out after {self._timeout_s:g} s")
        except httpx.TimeoutException:
            return SendOutcome(None, f"timed out after {self._timeout_s:g} s")
        except httpx.ConnectError as exc:
            return SendOutcome(None, _connect_error(exc))
        except httpx.HTTPError as exc:
            return SendOutcome(None, f"HTTP error: {type(exc).__name__}")

    async def close(self) -> None:
        await self._client.aclose()

    async def _target(self, url: str) -> tuple[SplitResult, IPAddress]:
        """The URL's parts and the address to connect to, or `_Refused` saying why."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise _Refused("the URL is malformed") from None
        if parts.scheme != "https" and not (self._allow_http and parts.scheme == "http"):
            raise _Refused(
                "the endpoint must be an https:// URL"
                + ("" if self._allow_http else " (http:// is not allowed here)")
            )
        if parts.username is not None or parts.password is not None:
            raise _Refused("the URL must not carry credentials")
        host = parts.hostname
        if not host:
            raise _Refused("the URL names no host")
        try:
            addresses = await resolve(host, port or (443 if parts.scheme == "https" else 80))
        except OSError:
            raise _Refused(f"could not resolve host {host}") from None
        if not addresses:
            raise _Refused(f"could not resolve host {host}")
        for address in addresses:
            reason = refused_reason(address, self._allow_private)
            if reason is not None:
                raise _Refused(f"refused address {address} ({reason})")
        return parts, addresses[0]

    async def _post(
        self, parts: SplitResult, address: IPAddress, body: bytes, headers: Mapping[str, str]
    ) -> SendOutcome:
        host = parts.hostname or ""
        literal = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        target = parts._replace(netloc=netloc).geturl()
        host_header = host if parts.port is None else f"{host}:{parts.port}"
        if ":" in host and parts.port is None:  # an IPv6 literal host
            host_header = f"[{host}]"
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        request = self._client.build_request(
            "POST",
            target,
            content=body,
            headers={**headers, "host": host_header},
            extensions=extensions,
        )
        response = await self._client.send(request, stream=True)
        try:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read >= self._max_response_bytes:
                    break
        finally:
            await response.aclose()
        return SendOutcome(response.status_code)


def _connect_error(exc: httpx.ConnectError) -> str:
    cause = exc.__cause__ or exc.__context__
    while cause is not None and not isinstance(cause, OSError | ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLError) or "SSL" in str(exc) or "certificate" in str(exc):
        return "TLS error"
    if isinstance(cause, ConnectionRefusedError) or "refused" in str(exc).lower():
        return "connection refused"
    return "could not connect"
