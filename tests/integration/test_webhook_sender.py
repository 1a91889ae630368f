"""The HTTP webhook sender against real receivers on this machine: what a receiver gets
(body, headers, the Host of the URL), what the sender makes of its answers (errors,
redirects, huge and slow bodies), and the SSRF policy (loopback, metadata, http, DNS
answers that point inside), including that the connection goes to the checked address."""

from __future__ import annotations

import asyncio
import datetime
import http.server
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ocp.adapters.webhooks import HttpWebhookSender
from ocp.domain.errors import RuleViolated

HUGE_BODY_BYTES = 32 * 1024 * 1024  # more than loopback socket buffers can swallow
HOOK_HOST = "hooks.example.test"
HEADERS = {
    "content-type": "application/json",
    "webhook-id": "evt_1",
    "webhook-timestamp": "1700000000",
    "webhook-signature": "v1,abc=",
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 whose answer depends on the path."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    huge_done: threading.Event = field(default_factory=threading.Event)
    huge_written: int = 0
    server_names: list[str | None] = field(default_factory=list)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def handler_for(receiver: Receiver) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            receiver.requests.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            if self.path == "/fail":
                self.answer(500)
            elif self.path == "/redirect":
                self.send_response(302)
                self.send_header("location", receiver.url("/target"))
                self.send_header("content-length", "0")
                self.end_headers()
            elif self.path == "/huge":
                self.answer_huge()
            elif self.path == "/slow":
                receiver.release.wait(5)
                self.answer(200)
            else:
                self.answer(200)

        def answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def answer_huge(self) -> None:
            self.send_response(200)
            self.send_header("content-length", str(HUGE_BODY_BYTES))
            self.end_headers()
            chunk = b"x" * 65536
            try:
                while receiver.huge_written < HUGE_BODY_BYTES:
                    self.wfile.write(chunk)
                    receiver.huge_written += len(chunk)
            except OSError:  # the sender hung up: it stopped reading
                pass
            finally:
                receiver.huge_done.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class QuietServer(http.server.ThreadingHTTPServer):
    """A receiver that keeps quiet about clients that hang up (as the sender does on
    purpose) instead of printing their tracebacks."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def serve(server: QuietServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def serving() -> Iterator[tuple[Receiver, QuietServer]]:
    receiver = Receiver()
    server = QuietServer(("127.0.0.1", 0), handler_for(receiver))
    receiver.port = server.server_address[1]
    serve(server)
    yield receiver, server
    receiver.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver(serving: tuple[Receiver, QuietServer]) -> Iterator[Receiver]:
    shared = serving[0]
    shared.requests.clear()
    yield shared
    shared.release.set()  # let a held answer go, so its thread ends
    shared.release = threading.Event()


@pytest.fixture
async def make_sender() -> AsyncIterator[Callable[..., HttpWebhookSender]]:
    made: list[HttpWebhookSender] = []

    def make(**kwargs: Any) -> HttpWebhookSender:
        options: dict[str, Any] = {"allow_http": True, "allow_private": True, **kwargs}
        made.append(HttpWebhookSender(**options))
        return made[-1]

    yield make
    for sender in made:
        await sender.close()


def answer_lookups(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """Stand in for DNS: each host in `answers` resolves to its addresses, any other host is
    unknown. Returns the hosts looked up, in order."""
    looked_up: list[str] = []

    async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        looked_up.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (a, port),
            )
            for a in answers[host]
        ]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    return looked_up


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- delivering ---------------------------------------------------------------------------


async def test_receiver_gets_the_body_the_headers_and_the_host_of_the_url(
    receiver: Receiver, make_sender: Callable[..., HttpWebhookSender]
) -> None:
    sender = make_sender()
    body = '{"type":"course.published","title":"Überblick"}'.encode()

    outcome = await sender.send(receiver.url(), body, HEADERS)

    assert outcome.succeeded and outcome.status_code == 200 and outcome.error is None
    [got] = receiver.requests
    assert got.body == body
    assert {k: got.headers[k] for k in HEADERS} == HEADERS
    assert got.headers["user-agent"] == "OCP-Webhooks/1"
    assert got.headers["host"] == f"127.0.0.1:{receiver.port}"


async def test_an_error_status_is_an_outcome(
    receiver: Receiver, make_sender: Callable[..., HttpWebhookSender]
) -> None:
    outcome = await make_sender().send(receiver.url("/fail"), b"{}", HEADERS)

    assert outcome.status_code == 500 and not outcome.succeeded


async def test_a_redirect_is_not_followed(
    receiver: Receiver, make_sender: Callable[..., HttpWebhookSender]
) -> None:
    outcome = await make_sender().send(receiver.url("/redirect"), b"{}", HEADERS)

    assert outcome.status_code == 302 and not outcome.succeeded
    assert receiver.paths() == ["/redirect"]  # the target received nothing


async def test_a_huge_answer_is_not_read_to_the_end(
    receiver: Receiver, make_sender: Callable[..., HttpWebhookSender]
) -> None:
    receiver.huge_written = 0
    receiver.huge_done.clear()

    outcome = await make_sender().send(receiver.url("/huge"), b"{}", HEADERS)

    assert outcome.status_code == 200
    assert await asyncio.to_thread(receiver.huge_done.wait, 5)
    assert receiver.huge_written < HUGE_BODY_BYTES


async def test_a_slow_receiver_times_out(
    receiver: Receiver, make_sender: Callable[..., HttpWebhookSender]
) -> None:
    outcome = await make_sender(timeout_s=0.5).send(receiver.url("/slow"), b"{}", HEADERS)

    assert outcome.status_code is None
    assert outcome.error == "timed out after 0.5 s"


async def test_a_closed_port_is_connection_refused(
    make_sender: Callable[..., HttpWebhookSender],
) -> None:
    outcome = await make_sender().send(f"http://127.0.0.1:{free_port()}/", b"{}", HEADERS)

    assert outcome == type(outcome)(None, "connection refused")


# --- the address policy -------------------------------------------------------------------


async def test_loopback_is_refused_unless_private_addresses_are_allowed(
    receiver: Receiver, make_sender: Callable[..., HttpWebhookSender]
) -> None:
    sender = make_sender(allow_private=False)

    with pytest.raises(RuleViolated) as refused:
        await sender.check_url(receiver.url())
    outcome = await sender.send(receiver.url(), b"{}", HEADERS)

    assert refused.value.field == "url"
    assert refused.value.detail == "refused address 127.0.0.1 (loopback)"
    assert outcome.status_code is None
    assert outcome.error == "refused address 127.0.0.1 (loopback)"
    assert receiver.requests == []


async def test_a_hostname_resolving_to_loopback_is_refused(
    receiver: Receiver, make_sender: Callable[..., HttpWebhookSender]
) -> None:
    sender = make_sender(allow_private=False)
    url = receiver.url(host="localhost")

    with pytest.raises(RuleViolated, match="loopback"):
        await sender.check_url(url)
    outcome = await sender.send(url, b"{}", HEADERS)

    assert outcome.error is not None and "(loopback)" in outcome.error
    assert receiver.requests == []


async def test_an_ipv4_mapped_loopback_address_is_refused(
    receiver: Receiver, make_sender: Callable[..., HttpWebhookSender]
) -> None:
    url = receiver.url(host="[::ffff:127.0.0.1]")

    with pytest.raises(RuleViolated, match=r"\(loopback\)"):
        await make_sender(allow_private=False).check_url(url)


@pytest.mark.parametrize("allow_private", [False, True])
async def test_the_metadata_address_is_refused_always(
    make_sender: Callable[..., HttpWebhookSender], allow_private: bool
) -> None:
    sender = make_sender(allow_private=allow_private)
    url = "http://169.254.169.254/latest/meta-data/"

    with pytest.raises(RuleViolated, match=r"169\.254\.169\.254 \(link-local\)"):
        await sender.check_url(url)
    outcome = await sender.send(url, b"{}", HEADERS)

    assert outcome.error == "refused address 169.254.169.254 (link-local)"


async def test_one_private_answer_among_public_ones_is_refused(
    monkeypatch: pytest.MonkeyPatch, make_sender: Callable[..., HttpWebhookSender]
) -> None:
    answer_lookups(monkeypatch, {HOOK_HOST: ["93.184.215.14", "10.0.0.7"]})

    with pytest.raises(RuleViolated, match=r"refused address 10\.0\.0\.7 \(private\)"):
        await make_sender(allow_private=False).check_url(f"https://{HOOK_HOST}/hook")


async def test_https_is_required_unless_http_is_allowed(
    receiver: Receiver, make_sender: Callable[..., HttpWebhookSender]
) -> None:
    sender = make_sender(allow_http=False)

    with pytest.raises(RuleViolated, match="https") as refused:
        await sender.check_url(receiver.url())
    outcome = await sender.send(receiver.url(), b"{}", HEADERS)

    assert refused.value.field == "url"
    assert outcome.status_code is None and outcome.error is not None and "https" in outcome.error
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("ftp://hooks.example.com/", "https"),
        ("hooks.example.com/hook", "https"),
        ("https://user:secret@hooks.example.com/", "user name or password"),
        ("https:///hook", "no host"),
        ("https://[::1/", "malformed"),
    ],
)
async def test_urls_that_may_not_be_called(
    make_sender: Callable[..., HttpWebhookSender], url: str, detail: str
) -> None:
    with pytest.raises(RuleViolated, match=detail):
        await make_sender().check_url(url)


async def test_a_host_that_does_not_resolve(
    monkeypatch: pytest.MonkeyPatch, make_sender: Callable[..., HttpWebhookSender]
) -> None:
    answer_lookups(monkeypatch, {})
    sender = make_sender()

    with pytest.raises(RuleViolated, match="could not resolve host nowhere.example.test"):
        await sender.check_url("https://nowhere.example.test/hook")
    outcome = await sender.send("https://nowhere.example.test/hook", b"{}", HEADERS)

    assert outcome.error == "could not resolve host nowhere.example.test"


async def test_the_connection_goes_to_the_checked_address_under_the_hostname(
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    make_sender: Callable[..., HttpWebhookSender],
) -> None:
    # Only one lookup is answered: a second one (by the HTTP client, after the check) would
    # fail, and a rebinding DNS server could have answered it with anything.
    looked_up = answer_lookups(monkeypatch, {HOOK_HOST: ["127.0.0.1"]})
    sender = make_sender()

    outcome = await sender.send(receiver.url(host=HOOK_HOST), b"{}", HEADERS)

    assert outcome.succeeded
    assert looked_up == [HOOK_HOST]
    [got] = receiver.requests
    assert got.headers["host"] == f"{HOOK_HOST}:{receiver.port}"


async def test_a_hostname_rebound_to_loopback_is_refused(
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    make_sender: Callable[..., HttpWebhookSender],
) -> None:
    answer_lookups(monkeypatch, {HOOK_HOST: ["127.0.0.1"]})

    outcome = await make_sender(allow_private=False).send(
        receiver.url(host=HOOK_HOST), b"{}", HEADERS
    )

    assert outcome.error == "refused address 127.0.0.1 (loopback)"
    assert receiver.requests == []


# --- TLS: the name checked is the hostname, though the connection is to an address ----------


@dataclass(frozen=True)
class Authority:
    certificate_pem: bytes
    server_context: ssl.SSLContext


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    """A certificate authority of the test's own, and a certificate for HOOK_HOST only."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OCP test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOOK_HOST)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOOK_HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder: Path = tmp_path_factory.mktemp("tls")
    (folder / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (folder / "leaf.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(folder / "leaf.pem", folder / "leaf.key")
    return Authority(ca.public_bytes(serialization.Encoding.PEM), server_context)


@pytest.fixture
def tls_receiver(authority: Authority) -> Iterator[Receiver]:
    receiver = Receiver()
    context = authority.server_context

    def note_name(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
        receiver.server_names.append(name)

    context.sni_callback = note_name
    server = QuietServer(("127.0.0.1", 0), handler_for(receiver))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    receiver.port = server.server_address[1]
    serve(server)
    yield receiver
    server.shutdown()
    server.server_close()


async def test_tls_is_verified_for_the_hostname_over_a_connection_to_the_address(
    tls_receiver: Receiver,
    authority: Authority,
    monkeypatch: pytest.MonkeyPatch,
    make_sender: Callable[..., HttpWebhookSender],
) -> None:
    answer_lookups(monkeypatch, {HOOK_HOST: ["127.0.0.1"]})
    trusting = ssl.create_default_context(cadata=authority.certificate_pem.decode())
    sender = make_sender(allow_http=False, ssl_context=trusting)

    outcome = await sender.send(f"https://{HOOK_HOST}:{tls_receiver.port}/hook", b"{}", HEADERS)

    assert outcome.succeeded
    assert tls_receiver.server_names == [HOOK_HOST]
    [got] = tls_receiver.requests
    assert got.headers["host"] == f"{HOOK_HOST}:{tls_receiver.port}"


async def test_an_untrusted_certificate_is_a_tls_error(
    tls_receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    make_sender: Callable[..., HttpWebhookSender],
) -> None:
    answer_lookups(monkeypatch, {HOOK_HOST: ["127.0.0.1"]})

    outcome = await make_sender(allow_http=False).send(
        f"https://{HOOK_HOST}:{tls_receiver.port}/hook", b"{}", HEADERS
    )

    assert outcome.status_code is None
    assert outcome.error is not None and outcome.error.startswith("TLS error")
    assert tls_receiver.server_names == [HOOK_HOST]
    assert tls_receiver.requests == []


async def test_a_certificate_for_another_name_is_a_tls_error(
    tls_receiver: Receiver,
    authority: Authority,
    monkeypatch: pytest.MonkeyPatch,
    make_sender: Callable[..., HttpWebhookSender],
) -> None:
    answer_lookups(monkeypatch, {"other.example.test": ["127.0.0.1"]})
    trusting = ssl.create_default_context(cadata=authority.certificate_pem.decode())

    outcome = await make_sender(allow_http=False, ssl_context=trusting).send(
        f"https://other.example.test:{tls_receiver.port}/hook", b"{}", HEADERS
    )

    assert outcome.error is not None and outcome.error.startswith("TLS error")
    assert tls_receiver.requests == []
