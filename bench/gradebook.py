"""Issue 9 figure: the gradebook of a course with 3,000 enrolled students and 60 assignments on
SecantusDB. `GET /api/v1/courses/{id}/gradebook?limit=100`: how many database commands one
page issues, its latency as a ratio to the same reads by raw pymongo (the assignments, the
enrollments page, the users `$in`, the page's latest submissions) on the same database, in the
same run; then the whole book as a streamed CSV (`?format=csv`): its time, size and the peak
of memory the process allocated while streaming it.

    .venv/bin/python bench/gradebook.py [--students 3000] [--assignments 60] [--rounds 30]

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
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient, MongoClient

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.harness import ocp_on_mongo  # noqa: E402
from bench.roster import NOW, PASSWORD  # noqa: E402
from ocp.adapters.mongo.courses import course_to_doc  # noqa: E402
from ocp.adapters.mongo.embedded import EmbeddedDatabase  # noqa: E402
from ocp.adapters.mongo.identity import _user_to_doc  # noqa: E402
from ocp.adapters.mongo.learning import enrollment_to_doc  # noqa: E402
from ocp.adapters.mongo.learning.assignments import (  # noqa: E402
    _assignment_to_doc,
    _submission_to_doc,
)
from ocp.domain.courses import Course, LessonKind, LessonOutline  # noqa: E402
from ocp.domain.learning import Enrollment, Submission, new_assignment  # noqa: E402
from ocp.domain.users import Email, Role, User  # noqa: E402

DB = "bench_gradebook"
_BATCH = 5000


def seed(uri: str, students: int, assignments: int, teacher_id: str) -> str:
    """The course, its assignments, students, enrollments and one graded latest attempt of
    most students on most assignments, inserted directly (insert_many)."""
    rng = random.Random(9)
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
    module = course.add_module("m" * 24, "Module", "", NOW)
    course.add_lesson(module.id, LessonOutline("l" * 24, "L", LessonKind.TEXT), NOW)
    course.publish(NOW)
    course.enrolled_count = students
    db.courses.insert_one(course_to_doc(course))
    work = [
        new_assignment(
            id=f"a{n:023d}",
            course_id=course.id,
            title_text=f"Assignment {n}",
            instructions_text="",
            points=10,
            now=NOW,
        )
        for n in range(assignments)
    ]
    db.assignments.insert_many([_assignment_to_doc(a) for a in work])
    users, enrollments, submissions = [], [], []
    for n in range(students):
        user = User.register(
            id=f"u{n:023d}",
            email=Email(f"s{n}@example.com"),
            name=f"Student {n}",
            password_hash="x",
            now=NOW,
        )
        users.append(_user_to_doc(user))
        enrollments.append(
            enrollment_to_doc(
                Enrollment(id=f"e{n:023d}", course_id=course.id, user_id=user.id, enrolled_at=NOW)
            )
        )
        for a in work:
            if rng.random() < 0.9:
                submissions.append(
                    _submission_to_doc(
                        Submission(
                            id=f"s{len(submissions):023d}",
                            assignment_id=a.id,
                            course_id=course.id,
                            user_id=user.id,
                            attempt=1,
                            submitted_at=NOW,
                            late=False,
                            text="my work",
                            points=rng.randint(0, 10),
                            graded_at=NOW,
                            grader_id=teacher_id,
                        )
                    )
                )
    for rows, collection in ((users, db.users), (enrollments, db.enrollments)):
        for start in range(0, len(rows), _BATCH):
            collection.insert_many(rows[start : start + _BATCH])
    for start in range(0, len(submissions), _BATCH):
        db.submissions.insert_many(submissions[start : start + _BATCH])
    return course.id


async def raw_page(db: Any, course_id: str, limit: int) -> int:
    """The same reads by hand: the assignments, one enrollments page in student order, one
    users `$in`, the page's latest submissions as one student-id range."""
    await db.assignments.find({"course_id": course_id}).sort("_id", 1).to_list()
    page = (
        await db.enrollments.find({"course_id": course_id})
        .sort("user_id", 1)
        .limit(limit + 1)
        .to_list()
    )
    ids = [doc["user_id"] for doc in page[:limit]]
    await db.users.find({"_id": {"$in": ids}}).to_list()
    work = await db.submissions.find(
        {"course_id": course_id, "latest": True, "user_id": {"$gte": ids[0], "$lte": ids[-1]}},
        {"text": 0},
    ).to_list()
    return len(work)


async def run(uri: str, args: argparse.Namespace, data_dir: Path) -> None:
    async with ocp_on_mongo(uri, DB, data_dir) as (container, app, counter):
        await container.profile_service().register(
            "teacher@example.com", PASSWORD, "Teacher", role=Role.INSTRUCTOR
        )
        teacher = await container.users().get_by_email("teacher@example.com")
        course_id = seed(uri, args.students, args.assignments, teacher.id)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=600
        ) as client:
            token = (
                await client.post(
                    "/api/v1/auth/token",
                    data={"username": "teacher@example.com", "password": PASSWORD},
                )
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            path = f"/api/v1/courses/{course_id}/gradebook?limit=100"
            for _ in range(3):  # warm up
                assert (await client.get(path, headers=auth)).status_code == 200
            counter.names.clear()
            answer = await client.get(path, headers=auth)
            per_request = dict(counter.names)
            body = answer.json()
            assert len(body["items"]) == 100 and body["next_cursor"]
            assert len(body["assignments"]) == args.assignments
            page_bytes = len(answer.content)
            api_times = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                assert (await client.get(path, headers=auth)).status_code == 200
                api_times.append(time.perf_counter() - started)

            csv_path = f"/api/v1/courses/{course_id}/gradebook?format=csv"
            tracemalloc.start()
            started = time.perf_counter()
            size = lines = 0
            async with client.stream("GET", csv_path, headers=auth) as stream:
                assert stream.status_code == 200
                async for chunk in stream.aiter_bytes():
                    size += len(chunk)
                    lines += chunk.count(b"\r\n")
            csv_time = time.perf_counter() - started
            _, csv_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert lines == args.students + 1

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
    print(
        f"students {args.students}, assignments {args.assignments}, page limit 100, "
        f"rounds {args.rounds}"
    )
    print(f"database commands per gradebook page    : {total}  {per_request}")
    print(f"OCP GET .../gradebook?limit=100         : {api * 1000:7.1f} ms median, {page_bytes} B")
    print(f"raw pymongo, the same four reads        : {raw * 1000:7.1f} ms median")
    print(f"ratio (OCP / raw)                       : {api / raw:.2f}")
    print(
        f"CSV, whole book streamed                : {csv_time:7.2f} s, {size} B, "
        f"peak allocated {csv_peak / 1e6:.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--assignments", type=int, default=60)
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
