"""The identity routes over HTTP on in-memory adapters: statuses, problem bodies, headers."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from ocp.container import Container
from ocp.domain.users import Role
from tests.builders import (
    JWT_SECRET,
    PASSWORD,
    app_client,
    login,
    signed_up,
    test_settings,
    work_off,
)

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert body["status"] == status
    text = response.text.lower()
    assert "traceback" not in text and "pymongo" not in text and "/work/" not in text
    return body


async def register(client, **fields):
    body = {"email": "new@example.com", "password": PASSWORD, "full_name": "New Person"}
    body.update(fields)
    return await client.post("/api/v1/auth/register", json=body)


async def test_register_then_log_in_then_read_me(client):
    created = await register(client, email="Mixed@Example.com")
    assert created.status_code == 201
    user = created.json()
    assert user["role"] == "student" and user["email_verified"] is False
    assert "password" not in created.text and "hash" not in created.text
    assert user["created_at"].endswith("Z")
    answer = await client.post(
        "/api/v1/auth/token", data={"username": "mixed@example.com", "password": PASSWORD}
    )
    assert answer.headers["cache-control"] == "no-store"  # never kept by a browser or proxy
    tokens = answer.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["id"] == user["id"]
    assert me.headers["etag"] == '"1"'
    assert me.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "fields",
    [
        {"role": "admin"},
        {"email": {"$ne": None}},
        {"password": {"$gt": ""}},
        {"email": "not-an-email"},
        {"password": "short"},
        {"password": "x" * 129},
        {"full_name": "n" * 101},
        {"email": "a" * 250 + "@example.com"},
    ],
)
async def test_bad_registrations_are_422_and_store_nothing(client, container, fields):
    body = assert_problem(await register(client, **fields), 422)
    assert body["errors"] and all({"loc", "msg", "type"} <= e.keys() for e in body["errors"])
    assert await container.users().get_by_email("new@example.com") is None


async def test_malformed_json_is_422(client):
    response = await client.post(
        "/api/v1/auth/register", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 422)


async def test_json_over_the_size_limit_is_413_before_parsing(client):
    huge = json.dumps({"email": "a@b.co", "password": PASSWORD, "full_name": "x" * 1_100_000})
    response = await client.post(
        "/api/v1/auth/register", content=huge, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


async def test_failed_logins_are_401_problems_then_429_with_retry_after(client, container):
    await signed_up(client, container, email="target@example.com")
    for _ in range(5):
        failed = await client.post(
            "/api/v1/auth/token", data={"username": "target@example.com", "password": "guess!!!"}
        )
        assert_problem(failed, 401)
        assert failed.headers["www-authenticate"] == "Bearer"
    blocked = await client.post(
        "/api/v1/auth/token", data={"username": "target@example.com", "password": PASSWORD}
    )
    assert_problem(blocked, 429)
    assert int(blocked.headers["retry-after"]) > 0


def _forged(claims_change: dict, key: str = JWT_SECRET, alg: str = "HS256") -> str:
    claims = {
        "sub": "x",
        "sid": "s",
        "gen": 0,
        "iat": 1_700_000_000,
        "exp": 4_000_000_000,
        "iss": "ocp",
        "aud": "ocp-api",
        "jti": "j",
    }
    claims.update(claims_change)
    return jwt.encode(claims, key, algorithm=alg)


def _alg_none(account_id: str) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    header = part({"alg": "none", "typ": "JWT"})
    payload = part(
        {
            "sub": account_id,
            "sid": "s",
            "gen": 0,
            "iat": 1,
            "exp": 4_000_000_000,
            "jti": "j",
            "iss": "ocp",
            "aud": "ocp-api",
        }
    )
    return f"{header}.{payload}."


async def test_forged_expired_and_unsigned_tokens_are_401_with_www_authenticate(client, container):
    account = await signed_up(client, container)
    bad_tokens = [
        "garbage",
        _forged({"sub": account.id}, key="another-key-that-is-also-long-enough-0123456789"),
        _forged({"sub": account.id, "exp": 1_700_000_100}),
        _forged({"sub": account.id, "aud": "someone-else"}),
        _alg_none(account.id),
    ]
    for token in bad_tokens:
        response = await client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    missing = await client.get("/api/v1/users/me")
    assert_problem(missing, 401)
    assert missing.headers["www-authenticate"] == "Bearer"


async def test_a_spent_reset_token_is_a_400_problem_and_requests_answer_202_alike(
    client, container
):
    await signed_up(client, container, email="forgetful@example.com")
    for email in ("forgetful@example.com", "nobody@example.com", "not-even-an-email"):
        response = await client.post("/api/v1/auth/password-reset/request", json={"email": email})
        assert response.status_code == 202 and response.content == b""
    await work_off(container)
    token = container.mailer().sent[0].text.split("Your token:\n\n  ")[1].split("\n")[0]
    confirm = {"token": token, "new_password": "my new password"}
    done = await client.post("/api/v1/auth/password-reset/confirm", json=confirm)
    assert done.status_code == 204
    assert_problem(await client.post("/api/v1/auth/password-reset/confirm", json=confirm), 400)


async def test_a_profile_patch_answers_its_new_etag_and_a_stale_if_match_is_412(client, container):
    account = await signed_up(client, container)
    edited = await client.patch("/api/v1/users/me", json={"bio": "I teach"}, headers=account.auth)
    assert edited.status_code == 200 and edited.json()["bio"] == "I teach"
    assert edited.headers["etag"] == '"2"'
    stale = await client.patch(
        "/api/v1/users/me", json={"bio": "x"}, headers={**account.auth, "If-Match": '"1"'}
    )
    assert_problem(stale, 412)
    fresh = await client.patch(
        "/api/v1/users/me",
        json={"bio": "y"},
        headers={**account.auth, "If-Match": edited.headers["etag"]},
    )
    assert fresh.status_code == 200 and fresh.headers["etag"] == '"3"'


@pytest.mark.parametrize(
    "if_match",
    [
        b'"\xb2"',  # "²": str.isdigit() says yes, int() says no
        b'"\xd9\xa1"',  # the Arabic-Indic digit one, as UTF-8
        b'"' + b"9" * 5000 + b'"',  # more digits than int() converts
        b'"1' + b"0" * 18 + b'"',  # 19 digits: no version gets there
        b'"-1"',
        b'""',
    ],
    ids=["superscript-two", "arabic-indic-one", "5000-digits", "19-digits", "negative", "empty"],
)
async def test_an_if_match_naming_no_version_is_412_never_500(client, container, if_match):
    account = await signed_up(client, container)
    response = await client.patch(
        "/api/v1/users/me", json={"bio": "x"}, headers={**account.auth, "If-Match": if_match}
    )
    assert_problem(response, 412)
    me = (await client.get("/api/v1/users/me", headers=account.auth)).json()
    assert me["bio"] == ""


@pytest.mark.parametrize(
    "body",
    [{"role": "admin"}, {"email_verified": True}, {"bio": {"$set": "x"}}, {"is_active": False}],
)
async def test_profile_patch_refuses_fields_it_does_not_name(client, container, body):
    account = await signed_up(client, container)
    assert_problem(await client.patch("/api/v1/users/me", json=body, headers=account.auth), 422)
    me = (await client.get("/api/v1/users/me", headers=account.auth)).json()
    assert me["role"] == "student" and me["is_active"] is True and me["bio"] == ""


async def test_listing_users_is_403_to_a_student_and_pages_with_a_link_header(client, container):
    admin = await signed_up(client, container, Role.ADMIN)
    student = await signed_up(client, container)
    assert_problem(await client.get("/api/v1/users", headers=student.auth), 403)
    listed = await client.get("/api/v1/users?limit=1", headers=admin.auth)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 1
    assert listed.json()["next_cursor"] and 'rel="next"' in listed.headers["link"]


async def test_administering_takes_a_role_by_name_and_unknown_users_or_roles_are_problems(
    client, container
):
    admin = await signed_up(client, container, Role.ADMIN)
    student = await signed_up(client, container)
    promoted = await client.patch(
        f"/api/v1/users/{student.id}", json={"role": "instructor"}, headers=admin.auth
    )
    assert promoted.status_code == 200 and promoted.json()["role"] == "instructor"
    assert promoted.headers["etag"] == '"2"'
    assert_problem(
        await client.patch(f"/api/v1/users/{student.id}", json={"role": "god"}, headers=admin.auth),
        422,
    )
    assert_problem(await client.get("/api/v1/users/nobody", headers=admin.auth), 404)


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "cursor=%%%"])
async def test_bad_paging_parameters(client, container, query):
    admin = await signed_up(client, container, Role.ADMIN)
    response = await client.get(f"/api/v1/users?{query}", headers=admin.auth)
    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code)


async def test_every_response_carries_the_common_headers(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "cache-control" not in response.headers
    generated = await client.get("/nowhere")
    assert_problem(generated, 404)
    assert len(generated.headers["x-request-id"]) >= 16


async def test_readiness_and_openapi(client):
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["failed"] == []
    spec = (await client.get("/openapi.json")).json()
    token_route = spec["paths"]["/api/v1/auth/token"]["post"]
    assert token_route["summary"] and token_route["tags"] == ["auth"]
    assert "429" in token_route["responses"]
    assert (
        spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"][
            "tokenUrl"
        ]
        == "/api/v1/auth/token"
    )
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_bootstrap_admin_from_settings(tmp_path):
    settings = test_settings(
        tmp_path, bootstrap_admin_email="root@example.com", bootstrap_admin_password="root password"
    )
    async with app_client(Container.for_settings(settings)) as http:
        root = await login(http, "root@example.com", "root password")
        me = (await http.get("/api/v1/users/me", headers=root.auth)).json()
        assert me["role"] == "admin"


async def test_cors_allows_only_configured_origins(tmp_path):
    settings = test_settings(tmp_path, cors_origins="https://app.example.com")
    async with app_client(Container.for_settings(settings)) as http:
        allowed = await http.get("/healthz", headers={"Origin": "https://app.example.com"})
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        other = await http.get("/healthz", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers


async def test_each_session_route_answers_as_documented(client, container):
    """The status and body of every account route's success, one request each: refresh,
    verification, password change and logout (their rules are use-case tests)."""
    account = await signed_up(client, container, email="routes@example.com")
    pair = await client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert pair.status_code == 200 and pair.headers["cache-control"] == "no-store"
    assert pair.headers["pragma"] == "no-cache"
    assert pair.json()["token_type"] == "bearer" and pair.json()["refresh_token"]
    auth = {"Authorization": f"Bearer {pair.json()['access_token']}"}
    asked = await client.post("/api/v1/auth/verify-email/request", headers=auth)
    assert asked.status_code == 202
    await work_off(container)
    token = container.mailer().sent[-1].text.split("Your token:\n\n  ")[1].split("\n")[0]
    confirmed = await client.post("/api/v1/auth/verify-email/confirm", json={"token": token})
    assert confirmed.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=auth)).json()["email_verified"] is True
    changed = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "another secret"},
        headers=auth,
    )
    assert changed.status_code == 204
    out = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": pair.json()["refresh_token"]}, headers=auth
    )
    assert out.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=auth)).status_code == 401
