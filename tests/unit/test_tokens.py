"""The JWT access-token issuer: what it signs, what it refuses, and the opaque secret tokens."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from ocp.adapters.security.tokens import JwtTokenIssuer
from ocp.domain.errors import AuthenticationFailed
from ocp.domain.users import Email, Role, User

SECRET = "s" * 64  # long enough for HS512 too, which one test signs with
INVALID = "the access token is invalid or expired"


def a_user(*, role: Role = Role.STUDENT, generation: int = 0) -> User:
    user = User.register(
        id="user-1", email=Email("a@b.co"), name="A", password_hash="x", now=datetime.now(UTC)
    )
    user.role = role
    user.token_generation = generation
    return user


def valid_claims(**changes: Any) -> dict[str, Any]:
    """The claims our issuer would sign, with `changes` applied (None removes a claim)."""
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, Any] = {
        "sub": "user-1",
        "sid": "session-1",
        "gen": 0,
        "role": "student",
        "iat": now,
        "exp": now + 900,
        "iss": "ocp",
        "aud": "ocp-api",
        "jti": "some-jti",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def assert_rejected(issuer: JwtTokenIssuer, token: str) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        issuer.read_access(token, datetime.now(UTC))
    assert caught.value.detail == INVALID


@pytest.fixture
def issuer() -> JwtTokenIssuer:
    return JwtTokenIssuer(SECRET)


def test_an_issued_token_reads_back_as_its_claims(issuer: JwtTokenIssuer) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    user = a_user(role=Role.INSTRUCTOR, generation=3)

    claims = issuer.read_access(issuer.issue_access(user, "session-1", now), now)

    assert claims.user_id == "user-1"
    assert claims.session_id == "session-1"
    assert claims.token_generation == 3
    assert claims.expires_at == now + timedelta(seconds=900)
    assert claims.expires_at.utcoffset() == timedelta(0)


def test_an_issued_token_carries_the_documented_claims(issuer: JwtTokenIssuer) -> None:
    token = issuer.issue_access(a_user(role=Role.ADMIN), "session-1", datetime.now(UTC))

    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert payload["role"] == "admin"
    assert payload["iss"] == "ocp" and payload["aud"] == "ocp-api"
    assert {"sub", "sid", "gen", "iat", "exp", "jti"} <= payload.keys()


def test_two_tokens_for_the_same_session_have_different_ids(issuer: JwtTokenIssuer) -> None:
    now = datetime.now(UTC)
    first = issuer.issue_access(a_user(), "session-1", now)
    second = issuer.issue_access(a_user(), "session-1", now)

    def jti(token: str) -> str:
        return str(jwt.decode(token, options={"verify_signature": False})["jti"])

    assert jti(first) != jti(second)


def test_the_lifetime_is_configurable() -> None:
    issuer = JwtTokenIssuer(SECRET, access_ttl_s=60)
    now = datetime.now(UTC).replace(microsecond=0)

    claims = issuer.read_access(issuer.issue_access(a_user(), "session-1", now), now)

    assert issuer.access_ttl_s == 60
    assert claims.expires_at == now + timedelta(seconds=60)


def test_an_expired_token_is_rejected(issuer: JwtTokenIssuer) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)

    assert_rejected(issuer, issuer.issue_access(a_user(), "session-1", an_hour_ago))


def test_a_token_signed_with_another_key_is_rejected(issuer: JwtTokenIssuer) -> None:
    other = JwtTokenIssuer("o" * 40)

    assert_rejected(issuer, other.issue_access(a_user(), "session-1", datetime.now(UTC)))


def test_a_token_with_a_tampered_payload_is_rejected(issuer: JwtTokenIssuer) -> None:
    token = issuer.issue_access(a_user(generation=0), "session-1", datetime.now(UTC))
    header, _, signature = token.split(".")
    forged = jwt.encode(valid_claims(gen=7), SECRET, algorithm="HS256").split(".")[1]

    assert_rejected(issuer, f"{header}.{forged}.{signature}")


def test_an_unsigned_token_is_rejected(issuer: JwtTokenIssuer) -> None:
    token = jwt.encode(valid_claims(), None, algorithm="none")

    assert_rejected(issuer, token)


def test_a_token_signed_with_another_hmac_algorithm_is_rejected(issuer: JwtTokenIssuer) -> None:
    assert_rejected(issuer, jwt.encode(valid_claims(), SECRET, algorithm="HS512"))


@pytest.mark.parametrize("changes", [{"aud": "another-api"}, {"iss": "someone-else"}])
def test_a_token_for_another_audience_or_from_another_issuer_is_rejected(
    issuer: JwtTokenIssuer, changes: dict[str, Any]
) -> None:
    assert_rejected(issuer, jwt.encode(valid_claims(**changes), SECRET, algorithm="HS256"))


def test_the_issuer_and_audience_are_configurable() -> None:
    issuer = JwtTokenIssuer(SECRET, issuer="ocp-staging", audience="staging-api")
    default = JwtTokenIssuer(SECRET)

    token = issuer.issue_access(a_user(), "session-1", datetime.now(UTC))

    assert issuer.read_access(token, datetime.now(UTC)).user_id == "user-1"
    assert_rejected(default, token)


@pytest.mark.parametrize("missing", ["jti", "exp", "iat", "sub", "sid", "gen", "aud", "iss"])
def test_a_token_missing_a_claim_is_rejected(issuer: JwtTokenIssuer, missing: str) -> None:
    token = jwt.encode(valid_claims(**{missing: None}), SECRET, algorithm="HS256")

    assert_rejected(issuer, token)


@pytest.mark.parametrize(
    "changes",
    [{"sub": 42}, {"sub": ""}, {"sid": 42}, {"gen": "0"}, {"gen": True}, {"gen": -1}],
)
def test_a_token_with_a_claim_of_the_wrong_type_is_rejected(
    issuer: JwtTokenIssuer, changes: dict[str, Any]
) -> None:
    assert_rejected(issuer, jwt.encode(valid_claims(**changes), SECRET, algorithm="HS256"))


@pytest.mark.parametrize("garbage", ["", "garbage", "a.b.c", "Bearer x.y.z", "..."])
def test_garbage_is_rejected(issuer: JwtTokenIssuer, garbage: str) -> None:
    assert_rejected(issuer, garbage)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        JwtTokenIssuer("too short for HS256")


def test_a_secret_token_is_stored_only_as_its_sha256(issuer: JwtTokenIssuer) -> None:
    token, token_hash = issuer.new_secret_token()

    assert token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert issuer.hash_secret_token(token) == token_hash
    assert token not in token_hash
    assert issuer.new_secret_token()[0] != token


def test_a_token_living_longer_than_this_server_issues_is_rejected(issuer: JwtTokenIssuer) -> None:
    """Signed with our key (leaked, or issued under a longer OCP_ACCESS_TOKEN_TTL_S), valid by
    its own exp, but its exp - iat says it was not issued under today's lifetime."""
    now = int(datetime.now(UTC).timestamp())
    week_long = jwt.encode(valid_claims(iat=now, exp=now + 7 * 86400), SECRET, algorithm="HS256")
    assert_rejected(issuer, week_long)
    exactly = jwt.encode(valid_claims(iat=now, exp=now + 900), SECRET, algorithm="HS256")
    assert issuer.read_access(exactly, datetime.now(UTC)).user_id == "user-1"
