"""Issue 5 figure: the roster of a course with 5,000 enrolled students and 50 lessons on
SecantusDB. `GET /api/v1/courses/{id}/enrollments?limit=100`: how many database commands one
request issues, and its latency as a ratio to the equivalent raw pymongo queries (the
enrollments page and the users `$in`) on the same database.

    .venv/bin/python bench/roster.py [--students 5000] [--lessons 50] [--rounds 30]

The app runs in this process (ASGI transport, no sockets between client and app), so a
CommandListener on the app's own MongoDB client sees every command it sends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient, MongoClient

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.harness import ocp_on_mongo  # noqa: E402
from ocp.adapters.mongo.courses import course_to_doc  # noqa: E402
from ocp.adapters.mongo.embedded import EmbeddedDatabase  # noqa: E402
from ocp.adapters.mongo.identity import _user_to_doc  # noqa: E402
from ocp.adapters.mongo.learning import enrollment_to_doc  # noqa: E402
from ocp.domain.courses import Course, LessonKind, LessonOutline  # noqa: E402
from ocp.domain.learning import Enrollment  # noqa: E402
from ocp.domain.users import Email, Role, User  # noqa: E402

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
PASSWORD = "bench password"
DB = "bench_roster"


def seed(uri: str, students: int, lessons: int, teacher_id: str) -> tuple[str, list[str]]:
    """Insert the course, its students and their enrollments directly (insert_many)."""
    rng = random.Random(5)
    db = MongoClient(uri, tz_aware=True)[DB]
    teacher = User.register(
        id=teacher_id,
        email=Email("t@example.com"),
        name="T",
        password_hash="x",
        now=NOW,
        role=Role.INSTRUCTOR,
    )
    course = Course.create(id="c" * 24, owner=teacher, title_text="Big course", now=NOW)
    lesson_ids: list[str] = []
    for m in range(5):
        module = course.add_module(f"m{m:023d}", f"Module {m}", "", NOW)
        for n in range(lessons // 5):
            lesson_id = f"l{m:03d}{n:020d}"
            lesson_ids.append(lesson_id)
            course.add_lesson(module.id, LessonOutline(lesson_id, "L", LessonKind.TEXT), NOW)
    course.publish(NOW)
    course.enrolled_count = students
    db.courses.insert_one(course_to_doc(course))
    users, enrollments = [], []
    for n in range(students):
        user = User.register(
            id=f"u{n:023d}",
            email=Email(f"s{n}@example.com"),
            name=f"Student {n}",
            password_hash="x",
            now=NOW,
        )
        users.append(_user_to_doc(user))
        done = rng.sample(lesson_ids, rng.randint(0, len(lesson_ids)))
        enrollments.append(
            enrollment_to_doc(
                Enrollment(
                    id=f"e{n:023d}",
                    course_id=course.id,
                    user_id=user.id,
                    enrolled_at=NOW,
                    completed_lesson_ids=done,
                )
            )
        )
    for start in range(0, students, 1000):
        db.users.insert_many(users[start : start + 1000])
        db.enrollments.insert_many(enrollments[start : start + 1000])
    return course.id, lesson_ids


async def raw_page(db: Any, course_id: str, limit: int) -> int:
    """The same reads by hand: one enrollments page, one users `$in`."""
    page = (
        await db.enrollments.find({"course_id": course_id})
        .sort("_id", 1)
        .limit(limit + 1)
        .to_list()
    )
    ids = [doc["user_id"] for doc in page[:limit]]
    users = await db.users.find({"_id": {"$in": ids}}).to_list()
    return len(users)


async def run(uri: str, args: argparse.Namespace, data_dir: Path) -> None:
    async with ocp_on_mongo(uri, DB, data_dir) as (container, app, counter):
        await container.profile_service().register(
            "teacher@example.com", PASSWORD, "Teacher", role=Role.INSTRUCTOR
        )
        teacher = await container.users().get_by_email("teacher@example.com")
        course_id, _ = seed(uri, args.students, args.lessons, teacher.id)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            token = (
                await client.post(
                    "/api/v1/auth/token",
                    data={"username": "teacher@example.com", "password": PASSWORD},
                )
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            path = f"/api/v1/courses/{course_id}/enrollments?limit=100"
            for _ in range(3):  # warm up
                assert (await client.get(path, headers=auth)).status_code == 200
            counter.names.clear()
            answer = await client.get(path, headers=auth)
            per_request = dict(counter.names)
            body = answer.json()
            assert len(body["items"]) == 100 and body["next_cursor"]
            api_times = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                assert (await client.get(path, headers=auth)).status_code == 200
                api_times.append(time.perf_counter() - started)
            last_page = f"{path}&cursor={body['next_cursor']}"
            assert (await client.get(last_page, headers=auth)).status_code == 200

        raw_client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
        raw_db = raw_client[DB]
        for _ in range(3):
            await raw_page(raw_db, course_id, 100)
        raw_times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            await raw_page(raw_db, course_id, 100)
            raw_times.append(time.perf_counter() - started)
        await raw_client.close()

    api, raw = statistics.median(api_times), statistics.median(raw_times)
    total = sum(per_request.values())
    print(f"students {args.students}, lessons {args.lessons}, page limit 100, rounds {args.rounds}")
    print(f"database commands per roster request : {total}  {per_request}")
    print(f"OCP GET .../enrollments?limit=100     : {api * 1000:7.1f} ms median")
    print(f"raw pymongo page + users $in          : {raw * 1000:7.1f} ms median")
    print(f"ratio (OCP / raw)                     : {api / raw:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=5000)
    parser.add_argument("--lessons", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedDatabase(Path(tmp) / "db")
        uri = server.start()
        try:
            asyncio.run(run(uri, args, Path(tmp)))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
