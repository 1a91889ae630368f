"""Issue 11 figures for writes: one client, sequential, idle server, the p50 of GET /users/me,
POST /courses, add module, add lesson and publish; beside a bare FastAPI route (no database,
the ratio) and OCP on in-memory adapters. Then course seeding through the API by 16
concurrent clients (create + module + lesson + publish a course): courses per second.

The server is started as `make run` starts it (`ocp serve`, the embedded database in a temp
OCP_DATA_DIR, metrics and the access log on, its output to /dev/null).

    .venv/bin/python bench/writes.py [--courses 150] [--seed-seconds 10] [--clients 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.harness import median, ocp_server, uvicorn_server  # noqa: E402

ADMIN = ("bench-admin@example.com", "bench admin password")
TEACHER = ("bench-teacher@example.com", "bench teacher password")
COMMON = {
    "OCP_JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
    "OCP_BCRYPT_ROUNDS": "4",
    "OCP_MAIL": "memory",
    "OCP_BOOTSTRAP_ADMIN_EMAIL": ADMIN[0],
    "OCP_BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
}
STEPS = ["GET /users/me", "POST /courses", "add module", "add lesson", "publish"]
_serial = iter(range(10**9))


def _token(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def an_instructor(base: str) -> dict[str, str]:
    """Register the teacher, let the bootstrap admin make them an instructor: their auth."""
    with httpx.Client(base_url=base) as client:
        made = client.post(
            "/api/v1/auth/register",
            json={"email": TEACHER[0], "password": TEACHER[1], "full_name": "Bench Teacher"},
        )
        made.raise_for_status()
        admin = _token(client, *ADMIN)
        promoted = client.patch(
            f"/api/v1/users/{made.json()['id']}", json={"role": "instructor"}, headers=admin
        )
        promoted.raise_for_status()
        return _token(client, *TEACHER)


def _course_body() -> dict[str, object]:
    n = next(_serial)
    return {"title": f"Bench course {n}", "summary": "Seeded by bench/writes.py",
            "description": "A course.", "tags": ["bench", f"t{n % 50}"],
            "level": "beginner", "category": "bench"}  # fmt: skip


def _lesson_body() -> dict[str, object]:
    return {"title": "Lesson", "kind": "text", "body_markdown": "# Read me\n" + "text " * 100}


def sequential(base: str, auth: dict[str, str], courses: int) -> dict[str, float]:
    """p50 in ms of each step, one request at a time."""
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    with httpx.Client(base_url=base, headers=auth) as client:

        def timed(step: str, send: Callable[[], httpx.Response]) -> httpx.Response:
            start = time.perf_counter()
            answer = send()
            times[step].append((time.perf_counter() - start) * 1000)
            answer.raise_for_status()
            return answer

        for _ in range(courses):
            timed("GET /users/me", lambda: client.get("/api/v1/users/me"))
            body = _course_body()
            made = timed("POST /courses", lambda: client.post("/api/v1/courses", json=body))
            course = made.json()
            path = f"/api/v1/courses/{course['id']}"
            module = timed(
                "add module", lambda: client.post(f"{path}/modules", json={"title": "Week 1"})
            ).json()
            timed(
                "add lesson",
                lambda: client.post(f"{path}/modules/{module['id']}/lessons", json=_lesson_body()),
            )
            timed("publish", lambda: client.post(f"{path}/publish"))
    return {step: median(values) for step, values in times.items()}


async def seeding(base: str, auth: dict[str, str], clients: int, seconds: float) -> float:
    """Courses per second that `clients` concurrent clients create through the API."""
    made = 0
    deadline = time.monotonic() + seconds

    async def one_client() -> None:
        nonlocal made
        async with httpx.AsyncClient(base_url=base, headers=auth, timeout=60) as client:
            while time.monotonic() < deadline:
                course = (await client.post("/api/v1/courses", json=_course_body())).json()
                path = f"/api/v1/courses/{course['id']}"
                module = (await client.post(f"{path}/modules", json={"title": "W"})).json()
                lesson = await client.post(
                    f"{path}/modules/{module['id']}/lessons", json=_lesson_body()
                )
                lesson.raise_for_status()
                (await client.post(f"{path}/publish")).raise_for_status()
                made += 1

    start = time.monotonic()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return made / (time.monotonic() - start)


def bare_p50(requests: int) -> float:
    with (
        uvicorn_server("bench.apps:bare", factory=True) as base,
        httpx.Client(base_url=base) as client,
    ):
        client.get("/api/v1/users/me")
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            client.get("/api/v1/users/me").raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    return median(times)


def run(env: dict[str, str], args: argparse.Namespace) -> tuple[dict[str, float], float]:
    with ocp_server(env) as base:
        auth = an_instructor(base)
        sequential(base, auth, 10)  # warm: indexes, caches, connections
        p50 = sequential(base, auth, args.courses)
        rate = asyncio.run(seeding(base, auth, args.clients, args.seed_seconds))
    return p50, rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--courses", type=int, default=150)
    parser.add_argument("--seed-seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    bare = bare_p50(args.courses * 2)
    with tempfile.TemporaryDirectory() as scratch:
        embedded, embedded_rate = run({**COMMON, "OCP_DATA_DIR": scratch}, args)
    with tempfile.TemporaryDirectory() as scratch:
        memory_env = {**COMMON, "OCP_DATA_DIR": scratch, "OCP_DATABASE": "memory",
                      "OCP_FILE_STORE": "memory"}  # fmt: skip
        memory, memory_rate = run(memory_env, args)
    print(f"one client, sequential, p50 over {args.courses} courses (bare FastAPI {bare:.2f} ms)")
    print(f"{'step':16} {'embedded db':>12} {'x bare':>7} {'in-memory':>10}   aim")
    for step in STEPS:
        aim = "<= 4 ms" if step not in ("GET /users/me",) else ""
        print(
            f"{step:16} {embedded[step]:9.2f} ms {embedded[step] / bare:7.1f}"
            f" {memory[step]:7.2f} ms   {aim}"
        )
    print(
        f"seeding, {args.clients} clients, {args.seed_seconds:.0f} s: embedded db "
        f"{embedded_rate:.1f} courses/s (aim >= 72, 4x the 18 of issue 11), "
        f"in-memory {memory_rate:.1f} courses/s"
    )
    print(f"machine: {os.cpu_count()} cores, shared by the API, the database and the clients")


if __name__ == "__main__":
    main()
