"""Issue 6 and 11 figures: scale-out on one machine. A mixed workload (70% catalog reads, 20%
authenticated reads, 10% writes) against `ocp serve` as `make run` starts it (embedded
database, metrics and the JSON access log on, caches on) with one worker and with two, on
the same SecantusDB database (demo catalog, 16 enrolled students): requests per second of
two workers as a ratio to one, and the p99 latency of each, in the same run (issue 11 aims:
one worker >= 3x 547 req/s, two/one >= 1.6).

It also reports how much CPU each process took during the measured runs (API workers,
database, wrk), so the figure says which one was the bottleneck.

    .venv/bin/python bench/mixed.py [--seconds 10] [--rounds 2] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.harness import median, ocp_process, ocp_server  # noqa: E402
from ocp.adapters.mongo.embedded import EmbeddedDatabase  # noqa: E402

STUDENTS = 16
PASSWORD = "bench password"
TICK = os.sysconf("SC_CLK_TCK")

LUA = r"""
local catalog = %(catalog)s
local courses = %(courses)s
local students = %(students)s
math.randomseed(os.time())
request = function()
  local r = math.random(100)
  if r <= 40 then
    return wrk.format("GET", catalog[math.random(#catalog)])
  elseif r <= 60 then
    return wrk.format("GET", "/api/v1/courses/" .. courses[math.random(#courses)])
  elseif r <= 70 then
    return wrk.format("GET", "/api/v1/courses/" .. courses[math.random(#courses)] .. "/modules")
  end
  local s = students[math.random(#students)]
  local auth = {["Authorization"] = "Bearer " .. s.token}
  if r <= 80 then
    return wrk.format("GET", "/api/v1/users/me", auth)
  elseif r <= 90 then
    return wrk.format("GET", "/api/v1/users/me/enrollments", auth)
  elseif r <= 95 then
    auth["Content-Type"] = "application/json"
    return wrk.format("PATCH", "/api/v1/users/me", auth, '{"bio": "bio ' .. r .. '"}')
  else
    return wrk.format("PUT", "/api/v1/lessons/" .. s.lesson .. "/completion", auth)
  end
end
"""


def lua_list(values: list) -> str:
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


def prepare(base: str) -> str:
    """Students registered, logged in, enrolled; the wrk script that mixes the requests."""
    courses = httpx.get(f"{base}/api/v1/courses", params={"limit": 100}).json()["items"]
    assert len(courses) >= 10, "the demo catalog was not seeded"
    students = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for n in range(STUDENTS):
            email = f"mixed{n}@example.com"
            client.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "full_name": f"Mixed {n}"},
            )
            token = client.post(
                "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
            ).json()["access_token"]
            course = courses[n % len(courses)]
            auth = {"Authorization": f"Bearer {token}"}
            assert client.post(
                f"/api/v1/courses/{course['id']}/enrollments", headers=auth
            ).status_code in (200, 201)
            modules = client.get(f"/api/v1/courses/{course['id']}/modules").json()
            students.append({"token": token, "lesson": modules[0]["lessons"][0]["id"]})
    catalog = [
        "/api/v1/courses?limit=20",
        "/api/v1/courses?sort=popular&limit=20",
        "/api/v1/courses?q=python&limit=20",
        "/api/v1/courses?level=beginner&limit=20",
    ]
    lua_students = (
        "{"
        + ", ".join(f'{{token = "{s["token"]}", lesson = "{s["lesson"]}"}}' for s in students)
        + "}"
    )
    return LUA % {
        "catalog": lua_list(catalog),
        "courses": lua_list([c["slug"] for c in courses[:30]] + [c["id"] for c in courses[:10]]),
        "students": lua_students,
    }


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / TICK


def server_pids(parent: int) -> list[int]:
    """The `ocp serve` process `parent` and its workers."""
    children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True)
    return [parent] + [int(c) for c in children.stdout.split()]


def run_wrk(base: str, script: str, seconds: int, connections: int) -> tuple[float, float, float]:
    """(requests/s, p99 ms, wrk's own CPU seconds)."""
    started = os.times()
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ended = os.times()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} errors:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    wrk_cpu = (ended.children_user + ended.children_system) - (
        started.children_user + started.children_system
    )
    return rps, p99, wrk_cpu


CATALOG_ONLY = r"""
local paths = %(paths)s
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def catalog_only(base: str) -> str:
    """The catalog reads of the mix alone (slugs are the same in every worker's catalog)."""
    courses = httpx.get(f"{base}/api/v1/courses", params={"limit": 100}).json()["items"]
    paths = ["/api/v1/courses?limit=20", "/api/v1/courses?q=python&limit=20"] * 4
    paths += [f"/api/v1/courses/{c['slug']}" for c in courses[:20]]
    return CATALOG_ONLY % {"paths": lua_list(paths)}


def measure(env, script, args, database_pid):
    """Alternating one and two workers; per worker count: [(rps, p99)], peak cores used."""
    results: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    cpu: dict[int, dict[str, float]] = {1: {}, 2: {}}
    for _ in range(args.rounds):  # alternate, so drift in the machine hits both alike
        for workers in (1, 2):
            log = os.path.join(env["OCP_DATA_DIR"], f"access-{workers}.log")
            with ocp_process(env, workers=workers, log_to=log) as (base, pid):
                run_wrk(base, script, 2, args.connections)  # warm up
                api = server_pids(pid)
                dbs = [database_pid] if database_pid else []
                before = {"api": cpu_seconds(api), "db": cpu_seconds(dbs)}
                begun = time.monotonic()
                rps, p99, wrk_cpu = run_wrk(base, script, args.seconds, args.connections)
                wall = time.monotonic() - begun
                used = {
                    "api": (cpu_seconds(api) - before["api"]) / wall,
                    "db": (cpu_seconds(dbs) - before["db"]) / wall,
                    "wrk": wrk_cpu / wall,
                }
                results[workers].append((rps, p99))
                for k, v in used.items():
                    cpu[workers][k] = max(cpu[workers].get(k, 0.0), v)
    return results, cpu


def report(title, results, cpu) -> None:
    print(title)
    for workers, label in ((1, "  one worker "), (2, "  two workers")):
        rps = [round(r) for r, _ in results[workers]]
        p99 = median([p for _, p in results[workers]])
        used = ", ".join(f"{k} {v:.2f}" for k, v in cpu[workers].items())
        print(
            f"{label}: {median([r for r, _ in results[workers]]):7.0f} req/s  p99 {p99:6.1f} ms"
            f"  (rounds {rps}; peak cores used: {used})"
        )
    ratio = median([r for r, _ in results[2]]) / median([r for r, _ in results[1]])
    print(f"  ratio two/one: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("the benchmarks drive load with wrk: apt-get install -y wrk")
    common = {
        "OCP_JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
        "OCP_BCRYPT_ROUNDS": "4",
        "OCP_DEMO_SEED": "true",
        "OCP_LOG_LEVEL": "info",  # the JSON access log, to a file, as a log driver takes it
        "OCP_LOG_FORMAT": "json",
        "OCP_MAIL": "memory",
    }
    with tempfile.TemporaryDirectory() as scratch:
        database = EmbeddedDatabase(Path(scratch) / "db")
        uri = database.start()
        try:
            env = {**common, "OCP_MONGODB_URI": uri, "OCP_MONGODB_DB": "bench_mixed"}
            env["OCP_DATA_DIR"] = scratch
            script = os.path.join(scratch, "mixed.lua")
            with ocp_server(env) as base:
                Path(script).write_text(prepare(base))
            mixed = measure(env, script, args, database._process.pid)
        finally:
            database.stop()
        # The API tier alone: every worker keeps its own in-memory catalog (the same demo
        # courses), so only reads that need no shared state can be sent.
        env = {**common, "OCP_DATABASE": "memory", "OCP_FILE_STORE": "memory"}
        env["OCP_DATA_DIR"] = os.path.join(scratch, "memory")
        script = os.path.join(scratch, "catalog.lua")
        with ocp_server(env) as base:
            Path(script).write_text(catalog_only(base))
        alone = measure(env, script, args, None)
    report("70/20/10 mix on SecantusDB (one database process):", *mixed)
    report("catalog reads on in-memory adapters (no database):", *alone)
    print(f"machine: {os.cpu_count()} cores, shared by the API, the database and wrk")


if __name__ == "__main__":
    main()
