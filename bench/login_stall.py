"""Issue 2 figure: logins do not stall other requests. p99 latency of GET /healthz while 8
clients log in continuously (bcrypt at the default cost 12), against p99 with no logins, in
the same run on the same server (in-memory adapters, one uvicorn worker).

    .venv/bin/python bench/login_stall.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.harness import percentile, uvicorn_server  # noqa: E402

ENV = {
    "OCP_JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
    "OCP_BCRYPT_ROUNDS": "12",
    "OCP_LOGIN_MAX_FAILURES": "1000000",
}
PASSWORD = "bench password"


async def probe_healthz(base: str, seconds: float) -> list[float]:
    """Latencies (ms) of /healthz, one request at a time, paced at about 200 a second."""
    latencies = []
    async with httpx.AsyncClient(base_url=base) as client:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.get("/healthz")
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            await asyncio.sleep(0.005)
    return latencies


async def log_in_forever(base: str, email: str, stop: asyncio.Event, count: list[int]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while not stop.is_set():
            response = await client.post(
                "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            count[0] += 1


async def run(base: str, seconds: float) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for n in range(8):
            await client.post(
                "/api/v1/auth/register",
                json={
                    "email": f"login{n}@example.com",
                    "password": PASSWORD,
                    "full_name": f"L {n}",
                },
            )
    quiet = await probe_healthz(base, seconds)
    stop, logins = asyncio.Event(), [0]
    workers = [
        asyncio.create_task(log_in_forever(base, f"login{n}@example.com", stop, logins))
        for n in range(8)
    ]
    await asyncio.sleep(0.5)  # let the logins reach full speed
    busy = await probe_healthz(base, seconds)
    stop.set()
    await asyncio.gather(*workers)
    q99, b99 = percentile(quiet, 0.99), percentile(busy, 0.99)
    print(
        f"/healthz p50/p99 without logins : {percentile(quiet, 0.5):6.2f} / {q99:6.2f} ms "
        f"({len(quiet)} requests)"
    )
    print(
        f"/healthz p50/p99 with 8 log-ins : {percentile(busy, 0.5):6.2f} / {b99:6.2f} ms "
        f"({len(busy)} requests; {logins[0] / (seconds + 0.5):.1f} logins/s meanwhile)"
    )
    print(f"p99 ratio busy/quiet            : {b99 / q99:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with uvicorn_server("bench.apps:ocp_in_memory", factory=True, env=ENV) as base:
        asyncio.run(run(base, args.seconds))


if __name__ == "__main__":
    main()
