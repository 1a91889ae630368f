"""Issue 6 figure: the cost of observability. Token-authenticated GET /api/v1/users/me served
by `ocp serve` (one worker, in-memory adapters) with Prometheus metrics and the JSON access
log on, as a ratio of requests per second to the same server with both off, in the same run.
The log lines go to a file, as a container's log driver would take them.

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

BASE = {
    "OCP_DATABASE": "memory",
    "OCP_MAIL": "memory",
    "OCP_FILE_STORE": "memory",
    "OCP_JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
    "OCP_BCRYPT_ROUNDS": "4",
}
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
    on_rps, off_rps, metrics_rps = [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        log = os.path.join(scratch, "access.log")
        on_env = {**BASE, **ON, "OCP_DATA_DIR": os.path.join(scratch, "on")}
        off_env = {**BASE, **OFF, "OCP_DATA_DIR": os.path.join(scratch, "off")}
        metrics_env = {**BASE, **METRICS_ONLY, "OCP_DATA_DIR": os.path.join(scratch, "metrics")}
        with (
            ocp_server(on_env, log_to=log) as on,
            ocp_server(off_env) as off,
            ocp_server(metrics_env) as only,
        ):
            auth = {base: token_for(base) for base in (on, off, only)}
            for _ in range(args.rounds):  # alternate, so drift in the machine hits all alike
                for base, results in ((off, off_rps), (on, on_rps), (only, metrics_rps)):
                    results.append(
                        wrk(f"{base}/api/v1/users/me", seconds=args.seconds, headers=auth[base])
                    )
            metrics = httpx.get(f"{on}/metrics").text
        with open(log) as lines:
            logged = sum(1 for line in lines if '"logger": "ocp.access"' in line)
    assert 'route="/api/v1/users/me"' in metrics, "the metrics saw no request"
    off_m, on_m = median(off_rps), median(on_rps)
    print(f"metrics+logging off : {off_m:8.0f} req/s  (rounds {[round(x) for x in off_rps]})")
    print(f"metrics+logging on  : {on_m:8.0f} req/s  (rounds {[round(x) for x in on_rps]})")
    metrics_m = median(metrics_rps)
    print(
        f"metrics only        : {metrics_m:8.0f} req/s  (rounds {[round(x) for x in metrics_rps]})"
    )
    print(f"access lines logged : {logged}")
    print(f"ratio on/off        : {on_m / off_m:.2f}  (aim >= 0.90)")
    print(
        f"ratio metrics/off   : {metrics_m / off_m:.2f}  (the access log is the rest of the cost)"
    )


if __name__ == "__main__":
    main()
