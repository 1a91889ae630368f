"""Webhook signatures as receivers check them (the `standardwebhooks` reference library and
the Standard Webhooks test vector), and the address policy that decides which hosts a
webhook may reach."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from ocp.adapters.webhooks.addresses import refused_reason, resolve
from ocp.domain.webhooks import new_secret, signature

SECRET = new_secret(bytes(range(32)))
OTHER_SECRET = new_secret(bytes(range(100, 132)))


def signed_headers(message_id: str, timestamp: int, signatures: str) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


@pytest.mark.parametrize(
    "body",
    [
        b'{"type":"course.published","data":{"id":"c1"}}',
        '{"title":"Überblick: 日本語の講座 🎓"}'.encode(),
        b"",
        b"\x00\xff not even UTF-8",
    ],
)
def test_reference_library_verifies_our_signature(body: bytes) -> None:
    now = int(time.time())
    headers = signed_headers("evt_1", now, signature(SECRET, "evt_1", now, body))

    Webhook(SECRET).verify(body, headers, json_parse=False)


def test_signature_matches_the_standard_webhooks_test_vector() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    message_id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    timestamp = 1614265330
    body = b'{"test": 2432232314}'

    ours = signature(secret, message_id, timestamp, body)

    assert ours == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert ours == Webhook(secret).sign(message_id, datetime.fromtimestamp(timestamp, tz=UTC), body)


def test_signature_under_another_secret_or_body_does_not_verify() -> None:
    now = int(time.time())
    body = b'{"a":1}'
    headers = signed_headers("evt_1", now, signature(SECRET, "evt_1", now, body))

    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER_SECRET).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(b'{"a":2}', headers)


def test_two_signatures_after_a_rotation_verify_with_either_secret() -> None:
    now = int(time.time())
    body = b'{"type":"webhook.ping"}'
    pair = " ".join(signature(s, "evt_2", now, body) for s in (SECRET, OTHER_SECRET))
    headers = signed_headers("evt_2", now, pair)

    assert Webhook(SECRET).verify(body, headers) == {"type": "webhook.ping"}
    assert Webhook(OTHER_SECRET).verify(body, headers) == {"type": "webhook.ping"}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret(b"\x07" * 32)).verify(body, headers)


def test_new_secret_is_a_standard_webhooks_secret() -> None:
    secret = new_secret(bytes(32))

    assert secret.startswith("whsec_")
    Webhook(secret)  # the reference library accepts it
    with pytest.raises(ValueError):
        new_secret(bytes(16))


# (address, reason when private ones are refused, reason when they are allowed)
ADDRESS_POLICY = [
    # public
    ("93.184.215.14", None, None),
    ("2606:4700:4700::1111", None, None),
    ("::ffff:93.184.215.14", None, None),
    # loopback
    ("127.0.0.1", "loopback", None),
    ("127.8.9.10", "loopback", None),
    ("::1", "loopback", None),
    ("::ffff:127.0.0.1", "loopback", None),
    # private
    ("10.0.0.7", "private", None),
    ("172.16.0.1", "private", None),
    ("172.31.255.254", "private", None),
    ("192.168.1.1", "private", None),
    ("100.64.0.1", "private", None),
    ("100.127.255.254", "private", None),
    ("fc00::1", "private", None),
    ("fd12:3456::1", "private", None),
    ("::ffff:10.1.2.3", "private", None),
    ("::ffff:192.168.0.1", "private", None),
    ("2002:c0a8:101::1", "private", None),  # 6to4 of 192.168.1.1
    ("64:ff9b::a00:7", "private", None),  # NAT64 of 10.0.0.7
    # link-local: refused even when private addresses are allowed
    ("169.254.169.254", "link-local", "link-local"),
    ("169.254.0.1", "link-local", "link-local"),
    ("fe80::1", "link-local", "link-local"),
    ("febf:ffff::1", "link-local", "link-local"),
    ("::ffff:169.254.169.254", "link-local", "link-local"),
    # multicast
    ("224.0.0.1", "multicast", "multicast"),
    ("239.255.255.250", "multicast", "multicast"),
    ("ff02::1", "multicast", "multicast"),
    # unspecified
    ("0.0.0.0", "unspecified", "unspecified"),
    ("::", "unspecified", "unspecified"),
    ("::ffff:0.0.0.0", "unspecified", "unspecified"),
    # reserved and other special-purpose ranges
    ("240.0.0.1", "reserved", "reserved"),
    ("255.255.255.255", "reserved", "reserved"),
    ("0.1.2.3", "reserved", "reserved"),
    ("192.0.2.10", "reserved", "reserved"),
    ("198.18.0.1", "reserved", "reserved"),
    ("2001:db8::1", "reserved", "reserved"),
    ("::ffff:240.0.0.1", "reserved", "reserved"),
]


@pytest.mark.parametrize(("address", "strict", "lenient"), ADDRESS_POLICY)
def test_address_policy(address: str, strict: str | None, lenient: str | None) -> None:
    ip = ipaddress.ip_address(address)

    assert refused_reason(ip, allow_private=False) == strict
    assert refused_reason(ip, allow_private=True) == lenient


async def test_a_literal_address_is_not_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_lookup(*args: object, **kwargs: object) -> list[object]:
        raise AssertionError("a literal address was looked up")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_lookup)

    assert await resolve("10.0.0.7", 443) == [ipaddress.ip_address("10.0.0.7")]
    assert await resolve("::1", 443) == [ipaddress.ip_address("::1")]
