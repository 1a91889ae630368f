"""Issue 2 figure: token-authenticated GET /api/v1/users/me on in-memory adapters, as a ratio
of requests per second to a bare FastAPI route returning the same JSON, in the same run.

    .venv/bin/python bench/users_me.py [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.harness import median, uvicorn_server, wrk  # noqa: E402

ENV = {
    "OCP_JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
    "OCP_BCRYPT_ROUNDS": "4",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ocp_rps, bare_rps = [], []
    with (
        uvicorn_server("bench.apps:ocp_in_memory", factory=True, env=ENV) as ocp,
        uvicorn_server("bench.apps:bare", factory=True) as bare,
    ):
        httpx.post(
            f"{ocp}/api/v1/auth/register",
            json={
                "email": "bench@example.com",
                "password": "bench password",
                "full_name": "Bench User",
            },
        )
        token = httpx.post(
            f"{ocp}/api/v1/auth/token",
            data={"username": "bench@example.com", "password": "bench password"},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{ocp}/api/v1/users/me", headers=auth).status_code == 200
        for _ in range(args.rounds):  # alternate, so drift in the machine hits both alike
            bare_rps.append(wrk(f"{bare}/api/v1/users/me", seconds=args.seconds))
            ocp_rps.append(wrk(f"{ocp}/api/v1/users/me", seconds=args.seconds, headers=auth))
    b, o = median(bare_rps), median(ocp_rps)
    print(f"bare FastAPI route      : {b:8.0f} req/s  (rounds {[round(x) for x in bare_rps]})")
    print(f"OCP GET /users/me (JWT) : {o:8.0f} req/s  (rounds {[round(x) for x in ocp_rps]})")
    print(f"ratio                   : {o / b:.2f}  (aim >= 0.70)")


if __name__ == "__main__":
    main()
