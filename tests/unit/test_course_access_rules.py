"""Who may still act after a role or a course status changes: course staff powers need the
instructor role at the time of the request (admins aside)."""

from __future__ import annotations

import pytest

from ocp.application.courses import CourseDraft, LessonDraft
from ocp.application.learning import AssignmentDraft, SubmissionDraft
from ocp.domain.courses import CourseChanges, LessonKind
from ocp.domain.errors import Conflict, NotFound, PermissionDenied
from ocp.domain.users import Role
from tests.builders import a_user, course_body, signed_up


async def _published_course(client, teacher) -> str:
    course = (await client.post("/api/v1/courses", json=course_body(), headers=teacher.auth)).json()
    module = await client.post(
        f"/api/v1/courses/{course['id']}/modules", json={"title": "M"}, headers=teacher.auth
    )
    await client.post(
        f"/api/v1/courses/{course['id']}/modules/{module.json()['id']}/lessons",
        json={"title": "L", "kind": "text", "body_markdown": "hello"},
        headers=teacher.auth,
    )
    published = await client.post(f"/api/v1/courses/{course['id']}/publish", headers=teacher.auth)
    assert published.status_code == 200, published.text
    return course["id"]


async def _set_role(client, admin, user_id: str, role: str) -> None:
    changed = await client.patch(
        f"/api/v1/users/{user_id}", json={"role": role}, headers=admin.auth
    )
    assert changed.status_code == 200, changed.text


async def test_a_demoted_instructor_loses_course_powers_until_promoted_again(client, container):
    admin = await signed_up(client, container, Role.ADMIN)
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    course_id = await _published_course(client, teacher)
    student = await signed_up(client, container)
    assert (
        await client.post(f"/api/v1/courses/{course_id}/enrollments", headers=student.auth)
    ).status_code == 201

    await _set_role(client, admin, teacher.id, "student")
    staff_reads = [
        f"/api/v1/courses/{course_id}/enrollments",  # the roster, with student emails
        f"/api/v1/courses/{course_id}/gradebook",
    ]
    for path in staff_reads:
        assert (await client.get(path, headers=teacher.auth)).status_code == 403, path
    edit = await client.patch(
        f"/api/v1/courses/{course_id}", json={"title": "Mine still"}, headers=teacher.auth
    )
    assert edit.status_code == 403
    archive = await client.post(f"/api/v1/courses/{course_id}/archive", headers=teacher.auth)
    assert archive.status_code == 403
    # Still the owner: the course is intact and comes back with the role.
    course = (await client.get(f"/api/v1/courses/{course_id}")).json()
    assert course["owner_id"] == teacher.id and course["status"] == "published"

    await _set_role(client, admin, teacher.id, "instructor")
    for path in staff_reads:
        assert (await client.get(path, headers=teacher.auth)).status_code == 200, path


async def test_a_demoted_co_instructor_loses_course_powers(client, container):
    admin = await signed_up(client, container, Role.ADMIN)
    owner = await signed_up(client, container, Role.INSTRUCTOR)
    helper = await signed_up(client, container, Role.INSTRUCTOR)
    course_id = await _published_course(client, owner)
    added = await client.put(
        f"/api/v1/courses/{course_id}/instructors/{helper.id}", headers=owner.auth
    )
    assert added.status_code == 204
    assert (
        await client.get(f"/api/v1/courses/{course_id}/enrollments", headers=helper.auth)
    ).status_code == 200
    await _set_role(client, admin, helper.id, "student")
    assert (
        await client.get(f"/api/v1/courses/{course_id}/enrollments", headers=helper.auth)
    ).status_code == 403
    module = await client.post(
        f"/api/v1/courses/{course_id}/modules", json={"title": "M2"}, headers=helper.auth
    )
    assert module.status_code == 403


async def _outline(client, teacher, course_id: str) -> str:
    modules = (
        await client.get(f"/api/v1/courses/{course_id}/modules", headers=teacher.auth)
    ).json()
    return modules[0]["lessons"][0]["id"]


@pytest.mark.parametrize("hide", ["unpublish", "archive"])
async def test_a_student_of_a_course_no_longer_published_keeps_only_their_own_records(
    client, container, hide
):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    course_id = await _published_course(client, teacher)
    lesson_id = await _outline(client, teacher, course_id)
    assignment = (
        await client.post(
            f"/api/v1/courses/{course_id}/assignments",
            json={"title": "Essay", "instructions": "Write", "max_points": 10},
            headers=teacher.auth,
        )
    ).json()
    student = await signed_up(client, container)
    await client.post(f"/api/v1/courses/{course_id}/enrollments", headers=student.auth)
    submitted = await client.post(
        f"/api/v1/assignments/{assignment['id']}/submissions",
        json={"text": "first"},
        headers=student.auth,
    )
    assert submitted.status_code == 201
    assert (
        await client.put(f"/api/v1/lessons/{lesson_id}/completion", headers=student.auth)
    ).status_code == 204

    hidden = await client.post(f"/api/v1/courses/{course_id}/{hide}", headers=teacher.auth)
    assert hidden.status_code == 200, hidden.text

    me = student.auth
    # Course content: gone.
    assert (
        await client.get(f"/api/v1/courses/{course_id}/assignments", headers=me)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/assignments/{assignment['id']}", headers=me)
    ).status_code == 404
    assert (await client.get(f"/api/v1/lessons/{lesson_id}", headers=me)).status_code == 404
    # Changes: refused.
    writes = [
        client.post(
            f"/api/v1/assignments/{assignment['id']}/submissions", json={"text": "2"}, headers=me
        ),
        client.put(f"/api/v1/courses/{course_id}/reviews/me", json={"rating": 1}, headers=me),
        client.put(f"/api/v1/lessons/{lesson_id}/completion", headers=me),
        client.delete(f"/api/v1/lessons/{lesson_id}/completion", headers=me),
    ]
    for write in writes:
        assert (await write).status_code == 409
    # Their own records: still theirs to read.
    progress = await client.get(f"/api/v1/courses/{course_id}/progress", headers=me)
    assert progress.status_code == 200 and progress.json()["completed"] == 1
    assert (
        await client.get(f"/api/v1/courses/{course_id}/grades/me", headers=me)
    ).status_code == 200
    mine = await client.get(f"/api/v1/assignments/{assignment['id']}/submissions", headers=me)
    assert mine.status_code == 200 and len(mine.json()["items"]) == 1
    own = await client.get(f"/api/v1/submissions/{submitted.json()['id']}", headers=me)
    assert own.status_code == 200
    # The hidden course's rating did not move.
    course = (await client.get(f"/api/v1/courses/{course_id}", headers=teacher.auth)).json()
    assert course["rating_count"] == 0


async def test_a_demoted_owner_takes_no_seat_in_their_own_course_and_does_not_rate_it(
    client, container
):
    # Demoted, the owner holds the student role: the staff rule no longer counts them as
    # staff, but they are still on the course's staff list and must not turn into its
    # student (a seat, then a five-star review of their own course).
    admin = await signed_up(client, container, Role.ADMIN)
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    course_id = await _published_course(client, teacher)
    await _set_role(client, admin, teacher.id, "student")

    enroll = await client.post(f"/api/v1/courses/{course_id}/enrollments", headers=teacher.auth)
    assert enroll.status_code == 403, enroll.text
    bulk = await client.post(
        f"/api/v1/courses/{course_id}/enrollments/bulk",
        json={"emails": [teacher.email]},
        headers=admin.auth,
    )
    assert bulk.status_code == 200, bulk.text
    assert bulk.json()["enrolled"] == 0 and bulk.json()["not_student"] == [teacher.email]
    review = await client.put(
        f"/api/v1/courses/{course_id}/reviews/me", json={"rating": 5}, headers=teacher.auth
    )
    assert review.status_code == 403
    course = (await client.get(f"/api/v1/courses/{course_id}")).json()
    assert (course["enrolled_count"], course["rating_count"]) == (0, 0)


# --- use cases -----------------------------------------------------------------------------


async def _course_with_a_student(container):
    teacher = a_user(Role.INSTRUCTOR)
    await container.users().add(teacher)
    course = await container.course_service().create_course(teacher, CourseDraft(title="Rules"))
    outline = container.outline_service()
    _, module = await outline.add_module(teacher, course.id, "M")
    await outline.add_lesson(teacher, course.id, module.id, LessonDraft("L", LessonKind.TEXT))
    await container.course_service().publish(teacher, course.id)
    student = a_user()
    await container.users().add(student)
    await container.enrollment_service().enroll(student, course.id)
    return teacher, await container.courses().get(course.id), student


def _demoted(user):
    admin = a_user(Role.ADMIN)
    user.administer(admin, user.updated_at, role=Role.STUDENT)
    return user


async def test_every_staff_use_case_asks_the_role_the_actor_holds_now(container):
    teacher, course, _ = await _course_with_a_student(container)
    _demoted(teacher)
    refused = [
        container.course_service().edit_course(teacher, course.id, CourseChanges(title="X")),
        container.course_service().archive(teacher, course.id),
        container.outline_service().add_module(teacher, course.id, "M2"),
        container.progress_service().roster(teacher, course.id, limit=10, cursor=None),
        container.gradebook_service().gradebook(teacher, course.id, limit=10, cursor=None),
        container.assignment_service().create(teacher, course.id, AssignmentDraft(title="E")),
    ]
    for call in refused:
        with pytest.raises(PermissionDenied):
            await call
    lesson_id = course.modules[0].lessons[0].id
    with pytest.raises(NotFound):  # not a preview, and they are no longer staff
        await container.outline_service().get_lesson(teacher, lesson_id)
    assert (await container.courses().get(course.id)).owner_id == teacher.id


async def test_a_co_instructor_still_enrolled_from_before_does_not_rate_the_course(container):
    # A student of the course is promoted and made a co-instructor: their old enrollment
    # stays (their records), but someone on the course's staff list does not review it.
    teacher, course, student = await _course_with_a_student(container)
    version = student.version
    student.administer(a_user(Role.ADMIN), student.updated_at, role=Role.INSTRUCTOR)
    await container.users().update(student, version)
    await container.course_service().add_instructor(teacher, course.id, student.id)
    with pytest.raises(PermissionDenied):
        await container.review_service().review(student, course.id, 5, None)
    assert (await container.courses().get(course.id)).rating_count == 0


@pytest.mark.parametrize("hide", ["unpublish", "archive"])
async def test_use_cases_of_a_hidden_course_answer_a_student_as_the_one_rule_says(container, hide):
    teacher, course, student = await _course_with_a_student(container)
    assignments = container.assignment_service()
    assignment = await assignments.create(teacher, course.id, AssignmentDraft(title="Essay"))
    await assignments.submit(student, assignment.id, SubmissionDraft(text="one"))
    await getattr(container.course_service(), hide)(teacher, course.id)
    lesson_id = course.modules[0].lessons[0].id

    reads = [
        assignments.list_assignments(student, course.id, limit=10, cursor=None),
        assignments.get(student, assignment.id),
        container.outline_service().get_lesson(student, lesson_id),
        container.outline_service().modules(student, course.id),
        container.review_service().list_reviews(student, course.id, limit=10, cursor=None),
    ]
    for read in reads:
        with pytest.raises(NotFound):
            await read
    writes = [
        assignments.submit(student, assignment.id, SubmissionDraft(text="two")),
        container.review_service().review(student, course.id, 1, None),
        container.progress_service().complete_lesson(student, lesson_id),
        container.progress_service().reopen_lesson(student, lesson_id),
        container.enrollment_service().drop(student, course.id),
    ]
    for write in writes:
        with pytest.raises(Conflict):
            await write
    # Their own records stay theirs to read.
    progress = await container.progress_service().progress(student, course.id)
    assert progress.completed_lesson_ids == []
    assert len(await container.gradebook_service().my_grades(student, course.id)) == 1
    mine = await assignments.list_submissions(student, assignment.id, limit=10, cursor=None)
    assert len(mine.items) == 1
    # And the staff keep every power.
    assert (await assignments.get(teacher, assignment.id)).id == assignment.id
