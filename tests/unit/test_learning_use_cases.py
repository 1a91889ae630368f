"""Learning as the use cases decide it on the in-memory stores: who may enroll and drop,
progress and a student's courses, the roster, bulk enrollment, assignments and their
submissions, grades and reviews."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pytest

from ocp.application.courses import CourseDraft
from ocp.application.learning import AssignmentDraft, SubmissionDraft
from ocp.application.paging import Page
from ocp.domain.courses import CatalogFilter, CatalogSort, Course
from ocp.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolated, StaleVersion
from ocp.domain.files import FilePurpose
from ocp.domain.learning import Assignment, AssignmentChanges
from ocp.domain.users import Role, User
from tests.builders import UseCases, a_member, a_published_course, a_stored_file

T = TypeVar("T")


@pytest.fixture
async def teacher(app: UseCases) -> User:
    return await a_member(app, Role.INSTRUCTOR)


async def a_student_in(app: UseCases, course: Course) -> User:
    student = await a_member(app)
    await app.enrollment.enroll(student, course.id)
    return student


async def an_assignment(app: UseCases, teacher: User, course: Course, **fields) -> Assignment:
    return await app.assignments.create(teacher, course.id, AssignmentDraft("Essay", **fields))


async def every_page(read: Callable[[str | None], Awaitable[Page[T]]]) -> list[T]:
    """The items of every page `read(cursor)` gives, following the cursors to the end."""
    items: list[T] = []
    cursor: str | None = None
    while True:
        page = await read(cursor)
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items


async def enrolled_count(app: UseCases, course: Course) -> int:
    stored = await app.stores.courses.get(course.id)
    assert stored is not None
    return stored.enrolled_count


# --- enrollment ----------------------------------------------------------------------------


async def test_enrolling_again_gives_the_same_enrollment_and_no_second_seat(app, teacher):
    course = await a_published_course(app, teacher, lessons=2)
    student = await a_member(app)
    first, made = await app.enrollment.enroll(student, course.id)
    again, made_again = await app.enrollment.enroll(student, course.id)
    assert (made, made_again) == (True, False)
    assert again.enrollment.id == first.enrollment.id
    assert (again.progress.completed, again.progress.total) == (0, 2)
    assert await enrolled_count(app, course) == 1


async def test_a_draft_course_is_unknown_to_students_and_an_archived_one_closed(app, teacher):
    student = await a_member(app)
    draft = await app.courses.create_course(teacher, CourseDraft("Draft"))
    with pytest.raises(NotFound):
        await app.enrollment.enroll(student, draft.id)
    archived = await a_published_course(app, teacher)
    await app.courses.archive(teacher, archived.id)
    with pytest.raises(Conflict):
        await app.enrollment.enroll(student, archived.id)
    assert await enrolled_count(app, archived) == 0


async def test_a_dropped_student_cannot_drop_again_and_comes_back_without_progress(app, teacher):
    course = await a_published_course(app, teacher, lessons=2)
    student = await a_student_in(app, course)
    await app.progress.complete_lesson(student, course.lesson_ids[0])
    await app.enrollment.drop(student, course.id)
    with pytest.raises(PermissionDenied):
        await app.enrollment.drop(student, course.id)
    with pytest.raises(PermissionDenied):
        await app.progress.progress(student, course.id)
    back, made = await app.enrollment.enroll(student, course.id)
    assert made and back.completed_lesson_ids == []
    assert await enrolled_count(app, course) == 1


async def test_bulk_enrollment_knows_students_in_any_case_and_reports_unknown_addresses(
    app, teacher
):
    course = await a_published_course(app, teacher)
    inside = await a_student_in(app, course)
    newcomer = await a_member(app)
    emails = [inside.email.value.upper(), newcomer.email.value, "nobody@x.org", "junk", " "]
    report = await app.enrollment.bulk_enroll(teacher, course.id, emails)
    assert (report.enrolled, report.already) == (1, 1)
    assert sorted(report.unknown) == ["junk", "nobody@x.org"]
    assert report.full == [] and report.not_student == []
    assert await app.stores.enrollments.is_enrolled(course.id, newcomer.id)
    assert await enrolled_count(app, course) == 2


async def test_only_course_staff_enroll_others(app, teacher):
    course = await a_published_course(app, teacher)
    student = await a_student_in(app, course)
    other = await a_member(app)
    with pytest.raises(PermissionDenied):
        await app.enrollment.bulk_enroll(student, course.id, [other.email.value])
    assert not await app.stores.enrollments.is_enrolled(course.id, other.id)


# --- progress, a student's courses, the roster ---------------------------------------------


async def test_progress_counts_the_lessons_the_course_has_now(app, teacher):
    course = await a_published_course(app, teacher, lessons=3)
    student = await a_student_in(app, course)
    first, second, third = course.lesson_ids
    for lesson in (first, first, second):
        await app.progress.complete_lesson(student, lesson)
    report = await app.progress.progress(student, course.id)
    assert report.completed_lesson_ids == [first, second]
    assert (report.progress.completed, report.progress.total) == (2, 3)
    assert report.enrollment.completed_at is None
    app.clock.advance(60)
    await app.progress.complete_lesson(student, third)
    report = await app.progress.progress(student, course.id)
    assert report.progress.percent == 100 and report.enrollment.completed_at == app.clock.now()
    await app.progress.reopen_lesson(student, third)
    report = await app.progress.progress(student, course.id)
    assert report.progress.completed == 2 and report.enrollment.completed_at is None
    await app.outline.delete_lesson(teacher, second)
    report = await app.progress.progress(student, course.id)
    assert (report.progress.completed, report.progress.total) == (1, 2)


async def test_only_an_enrolled_student_completes_lessons_and_reads_progress(app, teacher):
    course = await a_published_course(app, teacher)
    stranger = await a_member(app)
    lesson = course.lesson_ids[0]
    with pytest.raises(PermissionDenied):
        await app.progress.complete_lesson(stranger, lesson)
    with pytest.raises(PermissionDenied):
        await app.progress.reopen_lesson(stranger, lesson)
    with pytest.raises(PermissionDenied):
        await app.progress.progress(stranger, course.id)
    with pytest.raises(NotFound):
        await app.progress.complete_lesson(stranger, "no-such-lesson")


async def test_my_courses_come_in_enrollment_order_with_the_course_and_its_progress(app, teacher):
    first = await a_published_course(app, teacher, title="First course", lessons=2)
    second = await a_published_course(app, teacher, title="Second course", lessons=1)
    student = await a_student_in(app, first)
    await app.enrollment.enroll(student, second.id)
    await app.progress.complete_lesson(student, second.lesson_ids[0])

    async def read(cursor):
        return await app.progress.my_enrollments(student, limit=1, cursor=cursor)

    mine = await every_page(read)
    assert [(m.course.id, m.course.slug, m.course.title) for m in mine] == [
        (first.id, first.slug, "First course"),
        (second.id, second.slug, "Second course"),
    ]
    assert [(m.progress.completed, m.progress.total) for m in mine] == [(0, 2), (1, 1)]
    assert mine[0].enrollment.completed_at is None
    assert mine[1].enrollment.completed_at is not None


async def test_staff_read_the_roster_in_enrollment_order_with_each_students_progress(app, teacher):
    course = await a_published_course(app, teacher, lessons=2)
    students = [await a_student_in(app, course) for _ in range(3)]
    await app.progress.complete_lesson(students[0], course.lesson_ids[0])

    async def read(cursor):
        return await app.progress.roster(teacher, course.id, limit=2, cursor=cursor)

    roster = await every_page(read)
    assert [entry.user.id for entry in roster] == [s.id for s in students]
    assert [entry.progress.completed for entry in roster] == [1, 0, 0]
    with pytest.raises(PermissionDenied):
        await app.progress.roster(students[1], course.id, limit=10, cursor=None)


# --- assignments ---------------------------------------------------------------------------


async def test_staff_set_assignments_and_only_enrolled_students_read_them(app, teacher):
    course = await a_published_course(app, teacher)
    student = await a_student_in(app, course)
    stranger = await a_member(app)
    due = app.clock.now() + timedelta(days=7)
    made = await an_assignment(app, teacher, course, due_at=due)
    assert made.allow_late is True and made.due_at == due
    with pytest.raises(PermissionDenied):
        await an_assignment(app, student, course)
    listed = await app.assignments.list_assignments(student, course.id, limit=10, cursor=None)
    assert [a.id for a in listed.items] == [made.id]
    assert (await app.assignments.get(student, made.id)).title == "Essay"
    with pytest.raises(PermissionDenied):
        await app.assignments.list_assignments(stranger, course.id, limit=10, cursor=None)
    with pytest.raises(NotFound):
        await app.assignments.get(stranger, made.id)


async def test_staff_edit_an_assignment_only_at_the_version_they_read(app, teacher):
    course = await a_published_course(app, teacher)
    student = await a_student_in(app, course)
    made = await an_assignment(app, teacher, course, due_at=app.clock.now() + timedelta(days=7))
    with pytest.raises(PermissionDenied):
        await app.assignments.edit(student, made.id, AssignmentChanges(title="Mine now"))
    with pytest.raises(StaleVersion):
        await app.assignments.edit(
            teacher, made.id, AssignmentChanges(title="Late edit"), if_match=made.version + 1
        )
    edited = await app.assignments.edit(
        teacher, made.id, AssignmentChanges(title="Essay 2", due_at=None), if_match=made.version
    )
    assert (edited.title, edited.due_at) == ("Essay 2", None)
    with pytest.raises(RuleViolated):
        await app.assignments.edit(teacher, made.id, AssignmentChanges(max_points=0))
    assert (await app.assignments.get(student, made.id)).title == "Essay 2"


async def test_an_assignment_with_submissions_cannot_be_deleted(app, teacher):
    course = await a_published_course(app, teacher)
    student = await a_student_in(app, course)
    used, unused = (
        await an_assignment(app, teacher, course),
        await an_assignment(app, teacher, course),
    )
    await app.assignments.submit(student, used.id, SubmissionDraft(text="my work"))
    with pytest.raises(Conflict):
        await app.assignments.delete(teacher, used.id)
    with pytest.raises(PermissionDenied):
        await app.assignments.delete(student, unused.id)
    await app.assignments.delete(teacher, unused.id)
    with pytest.raises(NotFound):
        await app.assignments.get(teacher, unused.id)
    assert (await app.assignments.get(teacher, used.id)).id == used.id


# --- submissions ---------------------------------------------------------------------------


async def test_work_handed_in_once_the_due_date_has_passed_is_marked_late_or_refused(app, teacher):
    course = await a_published_course(app, teacher)
    student = await a_student_in(app, course)
    due = app.clock.now() + timedelta(days=1)
    lenient = await an_assignment(app, teacher, course, due_at=due)
    strict = await an_assignment(app, teacher, course, due_at=due, allow_late=False)
    early = await app.assignments.submit(student, strict.id, SubmissionDraft(text="early"))
    assert early.late is False
    app.clock.advance(timedelta(days=2).total_seconds())
    late = await app.assignments.submit(student, lenient.id, SubmissionDraft(text="late"))
    assert late.late is True
    with pytest.raises(Conflict):
        await app.assignments.submit(student, strict.id, SubmissionDraft(text="too late"))
    mine = await app.assignments.list_submissions(student, strict.id, limit=10, cursor=None)
    assert [s.text for s in mine.items] == ["early"]


async def test_a_submission_takes_only_files_of_the_types_the_assignment_allows(app, teacher):
    course = await a_published_course(app, teacher)
    student = await a_student_in(app, course)
    assignment = await an_assignment(app, teacher, course, allowed_types=("application/pdf",))
    pdf = await a_stored_file(
        app, student, FilePurpose.SUBMISSION, course.id, content_type="application/pdf"
    )
    image = await a_stored_file(app, student, FilePurpose.SUBMISSION, course.id)
    with pytest.raises(RuleViolated) as refused:
        await app.assignments.submit(student, assignment.id, SubmissionDraft(file_ids=(image.id,)))
    assert refused.value.field == "file_ids"
    work = await app.assignments.submit(student, assignment.id, SubmissionDraft(file_ids=(pdf.id,)))
    assert work.file_ids == [pdf.id] and work.attempt == 1


async def test_the_file_of_graded_work_is_kept_and_of_ungraded_work_may_go(app, teacher):
    course = await a_published_course(app, teacher)
    student = await a_student_in(app, course)
    assignment = await an_assignment(app, teacher, course)
    graded, ungraded = [
        await a_stored_file(
            app, student, FilePurpose.SUBMISSION, course.id, content_type="application/pdf"
        )
        for _ in range(2)
    ]
    first = await app.assignments.submit(
        student, assignment.id, SubmissionDraft(file_ids=(graded.id,))
    )
    await app.assignments.grade(teacher, first.id, 9, None)
    await app.assignments.submit(student, assignment.id, SubmissionDraft(file_ids=(ungraded.id,)))
    with pytest.raises(Conflict):
        await app.files.delete_file(student, graded.id)
    await app.files.delete_file(student, ungraded.id)
    assert (await app.files.get_file(teacher, graded.id)).id == graded.id


async def test_students_see_all_their_attempts_and_staff_each_students_latest(app, teacher):
    course = await a_published_course(app, teacher)
    one, two = await a_student_in(app, course), await a_student_in(app, course)
    assignment = await an_assignment(app, teacher, course)
    for student, text in ((one, "draft"), (one, "final"), (two, "only")):
        await app.assignments.submit(student, assignment.id, SubmissionDraft(text=text))
    mine = await app.assignments.list_submissions(one, assignment.id, limit=10, cursor=None)
    assert [(s.attempt, s.text, s.is_latest) for s in mine.items] == [
        (1, "draft", False),
        (2, "final", True),
    ]

    async def read(cursor):
        return await app.assignments.list_submissions(
            teacher, assignment.id, limit=1, cursor=cursor
        )

    latest = await every_page(read)
    assert sorted((s.user_id, s.text) for s in latest) == sorted(
        [(one.id, "final"), (two.id, "only")]
    )


async def test_a_student_neither_reads_nor_grades_another_students_work(app, teacher):
    course = await a_published_course(app, teacher)
    one, two = await a_student_in(app, course), await a_student_in(app, course)
    assignment = await an_assignment(app, teacher, course)
    work = await app.assignments.submit(one, assignment.id, SubmissionDraft(text="mine"))
    assert (await app.assignments.get_submission(one, work.id)).text == "mine"
    assert (await app.assignments.get_submission(teacher, work.id)).text == "mine"
    with pytest.raises(NotFound):
        await app.assignments.get_submission(two, work.id)
    with pytest.raises(NotFound):
        await app.assignments.grade(two, work.id, 10, None)
    with pytest.raises(PermissionDenied):
        await app.assignments.grade(one, work.id, 10, None)
    assert not (await app.assignments.get_submission(teacher, work.id)).is_graded


# --- grades --------------------------------------------------------------------------------


async def test_a_grade_shows_in_my_grades_and_max_points_stay_above_it(app, teacher):
    course = await a_published_course(app, teacher)
    student = await a_student_in(app, course)
    graded = await an_assignment(app, teacher, course, max_points=10)
    unsubmitted = await an_assignment(app, teacher, course)
    work = await app.assignments.submit(student, graded.id, SubmissionDraft(text="mine"))
    with pytest.raises(RuleViolated):
        await app.assignments.grade(teacher, work.id, 10.5, "too generous")
    await app.assignments.grade(teacher, work.id, 7.5, "good")
    grades = await app.grades.my_grades(student, course.id)
    assert [g.assignment.id for g in grades] == [graded.id, unsubmitted.id]
    mine, nothing = grades
    assert (mine.submission.points, mine.submission.feedback, mine.assignment.max_points) == (
        7.5,
        "good",
        10,
    )
    assert nothing.submission is None
    with pytest.raises(RuleViolated):
        await app.assignments.edit(teacher, graded.id, AssignmentChanges(max_points=5))
    edited = await app.assignments.edit(teacher, graded.id, AssignmentChanges(max_points=8))
    assert edited.max_points == 8


async def test_only_course_staff_read_the_gradebook_of_everyones_latest_work(app, teacher):
    course = await a_published_course(app, teacher)
    graded, quiet = await a_student_in(app, course), await a_student_in(app, course)
    essay = await an_assignment(app, teacher, course)
    quiz = await an_assignment(app, teacher, course, max_points=5)
    work = await app.assignments.submit(graded, essay.id, SubmissionDraft(text="essay"))
    await app.assignments.grade(teacher, work.id, 8, None)
    await app.assignments.submit(quiet, quiz.id, SubmissionDraft(text="quiz"))
    book = await app.grades.gradebook(teacher, course.id, limit=10, cursor=None)
    assert [a.id for a in book.assignments] == [essay.id, quiz.id]
    rows = {row.user_id: row for row in book.rows}
    assert set(rows) == set(book.users) == {graded.id, quiet.id}
    assert [c.points for c in rows[graded.id].cells] == [8, None] and rows[graded.id].total == 8
    assert [c.submitted for c in rows[quiet.id].cells] == [False, True]
    with pytest.raises(PermissionDenied):
        await app.grades.gradebook(quiet, course.id, limit=10, cursor=None)
    with pytest.raises(PermissionDenied):
        await app.grades.gradebook_export(quiet, course.id)


# --- reviews -------------------------------------------------------------------------------


async def test_one_review_per_student_keeps_the_course_rating_exact(app, teacher):
    course = await a_published_course(app, teacher)
    unrated = await a_published_course(app, teacher, title="Unrated")
    one, two = await a_student_in(app, course), await a_student_in(app, course)
    await app.reviews.review(one, course.id, 5, "great")
    written = await app.reviews.review(two, course.id, 2, None)
    stored = await app.stores.courses.get(course.id)
    assert (stored.rating_avg, stored.rating_count) == (3.5, 2)
    revised = await app.reviews.review(two, course.id, 4, "better on a second look")
    assert revised.id == written.id
    stored = await app.stores.courses.get(course.id)
    assert (stored.rating_avg, stored.rating_count) == (4.5, 2)
    listed = await app.reviews.list_reviews(None, course.id, limit=10, cursor=None)
    assert [(r.user_id, r.rating) for r in listed.items] == [(two.id, 4), (one.id, 5)]
    by_rating = CatalogFilter(sort=CatalogSort.RATING)
    catalog = await app.catalog.browse(None, by_rating, limit=10, cursor=None)
    assert [c.id for c in catalog.items] == [course.id, unrated.id]


async def test_only_enrolled_students_rate_a_visible_course_from_1_to_5(app, teacher):
    course = await a_published_course(app, teacher)
    student = await a_student_in(app, course)
    stranger = await a_member(app)
    for stars in (0, 6):
        with pytest.raises(RuleViolated):
            await app.reviews.review(student, course.id, stars, None)
    with pytest.raises(PermissionDenied):
        await app.reviews.review(stranger, course.id, 3, None)
    assert (await app.stores.courses.get(course.id)).rating_count == 0
    draft = await app.courses.create_course(teacher, CourseDraft("Draft"))
    with pytest.raises(NotFound):
        await app.reviews.list_reviews(stranger, draft.id, limit=10, cursor=None)
    with pytest.raises(NotFound):
        await app.reviews.review(stranger, draft.id, 3, None)
