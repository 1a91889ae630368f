"""Issue 11 figure: the server's memory with its caches full, at 100,000 published courses and
50,000 users (aim: RSS < 300 MiB).

`ocp serve` as `make run` starts it (metrics and JSON access log on, default cache sizes) on
an embedded database seeded directly (courses as bench/catalog.py builds them, users with a
live session each). Then requests fill every cache: each user authenticates once (users,
sessions, the verified-token memo), `GET /courses/{id}` for as many courses as the course
cache holds, the lessons of those courses' previews up to the lesson cache, and as many
distinct catalog pages as the page cache holds. RSS (VmRSS) of the server process is read
before and after, with each cache's size from /metrics.

    .venv/bin/python bench/memory.py [--courses 100000] [--users 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.catalog import SUBJECTS, build_courses  # noqa: E402
from bench.harness import ocp_process  # noqa: E402
from ocp.adapters.mongo.embedded import EmbeddedDatabase  # noqa: E402
from ocp.settings import Settings  # noqa: E402

SECRET = "bench-secret-that-is-long-enough-for-hs256-0123456789"
DB = "bench_memory"
SORTS = ["newest", "title", "rating", "popular"]
LEVELS = [None, "beginner", "intermediate", "advanced"]


TAGS = [subject.lower() for subject in SUBJECTS]


def walk(base: str, pages: int) -> list[str]:
    """Follow `next_cursor` through the catalog in every sort, `pages` pages in all."""
    found: list[str] = []
    with httpx.Client(base_url=base, timeout=120) as client:
        for sort in SORTS:
            path: str | None = f"/api/v1/courses?sort={sort}"
            for _ in range(pages // len(SORTS)):
                if path is None:
                    break
                found.append(path)
                cursor = client.get(path).json()["next_cursor"]
                path = f"/api/v1/courses?sort={sort}&cursor={cursor}" if cursor else None
    return found


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def seed(uri: str, courses: int, users: int) -> tuple[list[str], list[str]]:
    """Courses and users (each with one live session) stored directly; the course ids and
    one access token per user."""
    from pymongo import AsyncMongoClient

    from ocp.adapters.mongo import ensure_indexes, mongo_stores
    from ocp.adapters.mongo.identity import _user_to_doc
    from ocp.adapters.security.tokens import JwtTokenIssuer
    from ocp.domain.users import Email, User

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    db = client[DB]
    await ensure_indexes(mongo_stores(db, login_max_failures=5, login_window_s=900))
    settings = Settings(_env_file=None, jwt_secret=SECRET)
    issuer = JwtTokenIssuer(
        secret=SECRET,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_ttl_s=settings.access_token_ttl_s,  # a longer life than the server issues is refused
    )
    docs = build_courses(courses)
    for start in range(0, len(docs), 1000):
        await db["courses"].insert_many(docs[start : start + 1000])
    now = datetime.now(UTC)
    tokens: list[str] = []
    user_docs, sessions = [], []
    for n in range(users):
        user = User.register(
            id=f"{0x20000000 + n:024x}",
            email=Email(f"member{n}@bench.dev"),
            name=f"Member {n}",
            password_hash="$2b$04$" + "x" * 53,
            now=now,
        )
        user_docs.append(_user_to_doc(user))
        family = f"{0x30000000 + n:024x}"
        sessions.append(
            {
                "_id": family,
                "user_id": user.id,
                "revoked": False,
                "expires_at": now + timedelta(days=1),
            }
        )
        tokens.append(issuer.issue_access(user, family, now))
    for start in range(0, users, 1000):
        await db["users"].insert_many(user_docs[start : start + 1000])
        await db["sessions"].insert_many(sessions[start : start + 1000])
    await client.close()
    return [d["_id"] for d in docs], tokens


async def fill(base: str, paths: list[tuple[str, dict[str, str] | None]], width: int = 32) -> int:
    """GET every path (with its headers), `width` at a time; the number answered 200."""
    queue = list(reversed(paths))
    ok = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal ok
        while queue:
            path, headers = queue.pop()
            answer = await client.get(path, headers=headers)
            ok += answer.status_code == 200

    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        await asyncio.gather(*(worker(client) for _ in range(width)))
    return ok


def cache_sizes(base: str) -> dict[str, float]:
    misses: dict[str, float] = {}
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        if line.startswith("ocp_cache_lookups_total{") and 'result="miss"' in line:
            name = line.split('cache="')[1].split('"')[0]
            misses[name] = float(line.rsplit(" ", 1)[1])
    return misses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--courses", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50_000)
    args = parser.parse_args()
    defaults = Settings(_env_file=None)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        database = EmbeddedDatabase(root / "db")
        uri = database.start()
        try:
            began = time.monotonic()
            course_ids, tokens = asyncio.run(seed(uri, args.courses, args.users))
            print(f"seeded {args.courses} courses, {args.users} users in "
                  f"{time.monotonic() - began:.0f} s")  # fmt: skip
            env = {
                "OCP_DATA_DIR": str(root / "data"),
                "OCP_MONGODB_URI": uri,
                "OCP_MONGODB_DB": DB,
                "OCP_JWT_SECRET": SECRET,
                "OCP_LOG_FORMAT": "json",
                "OCP_LOG_LEVEL": "info",
            }
            with ocp_process(env, log_to=str(root / "access.log")) as (base, pid):
                before = rss_mib(pid)
                began = time.monotonic()
                me = [("/api/v1/users/me", {"Authorization": f"Bearer {t}"}) for t in tokens]
                probe = httpx.get(f"{base}{me[0][0]}", headers=me[0][1])
                assert probe.status_code == 200, probe.text
                users_ok = asyncio.run(fill(base, me))
                shown = course_ids[: defaults.cache_courses]
                courses_ok = asyncio.run(
                    fill(base, [(f"/api/v1/courses/{i}", None) for i in shown])
                )
                # A client's page: 20 courses; page 1 of every sort, level and subject, then
                # deeper pages by cursor until the page cache is full.
                pages = [
                    f"/api/v1/courses?sort={sort}"
                    + (f"&level={level}" if level else "")
                    + (f"&tag={tag}" if tag else "")
                    for sort in SORTS
                    for level in LEVELS
                    for tag in [None, *TAGS]
                ]
                pages += walk(base, defaults.cache_catalog_pages - len(pages))
                pages_ok = asyncio.run(fill(base, [(p, None) for p in pages], width=4))
                pages_ok += len(pages) - len(set(pages))  # the walk's pages were read already
                print(f"filled in {time.monotonic() - began:.0f} s: {users_ok} users, "
                      f"{courses_ok} courses, {pages_ok} catalog pages answered 200")  # fmt: skip
                after = rss_mib(pid)
                print(f"misses (what each cache read and kept): {cache_sizes(base)}")
        finally:
            database.stop()
    print(f"server RSS before filling : {before:6.0f} MiB")
    print(f"server RSS caches full    : {after:6.0f} MiB  (aim < 300 MiB)")


if __name__ == "__main__":
    main()
