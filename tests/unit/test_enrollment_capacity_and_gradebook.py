"""Enrollment under concurrency (a student's repeats never hold a second seat), enrollment is
for students only, and the gradebook in pages and as a streamed CSV, on in-memory adapters."""

from __future__ import annotations

import asyncio

from dependency_injector import providers

from ocp.adapters.memory.courses import InMemoryCourseRepository
from ocp.adapters.memory.learning import InMemorySubmissionRepository
from ocp.application.learning import grades as grades_module
from ocp.domain.users import Role
from tests.builders import a_course, a_teacher, enrolled, signed_up, url
from tests.scenarios import (
    a_graded_course,
    one_student_floods_while_others_enroll,
    the_gradebook_comes_in_pages_with_a_link_to_the_next,
    the_gradebook_csv_is_the_whole_book_streamed_page_by_page,
)


class RoundTripCounters(InMemoryCourseRepository):
    """Courses whose counters give the event loop a turn around each change, as a database
    round trip does: concurrent requests interleave between the steps of an enrollment."""

    async def take_seats(self, course_id, count):
        await asyncio.sleep(0)
        taken = await super().take_seats(course_id, count)
        await asyncio.sleep(0)
        return taken

    async def give_back_seats(self, course_id, count):
        await asyncio.sleep(0)
        await super().give_back_seats(course_id, count)
        await asyncio.sleep(0)


async def test_a_student_flooding_enrollments_holds_one_seat_and_others_get_in(client, container):
    container.courses.override(providers.Object(RoundTripCounters()))
    await one_student_floods_while_others_enroll(client, container)


async def test_a_refused_enrollment_leaves_no_enrollment_behind(client, container):
    container.courses.override(providers.Object(RoundTripCounters()))
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher, capacity=1)
    students = [await signed_up(client, container) for _ in range(6)]
    answers = await asyncio.gather(
        *(client.post(url(course, "/enrollments"), headers=s.auth) for s in students)
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    roster = await client.get(url(course, "/enrollments?limit=100"), headers=teacher.auth)
    assert len(roster.json()["items"]) == 1
    for student, answer in zip(students, answers, strict=True):
        progress = await client.get(url(course, "/progress"), headers=student.auth)
        assert progress.status_code == (200 if answer.status_code == 201 else 403)


# --- enrollment is for students ------------------------------------------------------------


async def test_instructors_and_admins_cannot_enroll_themselves(client, container):
    owner = await a_teacher(client, container)
    course = await a_course(client, owner)
    for role in (Role.INSTRUCTOR, Role.ADMIN):
        other = await signed_up(client, container, role)
        answer = await client.post(url(course, "/enrollments"), headers=other.auth)
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.get(url(course))).json()["enrolled_count"] == 0


async def test_bulk_enrollment_reports_staff_and_admins_as_not_students(client, container):
    owner = await a_teacher(client, container)
    course = await a_course(client, owner, capacity=10)
    instructor = await signed_up(client, container, Role.INSTRUCTOR)
    admin = await signed_up(client, container, Role.ADMIN)
    student = await signed_up(client, container)
    emails = [owner.email, instructor.email, admin.email, student.email]
    answer = await client.post(
        url(course, "/enrollments/bulk"), json={"emails": emails}, headers=owner.auth
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["enrolled"] == 1 and body["already"] == 0 and body["full"] == []
    assert sorted(body["not_student"]) == sorted([owner.email, instructor.email, admin.email])
    assert (await client.get(url(course))).json()["enrolled_count"] == 1
    roster = await client.get(url(course, "/enrollments?limit=100"), headers=owner.auth)
    assert len(roster.json()["items"]) == 1


async def test_an_enrolled_student_still_counts_as_already(client, container):
    owner = await a_teacher(client, container)
    course = await a_course(client, owner)
    student = await enrolled(client, container, course)
    answer = await client.post(
        url(course, "/enrollments/bulk"), json={"emails": [student.email]}, headers=owner.auth
    )
    assert answer.json() == {
        "enrolled": 0,
        "already": 1,
        "unknown": [],
        "full": [],
        "not_student": [],
    }


# --- the gradebook in pages, and streamed as CSV ------------------------------------------


async def test_the_gradebook_comes_in_pages_with_a_link_to_the_next(client, container):
    await the_gradebook_comes_in_pages_with_a_link_to_the_next(client, container)


async def test_the_gradebook_csv_is_the_whole_book_streamed_page_by_page(
    client, container, monkeypatch
):
    monkeypatch.setattr(grades_module, "_EXPORT_PAGE", 2)
    await the_gradebook_csv_is_the_whole_book_streamed_page_by_page(client, container)


class CountingSubmissions(InMemorySubmissionRepository):
    """Records which students each read of latest attempts asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[list[str] | None] = []

    async def latest_in_course(self, course_id, user_id=None):
        self.asked.append(None if user_id is None else [user_id])
        return await super().latest_in_course(course_id, user_id)

    async def latest_of_students(self, course_id, user_ids):
        self.asked.append(list(user_ids))
        return await super().latest_of_students(course_id, user_ids)


async def test_a_gradebook_page_reads_the_work_of_its_students_only(client, container):
    counting = CountingSubmissions()
    container.submissions.override(providers.Object(counting))
    teacher, course, people, _ = await a_graded_course(client, container)
    counting.asked.clear()
    page = await client.get(url(course, "/gradebook?limit=2"), headers=teacher.auth)
    assert page.status_code == 200
    assert counting.asked == [sorted(p.id for p in people)[:2]]
