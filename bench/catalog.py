"""Issue 3 figures: the catalog on the embedded database (SecantusDB) with 10,000 published
courses.

1. `GET /api/v1/courses?limit=20` throughput as a ratio to a bare FastAPI + pymongo route
   issuing the equivalent query on the same database, in the same run (aim >= 0.8);
2. the latency of page 1 against page 400 of the same listing (aim: within 1.5x).

    .venv/bin/python bench/catalog.py [--courses 10000] [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.harness import median, uvicorn_server, wrk  # noqa: E402

DB_NAME = "bench_catalog"
ENV = {
    "OCP_JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
    "OCP_BCRYPT_ROUNDS": "4",
    "OCP_MONGODB_DB": DB_NAME,
}
SUBJECTS = [
    "Python",
    "Rust",
    "SQL",
    "React",
    "Statistics",
    "Docker",
    "Go",
    "Kotlin",
    "CSS",
    "Security",
    "Pandas",
    "Algorithms",
    "Kubernetes",
    "Writing",
    "Design",
    "Networks",
]
ANGLES = [
    "for Beginners",
    "in Practice",
    "Deep Dive",
    "from Scratch",
    "for Teams",
    "Patterns",
    "Performance",
    "Essentials",
    "Masterclass",
    "Crash Course",
]
LISTED = [  # the fields a catalog item carries, and so what both routes read
    "slug", "title", "summary", "description", "tags", "level", "category", "status",
    "owner_id", "instructor_ids", "capacity", "enrolled_count", "rating_avg", "rating_count",
    "cover_file_id", "created_at", "updated_at", "published_at",
]  # fmt: skip


def build_courses(count: int) -> list[dict[str, Any]]:
    from ocp.adapters.mongo.courses import course_to_doc
    from ocp.domain.courses import Course, LessonKind, LessonOutline, Level
    from ocp.domain.users import Email, Role, User

    start = datetime(2025, 1, 1, tzinfo=UTC)
    owners = [
        User.register(
            id=f"{n:024x}", email=Email(f"t{n}@bench.dev"), name=f"Teacher {n}",
            password_hash="x", now=start, role=Role.INSTRUCTOR,
        )
        for n in range(50)
    ]  # fmt: skip
    docs = []
    for n in range(count):
        subject, angle = SUBJECTS[n % len(SUBJECTS)], ANGLES[(n // 16) % len(ANGLES)]
        when = start + timedelta(minutes=n)
        course = Course.create(
            id=f"{0x10000000 + n:024x}",
            owner=owners[n % len(owners)],
            title_text=f"{subject} {angle} {n}",
            now=when,
            summary_text=f"Learn {subject.lower()} {angle.lower()} with projects and quizzes.",
            description_text=f"A course about {subject} ({angle}).",
            tag_names=[subject.lower(), angle.split()[-1].lower()],
            level=list(Level)[n % 3],
            category_name="Programming",
        )
        course.slug = f"{course.slug}-{n}"
        for m in range(3):
            module = course.add_module(f"{n:08x}m{m}", f"Module {m + 1}", "", when)
            for k in range(3):
                course.add_lesson(
                    module.id,
                    LessonOutline(
                        f"{n:08x}m{m}l{k}", f"Lesson {k + 1}", LessonKind.TEXT, k == 0, 300
                    ),
                    when,
                )
        course.publish(when)
        docs.append(course_to_doc(course))
    return docs


async def load(uri: str, count: int) -> str:
    """Store `count` published courses; the cursor of page 400 of the newest-first listing."""
    from pymongo import AsyncMongoClient

    from ocp.adapters.mongo.courses import MongoCourseRepository
    from ocp.application.paging import encode_cursor

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    try:
        db = client[DB_NAME]
        await MongoCourseRepository(db).ensure_indexes()
        docs = build_courses(count)
        for chunk in range(0, len(docs), 500):
            await db["courses"].insert_many(docs[chunk : chunk + 500])
        # Page 400 of 20 starts after the 7,980th newest course (or the last full page).
        keys = sorted((d["newest_key"] for d in docs), reverse=True)
        page = min(400, count // 20)
        return encode_cursor(("newest", keys[(page - 1) * 20 - 1]))
    finally:
        await client.close()


def bare_app() -> Any:
    """The baseline: FastAPI and pymongo, one route issuing the same query as the catalog's
    first page (published, newest first, limit + 1) and returning the same item fields."""
    from fastapi import FastAPI
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        os.environ["OCP_MONGODB_URI"], tz_aware=True
    )
    courses = client[DB_NAME]["courses"]
    projection = {"modules": 0, "newest_key": 0, "title_sort": 0,
                  "rating_key": 0, "popular_key": 0}  # fmt: skip
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/courses")
    async def catalog(limit: int = 20) -> dict[str, Any]:
        cursor = courses.find({"status": "published"}, projection)
        docs = await cursor.sort("newest_key", -1).limit(limit + 1).to_list()
        items = [{"id": d["_id"], **{k: d.get(k) for k in LISTED}} for d in docs[:limit]]
        return {"items": items, "next_cursor": "more" if len(docs) > limit else None}

    return app


def latencies(url: str, times: int) -> list[float]:
    spent = []
    with httpx.Client(timeout=120) as client:
        for _ in range(times):
            began = time.perf_counter()
            response = client.get(url)
            spent.append(time.perf_counter() - began)
            assert response.status_code == 200, response.text
    return spent


def main() -> None:
    from ocp.adapters.mongo.embedded import EmbeddedDatabase

    parser = argparse.ArgumentParser()
    parser.add_argument("--courses", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ocp-bench-") as scratch:
        database = EmbeddedDatabase(Path(scratch) / "db")
        uri = database.start()
        try:
            began = time.perf_counter()
            page_400 = asyncio.run(load(uri, args.courses))
            print(f"loaded {args.courses} published courses in {time.perf_counter() - began:.1f}s")
            env = {**ENV, "OCP_MONGODB_URI": uri, "OCP_DATA_DIR": scratch}
            with (
                uvicorn_server("ocp.entrypoints.http.app:create_app", factory=True, env=env) as ocp,
                uvicorn_server("bench.catalog:bare_app", factory=True, env=env) as bare,
            ):
                first = httpx.get(f"{ocp}/api/v1/courses?limit=20", timeout=120).json()
                deep = httpx.get(f"{ocp}/api/v1/courses?limit=20&cursor={page_400}", timeout=120)
                baseline = httpx.get(f"{bare}/api/v1/courses?limit=20", timeout=120).json()
                assert [c["id"] for c in first["items"]] == [c["id"] for c in baseline["items"]]
                assert len(deep.json()["items"]) == 20, deep.text
                ocp_rps, bare_rps = [], []
                for _ in range(args.rounds):  # alternate, so drift hits both alike
                    run = {"seconds": args.seconds, "connections": args.connections}
                    bare_rps.append(wrk(f"{bare}/api/v1/courses?limit=20", **run))
                    ocp_rps.append(wrk(f"{ocp}/api/v1/courses?limit=20", **run))
                one = latencies(f"{ocp}/api/v1/courses?limit=20", args.samples)
                four_hundred = latencies(
                    f"{ocp}/api/v1/courses?limit=20&cursor={page_400}", args.samples
                )
        finally:
            database.stop()
    b, o = median(bare_rps), median(ocp_rps)
    p1, p400 = statistics.median(one), statistics.median(four_hundred)
    print(
        f"bare FastAPI + pymongo route : {b:8.1f} req/s  (rounds {[round(x, 1) for x in bare_rps]})"
    )
    print(
        f"OCP GET /courses?limit=20    : {o:8.1f} req/s  (rounds {[round(x, 1) for x in ocp_rps]})"
    )
    print(f"throughput ratio             : {o / b:.2f}  (aim >= 0.8)")
    print(f"page 1 median latency        : {p1 * 1000:8.1f} ms")
    print(f"page 400 median latency      : {p400 * 1000:8.1f} ms")
    print(f"page 400 / page 1            : {p400 / p1:.2f}  (aim <= 1.5)")


if __name__ == "__main__":
    main()
