"""Issue 12 figures: events end to end, and what recording them costs a write.

1. Change -> receiver 2xx. `ocp serve` on the embedded database (metrics and the JSON access
   log on) with one webhook endpoint for `user.created`, pointing at a local receiver that
   answers 204 and notes when each `webhook-id` arrived. Latency: one registration at a
   time, idle in between, from the event's timestamp to its arrival (p50, p99). Throughput:
   a burst of registrations from 16 clients, events delivered per second from the first
   request to the last arrival. Three set-ups: the worker inside the server (`make run`),
   the server plus one `ocp worker`, plus two.
2. Write latency with events vs before this issue: the same server as `make run` starts it,
   once from this checkout and once from the commit before issue 12 (a git worktree), one
   client, sequential: register, publish, enroll, complete a lesson (p50 each), as ratios.

    .venv/bin/python bench/events.py [--latency 100] [--burst 400] [--rounds 60]
        [--before b28351f]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.harness import median, ocp_server, percentile  # noqa: E402
from tests.integration.processes import wait_until, working  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ADMIN = ("bench-admin@example.com", "bench admin password")
COMMON = {
    "OCP_JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
    "OCP_BCRYPT_ROUNDS": "4",  # the hash is not what is measured
    "OCP_MAIL": "memory",
    "OCP_BOOTSTRAP_ADMIN_EMAIL": ADMIN[0],
    "OCP_BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
    "OCP_LOG_FORMAT": "json",
    "OCP_LOG_LEVEL": "info",
    "OCP_WEBHOOKS_ALLOW_HTTP": "true",
    "OCP_WEBHOOKS_ALLOW_PRIVATE": "true",
}
_serial = iter(range(10**9))


class Arrivals:
    def __init__(self) -> None:
        self.at: dict[str, float] = {}  # webhook-id -> wall clock of arrival
        self.sent_at: dict[str, float] = {}  # webhook-id -> the event's own timestamp
        self.lock = threading.Lock()


@contextmanager
def receiver() -> Iterator[tuple[str, Arrivals]]:
    arrivals = Arrivals()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            now = time.time()
            event = json.loads(body)
            stamp = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
            with arrivals.lock:
                arrivals.at.setdefault(event["id"], now)
                arrivals.sent_at[event["id"]] = stamp.timestamp()
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", arrivals
    finally:
        server.shutdown()
        server.server_close()


def token(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def register(client: httpx.Client) -> tuple[str, str]:
    email = f"bench{next(_serial)}@example.com"
    made = client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": "bench password 1", "full_name": "Bench"},
    )
    made.raise_for_status()
    return email, "bench password 1"


def delivered(base: str, arrivals: Arrivals, args: argparse.Namespace) -> dict[str, float]:
    """Latency p50/p99 (sequential) and burst throughput through the server at `base`."""
    with httpx.Client(base_url=base) as client:
        admin = token(client, *ADMIN)
        for _ in range(10):  # warm
            register(client)
        wait_until(lambda: len(arrivals.at) >= 10, seconds=60)
        latencies = []
        for _ in range(args.latency):
            before = set(arrivals.at)
            register(client)
            fresh = wait_until(lambda: set(arrivals.at) - before, seconds=30)
            [event_id] = fresh
            latencies.append(arrivals.at[event_id] - arrivals.sent_at[event_id])
            time.sleep(0.02)
        del admin
    before = set(arrivals.at)
    began = time.time()

    async def burst() -> None:
        async def one(n: int) -> None:
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                for _ in range(n):
                    email = f"burst{next(_serial)}@example.com"
                    answer = await client.post(
                        "/api/v1/auth/register",
                        json={"email": email, "password": "bench password 1", "full_name": "B"},
                    )
                    answer.raise_for_status()

        await asyncio.gather(*(one(args.burst // 16) for _ in range(16)))

    asyncio.run(burst())
    expected = (args.burst // 16) * 16
    wait_until(lambda: len(set(arrivals.at) - before) >= expected, seconds=300)
    fresh = set(arrivals.at) - before
    last = max(arrivals.at[i] for i in fresh)
    return {
        "p50": median(latencies) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "rate": expected / (last - began),
    }


def end_to_end(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    from ocp.adapters.mongo.embedded import EmbeddedDatabase

    results: dict[str, dict[str, float]] = {}
    for setup, workers in (("make run (in-process worker)", 0), ("1 ocp worker", 1),
                           ("2 ocp workers", 2)):  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="ocp-bench-") as scratch, receiver() as (url, got):
            database = EmbeddedDatabase(Path(scratch) / "db")
            uri = database.start()
            try:
                env = {**COMMON, "OCP_DATA_DIR": f"{scratch}/api", "OCP_MONGODB_URI": uri,
                       "OCP_WORKER_IN_PROCESS": "true" if workers == 0 else "false"}  # fmt: skip
                with ocp_server(env) as base, ExitStack() as stack:
                    for n in range(workers):
                        stack.enter_context(working(Path(scratch) / f"w{n}", **env))
                    with httpx.Client(base_url=base) as client:
                        made = client.post(
                            "/api/v1/webhooks",
                            json={"url": url, "events": ["user.created"]},
                            headers=token(client, *ADMIN),
                        )
                        made.raise_for_status()
                    results[setup] = delivered(base, got, args)
            finally:
                database.stop()
    return results


STEPS = ["register", "publish", "enroll", "complete lesson"]


def writes(base: str, rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    with httpx.Client(base_url=base) as client:
        admin = token(client, *ADMIN)

        def timed(step: str, send: Callable[[], httpx.Response]) -> httpx.Response:
            start = time.perf_counter()
            answer = send()
            times[step].append((time.perf_counter() - start) * 1000)
            answer.raise_for_status()
            return answer

        for _ in range(rounds):
            email = f"w{next(_serial)}@example.com"
            body = {"email": email, "password": "bench password 1", "full_name": "W"}
            timed("register", lambda: client.post("/api/v1/auth/register", json=body))
            student = token(client, email, "bench password 1")
            course = client.post(
                "/api/v1/courses", json={"title": f"Course {next(_serial)}"}, headers=admin
            ).json()
            path = f"/api/v1/courses/{course['id']}"
            module = client.post(f"{path}/modules", json={"title": "M"}, headers=admin).json()
            lesson = client.post(
                f"{path}/modules/{module['id']}/lessons",
                json={"title": "L", "kind": "text", "body_markdown": "x"},
                headers=admin,
            ).json()
            timed("publish", lambda: client.post(f"{path}/publish", headers=admin))
            timed("enroll", lambda: client.post(f"{path}/enrollments", headers=student))
            timed(
                "complete lesson",
                lambda: client.put(f"/api/v1/lessons/{lesson['id']}/completion", headers=student),
            )
    return {step: median(values[len(values) // 5 :]) for step, values in times.items()}


def before_and_after(args: argparse.Namespace) -> tuple[dict[str, float], dict[str, float]]:
    worktree = Path(tempfile.mkdtemp(prefix="ocp-before-"))
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "-f", "--detach", str(worktree), args.before],
        check=True,
        capture_output=True,
    )
    try:
        figures = []
        for code in (worktree, ROOT):
            with tempfile.TemporaryDirectory(prefix="ocp-bench-") as scratch:
                env = {**COMMON, "OCP_DATA_DIR": scratch, "PYTHONPATH": str(code)}
                with ocp_server(env) as base:
                    figures.append(writes(base, args.rounds))
        return figures[0], figures[1]
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
            check=False,
            capture_output=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=int, default=100)
    parser.add_argument("--burst", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--before", default="b28351f", help="the last commit before issue 12")
    parser.add_argument("--skip-writes", action="store_true")
    args = parser.parse_args()
    results = end_to_end(args)
    print("change -> receiver 2xx (user.created; embedded database, metrics + JSON log on)")
    print(f"{'set-up':30} {'p50':>8} {'p99':>8} {'events/s':>9}   aim: p50 < 100 ms")
    for setup, got in results.items():
        print(f"{setup:30} {got['p50']:6.1f}ms {got['p99']:6.1f}ms {got['rate']:9.1f}")
    if args.skip_writes:
        return
    old, new = before_and_after(args)
    print(f"write p50, one client (`make run` stack), before issue 12 ({args.before}) vs now")
    print(f"{'write':16} {'before':>9} {'now':>9} {'before/now':>10}   aim >= 0.9")
    for step in STEPS:
        print(f"{step:16} {old[step]:7.2f}ms {new[step]:7.2f}ms {old[step] / new[step]:10.2f}")
    print(f"machine: {os.cpu_count()} cores, shared by the API, the database and the clients")


if __name__ == "__main__":
    main()
