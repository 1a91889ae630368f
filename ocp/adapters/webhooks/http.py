"""Webhook deliveries over HTTP with httpx: one pooled client; every attempt resolves the
host, checks every address against the SSRF policy, and connects to a checked address
(the Host header and the TLS name stay the hostname), so a DNS answer that changes between
the check and the connection (rebinding) cannot point a delivery inside the network. No
redirects, at most 64 KiB of the answer read, 10 s for the whole attempt."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx

from ocp.adapters.webhooks.addresses import IPAddress, refused_reason, resolve
from ocp.application.ports.webhooks import SendOutcome
from ocp.domain.errors import RuleViolated

USER_AGENT = "OCP-Webhooks/1"


class _Refused(Exception):
    """The URL may not be called; `reason` is written for the admin who registered it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Target:
    """A URL that passed the policy, and the addresses its host resolved to, all checked."""

    url: httpx.URL
    addresses: list[IPAddress]

    @property
    def is_https(self) -> bool:
        return self.url.scheme == "https"


class HttpWebhookSender:
    """The `WebhookSender` port over HTTP(S). `allow_http` and `allow_private` are for
    development (a receiver on the same machine); `ssl_context` replaces the default trust
    store (tests bring their own certificate authority)."""

    def __init__(
        self,
        *,
        allow_http: bool,
        allow_private: bool,
        timeout_s: float = 10.0,
        max_response_bytes: int = 65_536,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._allow_http = allow_http
        self._allow_private = allow_private
        self._timeout_s = timeout_s
        self._max_response_bytes = max_response_bytes
        self._client = httpx.AsyncClient(
            verify=ssl_context if ssl_context is not None else True,
            follow_redirects=False,  # a redirect could lead anywhere: it is just an answer
            trust_env=False,  # no proxy or CA bundle from the environment: the policy decides
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    async def check_url(self, url: str) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._target(url)
        except _Refused as refused:
            raise RuleViolated(refused.reason, field="url") from None
        except TimeoutError:
            raise RuleViolated(
                f"could not resolve host within {self._timeout_s:g} s", field="url"
            ) from None

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendOutcome:
        deadline = asyncio.get_running_loop().time() + self._timeout_s
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._post(await self._target(url), body, headers)
            try:
                await self._drain(response, deadline)
            finally:
                await response.aclose()
            return SendOutcome(response.status_code)
        except _Refused as refused:
            return SendOutcome(None, refused.reason)
        except (TimeoutError, httpx.TimeoutException):
            return SendOutcome(None, f"timed out after {self._timeout_s:g} s")
        except httpx.ConnectError as exc:
            return SendOutcome(None, _connect_error(exc))
        except httpx.RemoteProtocolError:
            return SendOutcome(None, "the endpoint did not answer in valid HTTP")
        except httpx.NetworkError:
            return SendOutcome(None, "connection lost")
        except httpx.HTTPError as exc:
            return SendOutcome(None, f"HTTP error ({type(exc).__name__})")
        except httpx.InvalidURL:
            return SendOutcome(None, "the URL is malformed")

    async def close(self) -> None:
        await self._client.aclose()

    async def _target(self, url: str) -> _Target:
        """Parse `url`, resolve its host and check every address (one bad answer among good
        ones is enough to refuse: a later lookup might prefer it), or `_Refused`."""
        parsed = self._allowed_url(url)
        host = parsed.raw_host.decode("ascii")  # IDNA-encoded, as DNS and TLS want it
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = await resolve(host, port)
        except (OSError, UnicodeError):  # gaierror; an IDNA label that cannot be encoded
            raise _Refused(f"could not resolve host {parsed.host}") from None
        if not addresses:
            raise _Refused(f"could not resolve host {parsed.host}")
        for address in addresses:
            reason = refused_reason(address, self._allow_private)
            if reason is not None:
                raise _Refused(f"refused address {address} ({reason})")
        return _Target(parsed, addresses)

    def _allowed_url(self, url: str) -> httpx.URL:
        """The URL parsed once, by the same parser that will build the request, so no
        difference between two parsers can make the checked host differ from the called one."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise _Refused("the URL is malformed") from None
        if parsed.scheme != "https" and not (self._allow_http and parsed.scheme == "http"):
            raise _Refused(
                "the endpoint must be an https:// URL"
                + ("" if self._allow_http else " (http:// is not allowed here)")
            )
        if parsed.userinfo:
            raise _Refused("the URL must not carry a user name or password")
        if not parsed.host:
            raise _Refused("the URL names no host")
        if parsed.port is not None and not 0 < parsed.port < 65_536:
            raise _Refused("the URL's port is out of range")
        return parsed

    async def _post(
        self, target: _Target, body: bytes, headers: Mapping[str, str]
    ) -> httpx.Response:
        """POST to each checked address in turn until one takes the connection; the
        response is open (streamed) for `_drain`."""
        failure: httpx.ConnectError | None = None
        for address in target.addresses:
            try:
                return await self._client.send(
                    self._request(target, address, body, headers), stream=True
                )
            except httpx.ConnectError as exc:  # the next address may be reachable
                failure = exc
        assert failure is not None  # `_target` never returns without an address
        raise failure

    def _request(
        self, target: _Target, address: IPAddress, body: bytes, headers: Mapping[str, str]
    ) -> httpx.Request:
        """A request to the address itself (no second lookup), naming the host as the URL
        did: the Host header, and for https the TLS server name, which httpcore uses both
        for SNI and for checking the certificate."""
        wire_headers = {
            **headers,
            "host": target.url.netloc.decode("ascii"),  # host[:port], IPv6 in brackets
            "user-agent": USER_AGENT,
        }
        extensions: dict[str, str] = {}
        if target.is_https:
            extensions["sni_hostname"] = target.url.raw_host.decode("ascii")
            # The pool keys connections by address: a kept-alive one, verified for this
            # host, would carry the next delivery to another host on the same address
            # (a shared CDN or load balancer) under the wrong name.
            wire_headers["connection"] = "close"
        return self._client.build_request(
            "POST",
            target.url.copy_with(host=str(address)),
            content=body,
            headers=wire_headers,
            extensions=extensions,
        )

    async def _drain(self, response: httpx.Response, deadline: float) -> None:
        """Read the answer up to the size limit, so a small one leaves the connection
        reusable; once the status has arrived, a slow, huge or broken body changes nothing."""
        read = 0
        try:
            async with asyncio.timeout_at(deadline):
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read >= self._max_response_bytes:
                        break
        except (TimeoutError, httpx.HTTPError):
            pass


def _connect_error(exc: httpx.ConnectError) -> str:
    """Why a connection failed, in words for an admin (never the raw exception text)."""
    causes = list(_causes(exc))
    verify = next((c for c in causes if isinstance(c, ssl.SSLCertVerificationError)), None)
    if verify is not None:
        return f"TLS error: {verify.verify_message or 'certificate not trusted'}"
    if any(isinstance(c, ssl.SSLError) for c in causes):
        return "TLS error"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return "connection refused"
    return "could not connect"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and everything it was raised from, including each member of an exception
    group (anyio reports failed connection attempts as one)."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
