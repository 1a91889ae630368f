"""Rate limits across the workers of one `ocp serve --workers 2` on SecantusDB: one budget
shared by both, and `X-Forwarded-For` believed only from a trusted proxy."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.builders import JWT_SECRET, PASSWORD
from tests.integration.processes import serving


def register(base: str, n: int, forwarded_for: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    # A client each: new connections, spread over both workers by the kernel.
    with httpx.Client(base_url=base) as client:
        return client.post(
            "/api/v1/auth/register",
            json={"email": f"lim{n}@example.com", "password": PASSWORD, "full_name": "L"},
            headers=headers,
        )


def test_two_workers_share_one_budget_and_only_trusted_proxies_name_the_client(
    mongo_uri: str, tmp_path: Path
):
    env = {
        "OCP_WORKERS": "2",
        "OCP_MONGODB_URI": mongo_uri,
        "OCP_JWT_SECRET": JWT_SECRET,
        "OCP_RATE_LIMIT_REGISTER": "5/hour",
    }
    with serving(tmp_path / "a", OCP_MONGODB_DB="limits_shared", **env) as server:
        statuses = [register(server.base, n).status_code for n in range(8)]
        assert statuses == [201] * 5 + [429] * 3
        # A client cannot dodge the limit by naming another address: no proxy is trusted.
        assert register(server.base, 20, forwarded_for="203.0.113.9").status_code == 429
    with serving(
        tmp_path / "b",
        OCP_MONGODB_DB="limits_proxied",
        OCP_TRUSTED_PROXIES="127.0.0.1",
        **env,
    ) as server:
        for n in range(5):
            assert register(server.base, 100 + n, "203.0.113.1").status_code == 201
        assert register(server.base, 110, "203.0.113.1").status_code == 429
        assert register(server.base, 111, "203.0.113.2").status_code == 201  # its own budget
