"""Access tokens as HS256 JWTs and the opaque secret tokens (refresh, reset) we store hashed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from ocp.application.ports.identity import AccessClaims
from ocp.domain.errors import AuthenticationFailed
from ocp.domain.users import User

_ALGORITHM = "HS256"
# HS256 is only as strong as its key: RFC 7518 asks for at least the hash size, 256 bits.
_MIN_SECRET_BYTES = 32
# Tolerates small clock differences between the processes that issue and read a token.
_LEEWAY_S = 5
_INVALID = "the access token is invalid or expired"
_MAX_TOKEN_CHARS = 4096
_REMEMBERED_TOKENS = 10_000


@dataclass(frozen=True, slots=True)
class _Verified:
    claims: AccessClaims
    exp: int
    iat: int


class JwtTokenIssuer:
    def __init__(
        self,
        secret: str,
        issuer: str = "ocp",
        audience: str = "ocp-api",
        access_ttl_s: int = 900,
    ) -> None:
        if len(secret.encode("utf-8")) < _MIN_SECRET_BYTES:
            raise ValueError(f"the JWT secret must be at least {_MIN_SECRET_BYTES} bytes long")
        if access_ttl_s <= 0:
            raise ValueError("the access token lifetime must be positive")
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._access_ttl_s = access_ttl_s
        self._recent: dict[str, _Verified] = {}

    @property
    def access_ttl_s(self) -> int:
        return self._access_ttl_s

    def issue_access(self, user: User, session_id: str, now: datetime) -> str:
        issued_at = int(now.timestamp())
        claims: dict[str, Any] = {
            "sub": user.id,
            "sid": session_id,
            "gen": user.token_generation,
            "role": user.role.value,
            "iat": issued_at,
            "exp": issued_at + self._access_ttl_s,
            "iss": self._issuer,
            "aud": self._audience,
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def read_access(self, token: str, now: datetime) -> AccessClaims:
        verified = self._verified(token)
        # Expiry is checked here, on every call, against the Clock port's `now` (not PyJWT's
        # wall clock), so every rule of time in the system follows one clock.
        moment = now.timestamp()
        if moment >= verified.exp + _LEEWAY_S or verified.iat > moment + _LEEWAY_S:
            raise AuthenticationFailed(_INVALID)
        return verified.claims

    def _verified(self, token: str) -> _Verified:
        """Signature, algorithm, issuer, audience and claim shapes give the same answer every
        time for the same token, so good tokens are remembered: a client presents one for its
        whole lifetime, and PyJWT's decoding was the largest cost of an authenticated request."""
        if len(token) > _MAX_TOKEN_CHARS:
            raise AuthenticationFailed(_INVALID)
        verified = self._recent.get(token)
        if verified is None:
            verified = self._decode(token)
            if len(self._recent) >= _REMEMBERED_TOKENS:
                self._recent.pop(next(iter(self._recent)))  # the oldest remembered
            self._recent[token] = verified
        return verified

    def _decode(self, token: str) -> _Verified:
        try:
            # The algorithm is ours, never the header's: no "none", no swapping HS for another.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": ["exp", "iat", "iss", "aud", "sub", "jti", "sid", "gen"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            # The library's text would tell a prober which check failed; one answer for all.
            raise AuthenticationFailed(_INVALID) from None
        user_id, session_id, generation = claims.get("sub"), claims.get("sid"), claims.get("gen")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(user_id, str) or not user_id:
            raise AuthenticationFailed(_INVALID)
        if not isinstance(session_id, str) or not session_id:
            raise AuthenticationFailed(_INVALID)
        # bool is an int to Python, not to us.
        if not isinstance(generation, int) or isinstance(generation, bool) or generation < 0:
            raise AuthenticationFailed(_INVALID)
        if not isinstance(exp, int) or isinstance(exp, bool):
            raise AuthenticationFailed(_INVALID)
        if not isinstance(iat, int) or isinstance(iat, bool):
            raise AuthenticationFailed(_INVALID)
        if exp - iat > self._access_ttl_s:
            # Longer-lived than this server issues: minted elsewhere, or before a shorter TTL.
            raise AuthenticationFailed(_INVALID)
        try:
            expires_at = datetime.fromtimestamp(exp, UTC)
        except (OverflowError, OSError, ValueError):  # an expiry beyond the calendar
            raise AuthenticationFailed(_INVALID) from None
        claims_read = AccessClaims(
            user_id=user_id,
            session_id=session_id,
            token_generation=generation,
            expires_at=expires_at,
        )
        return _Verified(claims_read, exp, iat)

    def new_secret_token(self) -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        return token, self.hash_secret_token(token)

    def successor_token(self, token: str) -> tuple[str, str]:
        digest = hmac.new(self._secret.encode(), b"refresh:" + token.encode(), "sha256").digest()
        successor = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        return successor, self.hash_secret_token(successor)

    def hash_secret_token(self, token: str) -> str:
        # The token has 256 random bits, so a fast unsalted hash suffices: nothing to brute-force.
        return hashlib.sha256(token.encode("utf-8")).hexdigest()
