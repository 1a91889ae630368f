"""Issue 6 and 11 figure: the cost of observability. Token-authenticated GET /api/v1/users/me
served by `ocp serve` as `make run` starts it (one worker, embedded database, caches on) with
Prometheus metrics and the JSON access log on, as a ratio of requests per second to the same
server with both off, in the same run (issue 11 aim: >= 0.95); the same pair on in-memory
adapters beside it. The log lines go to a file, as a container's log driver would take them.

    .venv/bin/python bench/observability.py [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.harness import median, ocp_server, wrk  # noqa: E402

BASE = {  # what `make run` serves with, but for the secret and a fast bcrypt
    "OCP_JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
    "OCP_BCRYPT_ROUNDS": "4",
}
MEMORY = {"OCP_DATABASE": "memory", "OCP_MAIL": "memory", "OCP_FILE_STORE": "memory"}
ON = {"OCP_METRICS_ENABLED": "true", "OCP_LOG_FORMAT": "json", "OCP_LOG_LEVEL": "info"}
OFF = {"OCP_METRICS_ENABLED": "false", "OCP_LOG_LEVEL": "warning"}
METRICS_ONLY = {"OCP_METRICS_ENABLED": "true", "OCP_LOG_LEVEL": "warning"}


def token_for(base: str) -> dict[str, str]:
    account = {"email": "bench@example.com", "password": "bench password", "full_name": "Bench"}
    httpx.post(f"{base}/api/v1/auth/register", json=account)
    token = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"username": account["email"], "password": account["password"]},
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{base}/api/v1/users/me", headers=auth).status_code == 200
    return auth


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    on_rps, off_rps, metrics_rps, mem_on_rps, mem_off_rps = [], [], [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        log = os.path.join(scratch, "access.log")

        def env(name: str, *parts: dict[str, str]) -> dict[str, str]:
            return {k: v for part in (BASE, *parts) for k, v in part.items()} | {
                "OCP_DATA_DIR": os.path.join(scratch, name)
            }

        with (
            ocp_server(env("on", ON), log_to=log) as on,
            ocp_server(env("off", OFF)) as off,
            ocp_server(env("metrics", METRICS_ONLY)) as only,
            ocp_server(env("mem-on", MEMORY, ON), log_to=log + ".memory") as mem_on,
            ocp_server(env("mem-off", MEMORY, OFF)) as mem_off,
        ):
            auth = {base: token_for(base) for base in (on, off, only, mem_on, mem_off)}
            runs = (
                (off, off_rps),
                (on, on_rps),
                (only, metrics_rps),
                (mem_off, mem_off_rps),
                (mem_on, mem_on_rps),
            )
            for _ in range(args.rounds):  # alternate, so drift in the machine hits all alike
                for base, results in runs:
                    results.append(
                        wrk(f"{base}/api/v1/users/me", seconds=args.seconds, headers=auth[base])
                    )
            metrics = httpx.get(f"{on}/metrics").text
        with open(log) as lines:
            logged = sum(1 for line in lines if '"logger":"ocp.access"' in line)
    assert 'route="/api/v1/users/me"' in metrics, "the metrics saw no request"
    off_m, on_m = median(off_rps), median(on_rps)
    print(f"metrics+logging off : {off_m:8.0f} req/s  (rounds {[round(x) for x in off_rps]})")
    print(f"metrics+logging on  : {on_m:8.0f} req/s  (rounds {[round(x) for x in on_rps]})")
    metrics_m = median(metrics_rps)
    print(
        f"metrics only        : {metrics_m:8.0f} req/s  (rounds {[round(x) for x in metrics_rps]})"
    )
    print(f"access lines logged : {logged}")
    print(f"ratio on/off        : {on_m / off_m:.2f}  (aim >= 0.95)")
    print(
        f"ratio metrics/off   : {metrics_m / off_m:.2f}  (the access log is the rest of the cost)"
    )
    mem_on_m, mem_off_m = median(mem_on_rps), median(mem_off_rps)
    print(
        f"in-memory on / off  : {mem_on_m:8.0f} / {mem_off_m:.0f} req/s, "
        f"ratio {mem_on_m / mem_off_m:.2f}"
    )


if __name__ == "__main__":
    main()
