"""Identity over HTTP on MongoDB: several app instances on one database behave as one, and a
database that is down gives 503 problems, never a driver's message."""

from __future__ import annotations

import asyncio
import socket
from contextlib import AsyncExitStack

import pytest

from ocp.container import Container
from ocp.domain.users import Role
from ocp.entrypoints.cli import main as cli
from tests.builders import PASSWORD, app_client, login, signed_up, test_settings, work_off


@pytest.fixture(params=[0], ids=["no grace"])
async def two_apps(request, tmp_path, mongo_uri):
    """Two independent containers and apps (as two worker processes would have) on one DB."""
    settings = dict(
        database="mongo",
        mongodb_uri=mongo_uri,
        mongodb_db="shared_identity_test",
        refresh_reuse_grace_s=request.param,
    )
    async with AsyncExitStack() as stack:
        first = Container.for_settings(test_settings(tmp_path / "a", **settings))
        second = Container.for_settings(test_settings(tmp_path / "b", **settings))
        a = await stack.enter_async_context(app_client(first))
        b = await stack.enter_async_context(app_client(second))
        yield (a, first), (b, second)
        await first.mongo_client().drop_database("shared_identity_test")


@pytest.mark.parametrize("two_apps", [10], ids=["10 s grace"], indirect=True)
async def test_two_tabs_refreshing_on_two_instances_share_one_successor(two_apps):
    (a, container_a), (b, _) = two_apps
    account = await signed_up(a, container_a, email="tabs@example.com")
    tab_a = await a.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    tab_b = await b.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert (tab_a.status_code, tab_b.status_code) == (200, 200)
    assert tab_a.json()["refresh_token"] == tab_b.json()["refresh_token"]
    next_pair = await b.post(
        "/api/v1/auth/refresh", json={"refresh_token": tab_a.json()["refresh_token"]}
    )
    assert next_pair.status_code == 200


async def test_a_refresh_token_spent_on_one_instance_is_refused_on_the_other(two_apps):
    (a, container_a), (b, _) = two_apps
    account = await signed_up(a, container_a, email="roamer@example.com")
    rotated = await a.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert rotated.status_code == 200
    replay = await b.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert replay.status_code == 401
    # ... and the replay revoked the family everywhere, the fresh token included.
    fresh = rotated.json()["refresh_token"]
    assert (await a.post("/api/v1/auth/refresh", json={"refresh_token": fresh})).status_code == 401


async def test_login_failures_on_both_instances_add_up_to_one_throttle(two_apps):
    (a, container_a), (b, _) = two_apps
    await signed_up(a, container_a, email="victim@example.com")
    for client in (a, b, a, b, a):
        response = await client.post(
            "/api/v1/auth/token", data={"username": "victim@example.com", "password": "wrong!!!"}
        )
        assert response.status_code == 401
    blocked = await b.post(
        "/api/v1/auth/token", data={"username": "victim@example.com", "password": PASSWORD}
    )
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


async def test_deactivation_on_one_instance_logs_out_on_the_other(two_apps):
    (a, container_a), (b, _) = two_apps
    admin = await signed_up(a, container_a, Role.ADMIN)
    student = await signed_up(a, container_a)
    assert (await b.get("/api/v1/users/me", headers=student.auth)).status_code == 200
    off = await a.patch(
        f"/api/v1/users/{student.id}", json={"is_active": False}, headers=admin.auth
    )
    assert off.status_code == 200
    # B learns it through its change stream (docs/caching.md: milliseconds, p99 under 10 ms
    # in bench/revocation.py); within a second it refuses the token, and then for good.
    for _ in range(100):
        if (await b.get("/api/v1/users/me", headers=student.auth)).status_code == 401:
            break
        await asyncio.sleep(0.01)
    for _ in range(5):
        assert (await b.get("/api/v1/users/me", headers=student.auth)).status_code == 401


async def test_the_full_identity_journey_on_mongodb(mongo_client_http, mongo_container):
    client = mongo_client_http
    account = await signed_up(client, mongo_container, email="Journey@Example.com")
    assert (
        await client.post(
            "/api/v1/auth/register",
            json={"email": "journey@example.COM", "password": PASSWORD, "full_name": "Twin"},
        )
    ).status_code == 409
    edited = await client.patch("/api/v1/users/me", json={"bio": "hi"}, headers=account.auth)
    assert edited.status_code == 200 and edited.headers["etag"] == '"2"'
    stale = await client.patch(
        "/api/v1/users/me", json={"bio": "x"}, headers={**account.auth, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    await client.post("/api/v1/auth/password-reset/request", json={"email": "journey@example.com"})
    await work_off(mongo_container)
    token = mongo_container.mailer().sent[-1].text.split("Your token:\n\n  ")[1].split("\n")[0]
    reset = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "new secret!"}
    )
    assert reset.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=account.auth)).status_code == 401
    await login(client, "journey@example.com", "new secret!")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_database_that_is_down_answers_503_problems(tmp_path):
    settings = test_settings(
        tmp_path,
        database="mongo",
        mongodb_uri=f"mongodb://127.0.0.1:{_closed_port()}/?directConnection=true",
        mongodb_timeout_ms=300,
    )
    container = Container.for_settings(settings)
    import httpx

    from ocp.entrypoints.http.app import create_app

    app = create_app(container)  # no lifespan: the database was never up
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": "x@example.com", "password": PASSWORD, "full_name": "X"},
        )
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "database" in response.json()["detail"]
        assert "pymongo" not in response.text and "Timeout" not in response.text
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["failed"] == ["database"]
        assert (await client.get("/healthz")).status_code == 200


def test_the_cli_creates_an_admin_who_can_log_in(tmp_path, mongo_uri, monkeypatch):
    monkeypatch.setenv("OCP_MONGODB_URI", mongo_uri)
    monkeypatch.setenv("OCP_MONGODB_DB", "cli_test")
    monkeypatch.setenv("OCP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OCP_BCRYPT_ROUNDS", "4")
    code = cli(
        [
            "users",
            "create",
            "--role",
            "admin",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--password",
            PASSWORD,
        ]
    )
    assert code == 0
    assert cli(["users", "create", "--email", "OPS@example.com", "--password", PASSWORD]) == 1


async def _as_stored_before_the_email_rules(container, account, email: str) -> None:
    """Rewrite an account as the code before the RFC 5321/6531 rules stored it: the address
    as typed, its key only lower-cased."""
    users = container.mongo_database()["users"]
    await users.update_one(
        {"_id": account.id}, {"$set": {"email": email, "email_key": email.lower()}}
    )


async def test_an_account_stored_with_a_trailing_dot_still_logs_in(
    mongo_client_http, mongo_container
):
    client = mongo_client_http
    account = await signed_up(client, mongo_container, email="dotted@example.com")
    await _as_stored_before_the_email_rules(mongo_container, account, "Dotted@Example.com.")
    twin = await signed_up(client, mongo_container, email="dotted@example.com")
    again = await login(client, "dotted@example.COM.")  # as it always logged in, not the twin
    assert again.id == account.id != twin.id
    edited = await client.patch("/api/v1/users/me", json={"bio": "still me"}, headers=again.auth)
    assert edited.status_code == 200


async def test_an_account_stored_with_a_hidden_character_does_not_break_the_user_list(
    mongo_client_http, mongo_container
):
    client = mongo_client_http
    admin = await signed_up(client, mongo_container, Role.ADMIN)
    hidden = await signed_up(client, mongo_container, email="hidden@example.com")
    await _as_stored_before_the_email_rules(mongo_container, hidden, "hid\u200bden@example.com")
    listed = await client.get("/api/v1/users", params={"limit": 100}, headers=admin.auth)
    assert listed.status_code == 200
    assert hidden.id in [row["id"] for row in listed.json()["items"]]
    one = await client.get(f"/api/v1/users/{hidden.id}", headers=admin.auth)
    assert one.status_code == 200
    off = await client.patch(
        f"/api/v1/users/{hidden.id}", json={"is_active": False}, headers=admin.auth
    )
    assert off.status_code == 200
