"""Learning rules in the domain and the use cases, on plain objects and in-memory adapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dependency_injector import providers

from ocp.adapters.memory.learning import InMemoryEnrollmentRepository
from ocp.application.courses import CourseDraft, LessonDraft
from ocp.application.learning import AssignmentDraft, SubmissionDraft
from ocp.application.ports.common import DependencyUnavailable
from ocp.domain.courses import LessonKind
from ocp.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolated
from ocp.domain.files import FilePurpose
from ocp.domain.learning import (
    Enrollment,
    Progress,
    Submission,
    gradebook_rows,
    new_assignment,
    rating_average,
    spreadsheet_safe,
)
from ocp.domain.users import Role
from tests.builders import a_user
from tests.contracts.files import a_file

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


# --- domain --------------------------------------------------------------------------------


def test_percent_rounds_down_and_reaches_100_only_when_finished():
    assert Progress(2, 3).percent == 66
    assert Progress(3, 3).percent == 100 and Progress(3, 3).is_finished
    assert Progress(0, 0).percent == 0 and not Progress(0, 0).is_finished


def test_finishing_the_last_current_lesson_sets_completed_at():
    enrollment = Enrollment.start(id="e1", course_id="c1", user_id="u1", now=NOW)
    lessons = ["l1", "l2"]
    assert enrollment.complete_lesson("gone", lessons, NOW)  # a lesson deleted since
    assert enrollment.progress(lessons) == Progress(0, 2)
    enrollment.complete_lesson("l2", lessons, NOW)
    assert enrollment.completed_at is None
    enrollment.complete_lesson("l1", lessons, NOW)
    assert enrollment.completed_at == NOW
    assert enrollment.completed_of(lessons) == ["l1", "l2"]
    assert not enrollment.complete_lesson("l1", lessons, NOW)  # idempotent
    enrollment.reopen_lesson("l1", lessons)
    assert enrollment.completed_at is None


def test_late_work_is_marked_or_refused_by_the_assignment():
    due = NOW
    lenient = new_assignment(
        id="a", course_id="c", title_text="T", instructions_text="", points=10, now=NOW, due_at=due
    )
    assert lenient.check_submission(due, 0, True) is False
    assert lenient.check_submission(due + timedelta(seconds=1), 0, True) is True
    lenient.allow_late = False
    with pytest.raises(Conflict):
        lenient.check_submission(due + timedelta(seconds=1), 0, True)
    with pytest.raises(RuleViolated):
        lenient.check_submission(due, 0, False)  # nothing submitted
    with pytest.raises(RuleViolated):
        lenient.check_submission(due, 6, True)  # more files than max_files


def test_points_lie_between_zero_and_max_points():
    assignment = new_assignment(
        id="a", course_id="c", title_text="T", instructions_text="", points=10, now=NOW
    )
    assert assignment.check_points(9.999) == 10.0
    for wrong in (-0.01, 10.01):
        with pytest.raises(RuleViolated):
            assignment.check_points(wrong)


def test_gradebook_rows_use_latest_attempts_and_total_graded_points():
    latest = [
        Submission("s1", "a1", "c", "u1", 2, NOW, late=True, points=7),
        Submission("s2", "a2", "c", "u1", 1, NOW, late=False),
    ]
    (row, empty) = gradebook_rows(["u1", "u2"], ["a1", "a2"], latest)
    assert [(c.points, c.late, c.submitted) for c in row.cells] == [
        (7, True, True),
        (None, False, True),
    ]
    assert row.total == 7 and empty.total == 0


def test_spreadsheet_cells_that_could_be_formulas_are_quoted():
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert spreadsheet_safe(risky) == "'" + risky
    assert spreadsheet_safe("Ada") == "Ada"


def test_the_average_rating_comes_from_the_exact_sum():
    assert rating_average(0, 0) == 0.0
    assert rating_average(14, 3) == 4.6667


# --- use cases -----------------------------------------------------------------------------


async def a_published_course(container, capacity=None):
    teacher = a_user(Role.INSTRUCTOR)
    await container.users().add(teacher)
    courses, outline = container.course_service(), container.outline_service()
    course = await courses.create_course(teacher, CourseDraft(title="Rules", capacity=capacity))
    _, module = await outline.add_module(teacher, course.id, "M")
    await outline.add_lesson(teacher, course.id, module.id, LessonDraft("L", LessonKind.TEXT))
    await courses.publish(teacher, course.id)
    return teacher, course


async def a_student(container):
    student = a_user()
    await container.users().add(student)
    return student


async def test_capacity_holds_and_a_drop_frees_a_seat(container):
    teacher, course = await a_published_course(container, capacity=2)
    enrollments = container.enrollment_service()
    students = [await a_student(container) for _ in range(3)]
    for student in students[:2]:
        _, made = await enrollments.enroll(student, course.id)
        assert made
    with pytest.raises(Conflict):
        await enrollments.enroll(students[2], course.id)
    with pytest.raises(PermissionDenied):
        await enrollments.enroll(teacher, course.id)
    await enrollments.drop(students[0], course.id)
    _, made = await enrollments.enroll(students[2], course.id)
    assert made
    assert (await container.courses().get(course.id)).enrolled_count == 2
    assert await container.enrollments().is_enrolled(course.id, students[2].id)
    assert not await container.enrollments().is_enrolled(course.id, students[0].id)


async def first_lesson_id(container, course) -> str:
    return (await container.courses().get(course.id)).modules[0].lessons[0].id


async def test_a_lesson_of_another_course_cannot_be_completed_through_this_one(container):
    _, mine = await a_published_course(container)
    _, other = await a_published_course(container)
    student = await a_student(container)
    enrollments = container.enrollment_service()
    await enrollments.enroll(student, mine.id)
    with pytest.raises(PermissionDenied):  # the other course is public: 403, not 404
        await container.progress_service().complete_lesson(
            student, await first_lesson_id(container, other)
        )
    assert (
        await container.progress_service().progress(student, mine.id)
    ).completed_lesson_ids == []
    assert not await container.enrollments().is_enrolled(other.id, student.id)


async def test_a_lesson_removed_from_the_outline_cannot_be_completed(container):
    teacher, course = await a_published_course(container)
    student = await a_student(container)
    enrollments = container.enrollment_service()
    await enrollments.enroll(student, course.id)
    lesson_id = await first_lesson_id(container, course)
    await container.outline_service().delete_lesson(teacher, lesson_id)
    with pytest.raises(NotFound):
        await container.progress_service().complete_lesson(student, lesson_id)
    assert (
        await container.progress_service().progress(student, course.id)
    ).completed_lesson_ids == []


class Wrapping:
    """Stands in for a store, passing through all that a test does not change."""

    def __init__(self, wrapped) -> None:
        self.wrapped = wrapped

    def __getattr__(self, name):
        return getattr(self.wrapped, name)


class CountingFiles(Wrapping):
    """Counts the round trips a caller makes to the file records."""

    reads = 0

    async def get(self, file_id):
        self.reads += 1
        return await self.wrapped.get(file_id)

    async def get_many(self, file_ids):
        self.reads += 1
        return await self.wrapped.get_many(file_ids)


async def test_submission_files_are_checked_in_one_read_whatever_their_number(container):
    teacher, course = await a_published_course(container)
    _, elsewhere = await a_published_course(container)
    student, classmate = await a_student(container), await a_student(container)
    for someone in (student, classmate):
        await container.enrollment_service().enroll(someone, course.id)
    files = CountingFiles(container.files())
    container.files.override(providers.Object(files))
    service = container.assignment_service()
    draft = AssignmentDraft(title="Essay", max_files=10)
    assignment = await service.create(teacher, course.id, draft)
    mine = {"owner": student.id, "purpose": FilePurpose.SUBMISSION, "course_id": course.id}
    for n in (1, 2, 3, 4):
        await files.add(a_file(mine["owner"], n, purpose=mine["purpose"], course_id=course.id))
    files.reads = 0
    made = await service.submit(
        student, assignment.id, SubmissionDraft(file_ids=("f0001", "f0002", "f0003", "f0004"))
    )
    assert made.file_ids == ["f0001", "f0002", "f0003", "f0004"] and files.reads == 1
    await files.add(a_file(classmate.id, 5, purpose=FilePurpose.SUBMISSION, course_id=course.id))
    await files.add(a_file(student.id, 6, purpose=FilePurpose.SUBMISSION, course_id=elsewhere.id))
    await files.add(a_file(student.id, 7, course_id=course.id))  # lesson material
    for wrong in ("f0005", "f0006", "f0007", "missing"):
        with pytest.raises(RuleViolated):
            await service.submit(student, assignment.id, SubmissionDraft(file_ids=("f0001", wrong)))


class CountersFailingOnce(Wrapping):
    """The rating update fails once, as a dropped database connection would."""

    failures_left = 1

    async def add_rating(self, course_id, rating_delta, count_delta):
        if self.failures_left:
            self.failures_left -= 1
            raise DependencyUnavailable("database")
        await self.wrapped.add_rating(course_id, rating_delta, count_delta)


async def test_a_review_whose_rating_was_not_counted_is_taken_back(container):
    _, course = await a_published_course(container)
    student = await a_student(container)
    await container.enrollment_service().enroll(student, course.id)
    container.courses.override(providers.Object(CountersFailingOnce(container.courses())))
    reviews = container.review_service()
    with pytest.raises(DependencyUnavailable):
        await reviews.review(student, course.id, 4, "good")
    assert await container.reviews().find(course.id, student.id) is None
    await reviews.review(student, course.id, 4, "good")  # the retry counts in full
    stored = await container.courses().get(course.id)
    assert (stored.rating_sum, stored.rating_count, stored.rating_avg) == (4, 1, 4.0)


async def test_resubmitting_makes_the_new_attempt_the_latest(container):
    teacher, course = await a_published_course(container)
    student = await a_student(container)
    await container.enrollment_service().enroll(student, course.id)
    service = container.assignment_service()
    assignment = await service.create(teacher, course.id, AssignmentDraft(title="Essay"))
    first = await service.submit(student, assignment.id, SubmissionDraft(text="one"))
    second = await service.submit(student, assignment.id, SubmissionDraft(text="two"))
    assert (first.attempt, second.attempt) == (1, 2)
    with pytest.raises(Conflict):
        await service.grade(teacher, first.id, 5, None)
    graded = await service.grade(teacher, second.id, 5, "fine")
    assert graded.points == 5
    (grade,) = await container.gradebook_service().my_grades(student, course.id)
    assert grade.submission is not None and grade.submission.id == second.id


async def test_a_student_outside_the_course_cannot_submit(container):
    teacher, course = await a_published_course(container)
    outsider = await a_student(container)
    service = container.assignment_service()
    assignment = await service.create(teacher, course.id, AssignmentDraft(title="Essay"))
    with pytest.raises(NotFound):
        await service.submit(outsider, assignment.id, SubmissionDraft(text="x"))
    with pytest.raises(PermissionDenied):
        await service.submit(teacher, assignment.id, SubmissionDraft(text="x"))


class SeatCounting(Wrapping):
    """Counts seat writes; `meanwhile` runs just after a batch of seats is taken."""

    seat_writes = 0
    meanwhile = None

    async def take_seats(self, course_id, count):
        self.seat_writes += 1
        taken = await self.wrapped.take_seats(course_id, count)
        if taken and count > 1 and self.meanwhile:
            meanwhile, self.meanwhile = self.meanwhile, None
            await meanwhile()
        return taken


def counting_seats(container, meanwhile=None) -> SeatCounting:
    counters = SeatCounting(container.courses())
    counters.meanwhile = meanwhile
    container.courses.override(providers.Object(counters))
    return counters


async def test_bulk_enrollment_takes_the_seats_of_a_batch_that_fits_at_once(container):
    teacher, course = await a_published_course(container, capacity=10)
    students = [await a_student(container) for _ in range(4)]
    await container.enrollment_service().enroll(students[0], course.id)
    counters = counting_seats(container)
    emails = [str(s.email) for s in students]
    report = await container.enrollment_service().bulk_enroll(teacher, course.id, emails)
    assert (report.enrolled, report.already, report.full) == (3, 1, [])
    assert counters.seat_writes == 1
    assert (await container.courses().get(course.id)).enrolled_count == 4
    for student in students:
        assert await container.enrollments().is_enrolled(course.id, student.id)


async def test_a_student_who_enrolled_meanwhile_gives_back_the_batch_seat(container):
    teacher, course = await a_published_course(container, capacity=10)
    students = [await a_student(container) for _ in range(3)]

    async def first_enrolls_themselves():
        await container.enrollment_service().enroll(students[0], course.id)

    counting_seats(container, first_enrolls_themselves)
    emails = [str(s.email) for s in students]
    report = await container.enrollment_service().bulk_enroll(teacher, course.id, emails)
    assert (report.enrolled, report.already) == (2, 1)
    assert (await container.courses().get(course.id)).enrolled_count == 3


async def test_a_batch_that_does_not_fit_seats_students_until_the_course_is_full(container):
    teacher, course = await a_published_course(container, capacity=2)
    students = [await a_student(container) for _ in range(3)]
    emails = [str(s.email) for s in students]
    report = await container.enrollment_service().bulk_enroll(teacher, course.id, emails)
    assert (report.enrolled, report.already, report.full) == (2, 0, [emails[2]])
    assert (await container.courses().get(course.id)).enrolled_count == 2


class BatchFailingHalfway(InMemoryEnrollmentRepository):
    """Stores the first of a batch, then loses the database."""

    async def add_many(self, enrollments):
        await self.add(enrollments[0])
        raise DependencyUnavailable("database")


async def test_a_batch_that_fails_halfway_keeps_only_the_seats_of_those_enrolled(container):
    container.enrollments.override(providers.Object(BatchFailingHalfway()))
    teacher, course = await a_published_course(container, capacity=10)
    students = [await a_student(container) for _ in range(3)]
    with pytest.raises(DependencyUnavailable):
        await container.enrollment_service().bulk_enroll(
            teacher, course.id, [str(s.email) for s in students]
        )
    assert (await container.courses().get(course.id)).enrolled_count == 1
    assert await container.enrollments().is_enrolled(course.id, students[0].id)
