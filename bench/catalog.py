"""Issue 11 figures: the catalog on the embedded database (SecantusDB) with 100,000 published
courses, served as `make run` serves it (metrics and JSON access log on): the p50 latency of
page 1 and page 1,000 of each sort, and of a tag and a word-prefix filter each matching
10,000 courses, uncached (OCP_CACHE_ENABLED=false: every request reads the database, between
fences) and cached (the page cache answers), beside a bare FastAPI + pymongo route reading
page 1 as one open range (the query every page was before).

    .venv/bin/python bench/catalog.py [--courses 100000] [--samples 15]
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
from bench.harness import ocp_process, ocp_server, uvicorn_server  # noqa: E402

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


def cursor_of_page(docs: list[dict[str, Any]], sort: str, page: int) -> str:
    """The cursor that opens page `page` (of 20) of the whole catalog in `sort` order."""
    from ocp.adapters.mongo.courses import SORT_FIELDS
    from ocp.application.paging import encode_cursor
    from ocp.domain.courses import CatalogSort

    order = CatalogSort(sort)
    keys = sorted((d[SORT_FIELDS[order]] for d in docs), reverse=order.descending)
    return encode_cursor((sort, keys[(page - 1) * 20 - 1]))


def cases(docs: list[dict[str, Any]], deep: int) -> dict[str, str]:
    """name -> path: page 1 and page `deep` of each sort, a tag and a word-prefix filter that
    each match a tenth of the catalog."""
    paths = {}
    for sort in ("newest", "title", "rating", "popular"):
        paths[f"{sort} p1"] = f"/api/v1/courses?sort={sort}"
        cursor = cursor_of_page(docs, sort, deep)
        paths[f"{sort} p{deep}"] = f"/api/v1/courses?sort={sort}&cursor={cursor}"
    paths["tag (1/10)"] = "/api/v1/courses?tag=beginners"
    paths["q prefix (1/10)"] = "/api/v1/courses?q=practi"
    return paths


def main() -> None:
    from ocp.adapters.mongo.embedded import EmbeddedDatabase

    parser = argparse.ArgumentParser()
    parser.add_argument("--courses", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    deep = min(1000, args.courses // 20)
    with tempfile.TemporaryDirectory(prefix="ocp-bench-") as scratch:
        database = EmbeddedDatabase(Path(scratch) / "db")
        uri = database.start()
        try:
            began = time.perf_counter()
            asyncio.run(load(uri, args.courses))
            print(f"loaded {args.courses} published courses in {time.perf_counter() - began:.0f} s")
            docs = build_courses(args.courses)
            paths = cases(docs, deep)
            env = {**ENV, "OCP_MONGODB_URI": uri, "OCP_LOG_FORMAT": "json", "OCP_LOG_LEVEL": "info"}
            results: dict[str, dict[str, float]] = {}
            with (
                ocp_process(
                    {**env, "OCP_DATA_DIR": f"{scratch}/on"}, log_to=f"{scratch}/on.log"
                ) as (cached, pid),
                ocp_server(
                    {**env, "OCP_DATA_DIR": f"{scratch}/off", "OCP_CACHE_ENABLED": "false"},
                    log_to=f"{scratch}/off.log",
                ) as uncached,
                uvicorn_server("bench.catalog:bare_app", factory=True, env=env) as bare,
            ):
                probe = f"{uncached}{paths[f'newest p{deep}']}"
                waited = time.monotonic()  # the fences are read in the background at start
                while statistics.median(latencies(probe, 3)) > 0.05:
                    assert time.monotonic() - waited < 300, "no fences after 5 minutes"
                    time.sleep(1)
                bare_p50 = statistics.median(latencies(f"{bare}/api/v1/courses", args.samples))
                for name, path in paths.items():
                    results[name] = {
                        "uncached": statistics.median(latencies(uncached + path, args.samples)),
                        "cached": statistics.median(latencies(cached + path, args.samples)),
                    }
                rss = Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]
        finally:
            database.stop()
    print(f"bare FastAPI + pymongo page 1 (open range): {bare_p50 * 1000:8.1f} ms p50")
    print(f"{'case':18} {'uncached p50':>13} {'cached p50':>11}   (aims: <= 20 ms, <= 2 ms)")
    for name, figures in results.items():
        print(f"{name:18} {figures['uncached'] * 1000:10.1f} ms {figures['cached'] * 1000:8.2f} ms")
    print(f"server RSS (caches on) after the run: {int(rss) / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
