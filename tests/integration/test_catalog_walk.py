"""Walking every page of every catalog order on the embedded database, caches and fences on,
while other clients publish, edit, enrol and rate: every course whose place in that order did
not change appears exactly once, and nothing appears twice unless it moved.

A course that moves during the walk (a new title in A to Z, a seat in popular, a rating in
rating) can be seen on both sides of the cursor or on neither: keyset paging promises
exactly-once for what stays put and for what is added (API.md), not a snapshot."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

import pytest

from tests.builders import a_course, a_teacher, app_client, signed_up

SORTS = ["newest", "title", "rating", "popular"]
_titles = itertools.count(1)


async def walk(client, sort: str) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"sort": sort, "limit": "7", **({"cursor": cursor} if cursor else {})}
        answer = await client.get("/api/v1/courses", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        seen += [course["id"] for course in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
        await asyncio.sleep(0)  # let the other clients in between pages


@pytest.mark.parametrize("sort", SORTS)
async def test_every_unmoved_course_once_while_others_change_the_catalog(mongo_container, sort):
    container = mongo_container
    async with app_client(container) as client:
        teacher = await a_teacher(client, container)
        courses = [
            await a_course(client, teacher, lessons=1, title=f"Course {n:03d}") for n in range(40)
        ]
        stay = {c.id for c in courses[10:]}
        moving = courses[:10]
        students = [await signed_up(client, container) for _ in range(3)]
        added: list[str] = []
        stop = asyncio.Event()

        async def others() -> None:
            for round_ in itertools.count():
                if stop.is_set():
                    return
                target = moving[round_ % len(moving)]
                student = students[round_ % len(students)]
                new = await a_course(client, teacher, lessons=1, title=f"New {next(_titles)}")
                added.append(new.id)
                await client.patch(
                    f"/api/v1/courses/{target.id}",
                    json={"title": f"Moved {next(_titles)}"},
                    headers=teacher.auth,
                )
                await client.post(f"/api/v1/courses/{target.id}/enrollments", headers=student.auth)
                await client.put(
                    f"/api/v1/courses/{target.id}/reviews/me",
                    json={"rating": 1 + round_ % 5},
                    headers=student.auth,
                )

        changing = asyncio.create_task(others())
        try:
            seen = await walk(client, sort)
        finally:
            stop.set()
            await changing
    counts = Counter(seen)
    if sort == "newest":  # nothing moves in it: a publication time never changes
        stay |= {c.id for c in moving}
    assert all(counts[course_id] == 1 for course_id in stay), sort
    assert all(counts[course_id] <= 1 for course_id in added), sort
    assert set(counts) <= stay | {c.id for c in moving} | set(added)
    assert added, "nothing changed while walking: the test proved nothing"
