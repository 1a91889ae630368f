"""Issue 13 figure: what an Idempotency-Key costs a POST. `ocp serve` as `make run` starts it
(embedded database, metrics and the JSON access log on), one client, sequential: the p50 of
`POST /api/v1/courses` without a key and with a fresh key each time (interleaved), and a
retry that is replayed; in-memory adapters beside it. The aim is at most one extra round
trip; the commands it adds are counted in tests/integration/test_command_budget.py (an
insert before the route, an update after it).

    .venv/bin/python bench/idempotency.py [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.harness import median, ocp_server  # noqa: E402
from bench.writes import COMMON, an_instructor  # noqa: E402


def measure(base: str, requests: int) -> dict[str, float]:
    auth = an_instructor(base)
    times: dict[str, list[float]] = {"plain": [], "keyed": [], "replayed": []}
    with httpx.Client(base_url=base, headers=auth) as client:
        replay_key = str(uuid.uuid4())
        client.post("/api/v1/courses", json={"title": "Replayed"},
                    headers={"Idempotency-Key": replay_key}).raise_for_status()  # fmt: skip
        for n in range(requests):
            for kind in ("plain", "keyed", "replayed"):
                headers = {}
                body = {"title": f"Course {kind} {n}"}
                if kind == "keyed":
                    headers["Idempotency-Key"] = str(uuid.uuid4())
                elif kind == "replayed":
                    headers["Idempotency-Key"] = replay_key
                    body = {"title": "Replayed"}
                start = time.perf_counter()
                answer = client.post("/api/v1/courses", json=body, headers=headers)
                times[kind].append((time.perf_counter() - start) * 1000)
                answer.raise_for_status()
    return {kind: median(values[len(values) // 10 :]) for kind, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    env = {**COMMON, "OCP_RATE_LIMIT_WRITES": "1000000/minute"}
    with (
        tempfile.TemporaryDirectory() as scratch,
        ocp_server({**env, "OCP_DATA_DIR": scratch}) as base,
    ):
        embedded = measure(base, args.requests)
    with tempfile.TemporaryDirectory() as scratch:
        memory_env = {**env, "OCP_DATA_DIR": scratch, "OCP_DATABASE": "memory",
                      "OCP_FILE_STORE": "memory"}  # fmt: skip
        with ocp_server(memory_env) as base:
            memory = measure(base, args.requests)
    print(f"POST /api/v1/courses p50, one client, {args.requests} each (interleaved)")
    print(f"{'request':10} {'embedded db':>12} {'in-memory':>10}")
    for kind in ("plain", "keyed", "replayed"):
        print(f"{kind:10} {embedded[kind]:9.2f} ms {memory[kind]:7.2f} ms")
    extra = embedded["keyed"] - embedded["plain"]
    print(f"a key costs {extra:.2f} ms on the embedded database "
          f"({embedded['plain'] / embedded['keyed']:.2f} of a plain POST's speed)")  # fmt: skip


if __name__ == "__main__":
    main()
