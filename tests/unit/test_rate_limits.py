"""Rate limits as clients meet them (in-memory adapters): the RateLimit-* headers on every
answer of a limited route, 429 with Retry-After over the limit, per client address, per
email and per user."""

from __future__ import annotations

import pytest

from ocp.container import Container
from ocp.domain.users import Role
from tests.builders import PASSWORD, app_client, signed_up, test_settings


@pytest.fixture
async def limited(tmp_path):
    container = Container.for_settings(
        test_settings(
            tmp_path,
            rate_limit_register="3/hour",
            rate_limit_mail="2/hour",
            rate_limit_writes="2/minute",
        )
    )
    async with app_client(container) as client:
        yield client, container


def register_body(n: int) -> dict[str, str]:
    return {"email": f"limited{n}@example.com", "password": PASSWORD, "full_name": "Limited"}


async def test_registering_is_limited_per_client_address(limited):
    client, _ = limited
    remaining = []
    for n in range(3):
        made = await client.post("/api/v1/auth/register", json=register_body(n))
        assert made.status_code == 201
        assert made.headers["ratelimit-limit"] == "3"
        assert 0 < int(made.headers["ratelimit-reset"]) <= 3600
        remaining.append(made.headers["ratelimit-remaining"])
    assert remaining == ["2", "1", "0"]
    refused = await client.post("/api/v1/auth/register", json=register_body(9))
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert refused.headers["ratelimit-remaining"] == "0"
    # Refused before it was read: not even a malformed body gets further.
    garbage = await client.post(
        "/api/v1/auth/register", content=b"{", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 429


async def test_mail_requests_are_limited_per_email_and_per_address(limited):
    client, _ = limited
    for _ in range(2):
        asked = await client.post(
            "/api/v1/auth/password-reset/request", json={"email": "a@example.com"}
        )
        assert asked.status_code == 202 and asked.headers["ratelimit-limit"] == "2"
    third = await client.post(
        "/api/v1/auth/password-reset/request", json={"email": "A@example.com"}
    )
    assert third.status_code == 429 and int(third.headers["retry-after"]) > 0
    # Another address still may, until this client address has asked 4 x 2 = 8 times.
    statuses = []
    for n in range(6):
        answer = await client.post(
            "/api/v1/auth/password-reset/request", json={"email": f"other{n}@example.com"}
        )
        statuses.append(answer.status_code)
    assert statuses == [202, 202, 202, 202, 202, 429]


async def test_posts_are_limited_per_user(limited):
    client, container = limited
    one = await signed_up(client, container, Role.INSTRUCTOR)
    two = await signed_up(client, container, Role.INSTRUCTOR)
    for _ in range(2):
        made = await client.post("/api/v1/courses", json={"title": "A"}, headers=one.auth)
        assert made.status_code == 201 and made.headers["ratelimit-limit"] == "2"
    refused = await client.post("/api/v1/courses", json={"title": "A"}, headers=one.auth)
    assert refused.status_code == 429 and "retry-after" in refused.headers
    other = await client.post("/api/v1/courses", json={"title": "B"}, headers=two.auth)
    assert other.status_code == 201  # a budget per user
    reading = await client.get("/api/v1/users/me", headers=one.auth)
    assert reading.status_code == 200 and "ratelimit-limit" not in reading.headers


async def test_the_account_export_spends_the_writes_budget(limited):
    """An export reads every record of the caller's: it counts as a write, not a free read."""
    client, container = limited
    me = await signed_up(client, container)
    for _ in range(2):
        export = await client.get("/api/v1/users/me/export", headers=me.auth)
        assert export.status_code == 200 and export.headers["ratelimit-remaining"] in ("0", "1")
    refused = await client.get("/api/v1/users/me/export", headers=me.auth)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
