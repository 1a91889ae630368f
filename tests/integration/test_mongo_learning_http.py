"""Learning over HTTP on MongoDB (SecantusDB): capacity and ratings under concurrency, and the
main flows on the real adapters."""

from __future__ import annotations

import asyncio

from ocp.application.learning import grades as grades_module
from tests.builders import a_course, a_teacher, enrolled, signed_up, url
from tests.scenarios import (
    one_student_floods_while_others_enroll,
    the_gradebook_comes_in_pages_with_a_link_to_the_next,
    the_gradebook_csv_is_the_whole_book_streamed_page_by_page,
)


async def test_twenty_concurrent_enrollments_fill_five_seats_exactly(
    mongo_client_http, mongo_container
):
    client = mongo_client_http
    teacher = await a_teacher(client, mongo_container)
    course = await a_course(client, teacher, capacity=5)
    students = [await signed_up(client, mongo_container) for _ in range(20)]
    answers = await asyncio.gather(
        *(client.post(url(course, "/enrollments"), headers=s.auth) for s in students)
    )
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 5 and codes.count(409) == 15
    shown = (await client.get(url(course))).json()
    assert shown["enrolled_count"] == 5
    roster = await client.get(url(course, "/enrollments?limit=100"), headers=teacher.auth)
    assert len(roster.json()["items"]) == 5


async def test_one_student_enrolling_concurrently_takes_one_seat(
    mongo_client_http, mongo_container
):
    client = mongo_client_http
    teacher = await a_teacher(client, mongo_container)
    course = await a_course(client, teacher, capacity=3)
    student = await signed_up(client, mongo_container)
    answers = await asyncio.gather(
        *(client.post(url(course, "/enrollments"), headers=student.auth) for _ in range(6))
    )
    # The unique insert decides first, so a repeat never holds a seat: never "full".
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 5 + [201]
    assert len({a.json()["id"] for a in answers if a.status_code in (200, 201)}) == 1
    assert (await client.get(url(course))).json()["enrolled_count"] == 1


async def test_a_student_flooding_enrollments_holds_one_seat_on_mongodb(
    mongo_client_http, mongo_container
):
    await one_student_floods_while_others_enroll(mongo_client_http, mongo_container)


async def test_the_gradebook_pages_on_mongodb(mongo_client_http, mongo_container):
    await the_gradebook_comes_in_pages_with_a_link_to_the_next(mongo_client_http, mongo_container)


async def test_the_gradebook_csv_streams_page_by_page_on_mongodb(
    mongo_client_http, mongo_container, monkeypatch
):
    monkeypatch.setattr(grades_module, "_EXPORT_PAGE", 2)
    await the_gradebook_csv_is_the_whole_book_streamed_page_by_page(
        mongo_client_http, mongo_container
    )


async def test_concurrent_reviews_keep_the_rating_exact(mongo_client_http, mongo_container):
    client = mongo_client_http
    teacher = await a_teacher(client, mongo_container)
    course = await a_course(client, teacher)
    students = [await enrolled(client, mongo_container, course) for _ in range(8)]
    ratings = [5, 4, 3, 5, 1, 2, 5, 4]
    answers = await asyncio.gather(
        *(
            client.put(url(course, "/reviews/me"), json={"rating": r}, headers=s.auth)
            for s, r in zip(students, ratings, strict=True)
        )
    )
    assert all(a.status_code == 200 for a in answers)
    # Everyone revises at once, one of them twice from two devices.
    edits = [1, 1, 1, 1, 1, 1, 1, 1]
    await asyncio.gather(
        *(
            client.put(url(course, "/reviews/me"), json={"rating": r}, headers=s.auth)
            for s, r in zip(students, edits, strict=True)
        ),
        client.put(url(course, "/reviews/me"), json={"rating": 1}, headers=students[0].auth),
    )
    shown = (await client.get(url(course))).json()
    assert (shown["rating_avg"], shown["rating_count"]) == (1.0, 8)


async def test_learning_flow_on_mongodb(mongo_client_http, mongo_container):
    client = mongo_client_http
    teacher = await a_teacher(client, mongo_container)
    course = await a_course(client, teacher, lessons=2)
    student = await enrolled(client, mongo_container, course)
    for lesson in course.lesson_ids:
        await client.put(f"/api/v1/lessons/{lesson}/completion", headers=student.auth)
    progress = (await client.get(url(course, "/progress"), headers=student.auth)).json()
    assert progress["percent"] == 100 and progress["completed_at"]
    made = await client.post(
        url(course, "/assignments"),
        json={"title": "Essay", "max_points": 10, "due_at": "2020-01-01T00:00:00Z"},
        headers=teacher.auth,
    )
    work = await client.post(
        f"/api/v1/assignments/{made.json()['id']}/submissions",
        json={"text": "done"},
        headers=student.auth,
    )
    assert work.status_code == 201 and work.json()["late"] is True
    graded = await client.put(
        f"/api/v1/submissions/{work.json()['id']}/grade", json={"points": 9}, headers=teacher.auth
    )
    assert graded.status_code == 200
    mine = (await client.get(url(course, "/grades/me"), headers=student.auth)).json()["items"]
    assert mine[0]["points"] == 9 and mine[0]["late"] is True
    sheet = await client.get(url(course, "/gradebook?format=csv"), headers=teacher.auth)
    assert sheet.status_code == 200 and sheet.text.count("\r\n") == 2
    dropped = await client.delete(url(course, "/enrollments/me"), headers=student.auth)
    assert dropped.status_code == 204
    assert (await client.get(url(course))).json()["enrolled_count"] == 0
