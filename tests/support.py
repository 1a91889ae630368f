"""Builders shared by the suites: settings for tests, an app client, users with tokens."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ocp.container import Container
from ocp.domain.users import Email, Role, User
from ocp.entrypoints.http.app import create_app
from ocp.settings import Settings

JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
PASSWORD = "correct horse battery"
_serial = itertools.count(1)


def test_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database": "memory",
        "mail": "memory",
        "file_store": "memory",
        "bcrypt_rounds": 4,
        "jwt_secret": JWT_SECRET,
        "data_dir": data_dir,
        "metrics_max_age_s": 0,  # tests read their own requests back at once
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


test_settings.__test__ = False  # a builder, not a test, wherever it is imported


def a_user(role: Role = Role.STUDENT, email: str | None = None, **fields: Any) -> User:
    n = next(_serial)
    return User.register(
        id=fields.pop("id", f"user{n:06d}"),
        email=Email(email or f"user{n}@example.com"),
        name=fields.pop("name", f"User {n}"),
        password_hash=fields.pop("password_hash", "hash"),
        now=fields.pop("now", datetime(2026, 1, 31, 12, 0, tzinfo=UTC)),
        role=role,
    )


@asynccontextmanager
async def app_client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@dataclass
class Account:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Account:
    response = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    return Account(
        me.json()["id"], email, password, tokens["access_token"], tokens["refresh_token"]
    )


async def signed_up(
    client: httpx.AsyncClient,
    container: Container,
    role: Role = Role.STUDENT,
    email: str | None = None,
    name: str | None = None,
) -> Account:
    """A user registered through the API (or the service, for staff roles), logged in."""
    n = next(_serial)
    email = email or f"{role.value}{n}@example.com"
    if role is Role.STUDENT:
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": name or f"Student {n}"},
        )
        assert response.status_code == 201, response.text
    else:
        await container.identity_service().register(
            email, PASSWORD, name or f"{role.value.title()} {n}", role=role
        )
    return await login(client, email)


def png_bytes(body: bytes = b"", width: int = 16, height: int = 16) -> bytes:
    """A PNG whose signature and IHDR chunk parse (what the sniffer checks), then `body`."""
    import struct
    import zlib

    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk + body


def course_body(title: str = "A course") -> dict[str, Any]:
    """The JSON of POST /courses: the fields every course needs."""
    return {
        "title": title,
        "summary": "s",
        "description": "d",
        "tags": [],
        "level": "beginner",
        "category": "c",
    }
