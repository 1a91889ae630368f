"""Contracts of the learning ports, written once and run against every adapter.

Each takes its stores from the `stores` fixture of the module running it (see `tests.contracts`).
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from ocp.domain.courses import CatalogQuery, CatalogSort
from ocp.domain.errors import Conflict, StaleVersion
from ocp.domain.learning import AssignmentChanges, Enrollment, Review, Submission, new_assignment
from tests.contracts import FromStores
from tests.contracts.courses import a_course

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def an_id(prefix: str) -> str:
    return f"{prefix}{next(_ids):08d}"


def an_enrollment(course_id: str = "c1", user_id: str | None = None) -> Enrollment:
    return Enrollment.start(
        id=an_id("e"), course_id=course_id, user_id=user_id or an_id("u"), now=NOW
    )


def a_submission(assignment_id="a1", user_id="u1", attempt=1, course_id="c1") -> Submission:
    return Submission(
        id=an_id("s"),
        assignment_id=assignment_id,
        course_id=course_id,
        user_id=user_id,
        attempt=attempt,
        submitted_at=NOW + timedelta(minutes=attempt),
        late=False,
        text=f"attempt {attempt}",
        file_ids=[f"f-{user_id}-{attempt}"],
    )


class EnrollmentRepositoryContract(FromStores):
    async def test_one_enrollment_per_student_and_course(self, enrollments):
        first = an_enrollment("c1", "u1")
        await enrollments.add(first)
        with pytest.raises(Conflict):
            await enrollments.add(an_enrollment("c1", "u1"))
        await enrollments.add(an_enrollment("c2", "u1"))
        assert await enrollments.find("c1", "u1") == first
        assert await enrollments.is_enrolled("c1", "u1") and await enrollments.has_enrollments("c1")

    async def test_progress_saves_only_at_the_version_read(self, enrollments):
        stored = an_enrollment()
        await enrollments.add(stored)
        mine, theirs = (
            await enrollments.find(stored.course_id, stored.user_id),
            await enrollments.find(stored.course_id, stored.user_id),
        )
        mine.complete_lesson("l1", ["l1", "l2"], NOW)
        await enrollments.save_progress(mine, 1)
        theirs.complete_lesson("l2", ["l1", "l2"], NOW)
        with pytest.raises(StaleVersion):
            await enrollments.save_progress(theirs, 1)
        assert (await enrollments.find(stored.course_id, stored.user_id)).completed_lesson_ids == [
            "l1"
        ]

    async def test_removing_forgets_the_enrollment_once(self, enrollments):
        stored = an_enrollment("c9", "u9")
        await enrollments.add(stored)
        assert await enrollments.remove("c9", "u9")
        assert not await enrollments.remove("c9", "u9")
        assert await enrollments.find("c9", "u9") is None
        assert not await enrollments.is_enrolled("c9", "u9")

    async def test_pages_by_course_and_by_student_in_enrollment_order(self, enrollments):
        made = [an_enrollment("cp", f"u{n}") for n in range(5)]
        for e in reversed(made):
            await enrollments.add(e)
        await enrollments.add(an_enrollment("other", "u0"))
        first = await enrollments.list_course("cp", None, 3)
        rest = await enrollments.list_course("cp", first[-1].id, 3)
        assert [e.id for e in first + rest] == [e.id for e in made]
        mine = await enrollments.list_user("u0", None, 10)
        assert [e.course_id for e in mine] == ["cp", "other"]
        among = await enrollments.enrolled_among("cp", ["u1", "u3", "nobody"])
        assert among == {"u1", "u3"}

    async def test_pages_of_a_course_in_student_order_for_the_gradebook(self, enrollments):
        # Enrolled in an order unlike the students' ids.
        for user in ("ud", "ua", "ue", "ub", "uc"):
            await enrollments.add(an_enrollment("cg", user))
        await enrollments.add(an_enrollment("other", "uaa"))
        first = await enrollments.list_course_students("cg", None, 3)
        rest = await enrollments.list_course_students("cg", first[-1].user_id, 3)
        assert [e.user_id for e in first] == ["ua", "ub", "uc"]
        assert [e.user_id for e in rest] == ["ud", "ue"]

    async def test_many_enrollments_are_stored_at_once_skipping_those_enrolled(self, enrollments):
        await enrollments.add(an_enrollment("cm", "u1"))
        batch = [an_enrollment("cm", u) for u in ("u2", "u1", "u3")]
        stored = await enrollments.add_many(batch)
        assert [e.user_id for e in stored] == ["u2", "u3"]
        assert await enrollments.enrolled_among("cm", ["u1", "u2", "u3"]) == {"u1", "u2", "u3"}
        assert await enrollments.is_enrolled("cm", "u3")
        assert await enrollments.add_many([]) == []

    async def test_answers_who_is_enrolled_where(self, enrollments):
        assert not await enrollments.has_enrollments("cw")
        await enrollments.add(an_enrollment("cw", "u1"))
        assert await enrollments.is_enrolled("cw", "u1")
        assert not await enrollments.is_enrolled("cw", "u2")
        assert not await enrollments.is_enrolled("cx", "u1")
        assert await enrollments.has_enrollments("cw")
        assert not await enrollments.has_enrollments("cx")


class CourseCountersContract(FromStores):
    """The counters on the course document (part of the `courses` port)."""

    async def test_seats_stop_at_capacity_and_come_back(self, courses):
        course = a_course(capacity=2)
        await courses.add(course)
        assert await courses.take_seats(course.id, 1)
        assert await courses.take_seats(course.id, 1)
        assert not await courses.take_seats(course.id, 1)
        await courses.give_back_seats(course.id, 1)
        stored = await courses.get(course.id)
        assert stored.enrolled_count == 1 and stored.version > course.version

    async def test_many_seats_are_taken_together_or_not_at_all(self, courses):
        course = a_course(capacity=5)
        await courses.add(course)
        assert await courses.take_seats(course.id, 3)
        assert not await courses.take_seats(course.id, 3)  # 6 > 5: none of them
        assert (await courses.get(course.id)).enrolled_count == 3
        assert await courses.take_seats(course.id, 2)  # exactly up to the capacity
        await courses.give_back_seats(course.id, 4)
        assert (await courses.get(course.id)).enrolled_count == 1
        open_ended = a_course()
        await courses.add(open_ended)
        assert await courses.take_seats(open_ended.id, 1000)

    async def test_concurrent_seats_never_pass_capacity(self, courses):
        course = a_course(capacity=5)
        await courses.add(course)
        taken = await asyncio.gather(*(courses.take_seats(course.id, 1) for _ in range(20)))
        assert taken.count(True) == 5
        assert (await courses.get(course.id)).enrolled_count == 5

    async def test_no_seat_in_a_course_that_is_not_published(self, courses):
        draft = a_course(published=None)
        await courses.add(draft)
        assert not await courses.take_seats(draft.id, 1)
        open_ended = a_course()  # no capacity
        await courses.add(open_ended)
        assert all([await courses.take_seats(open_ended.id, 1) for _ in range(3)])

    async def test_popular_order_follows_the_seats(self, courses):
        quiet, busy = a_course(tags=["seats"]), a_course(tags=["seats"])
        for course in (quiet, busy):
            await courses.add(course)
        await courses.take_seats(busy.id, 1)
        found = await courses.search(
            CatalogQuery(sort=CatalogSort.POPULAR, limit=10, terms=["tag:seats"])
        )
        assert [row.course.id for row in found] == [busy.id, quiet.id]

    async def test_ratings_stay_exact_and_order_the_catalog(self, courses):
        low, high = a_course(tags=["stars"]), a_course(tags=["stars"])
        for course in (low, high):
            await courses.add(course)
        await asyncio.gather(*(courses.add_rating(high.id, r, 1) for r in (5, 4, 4)))
        await courses.add_rating(low.id, 2, 1)
        await courses.add_rating(high.id, -1, 0)  # 4 -> 3: an edited review
        stored = await courses.get(high.id)
        assert (stored.rating_sum, stored.rating_count, stored.rating_avg) == (12, 3, 4.0)
        found = await courses.search(
            CatalogQuery(sort=CatalogSort.RATING, limit=10, terms=["tag:stars"])
        )
        assert [row.course.id for row in found] == [high.id, low.id]

    async def test_cards_name_the_courses_and_their_lessons(self, courses):
        course = a_course("Carded")
        await courses.add(course)
        cards = await courses.cards([course.id, "missing"])
        assert list(cards) == [course.id]
        card = cards[course.id]
        assert (card.slug, card.title) == (course.slug, "Carded")
        assert card.lesson_ids == [x.id for m in course.modules for x in m.lessons]


class AssignmentRepositoryContract(FromStores):
    async def test_stored_assignments_read_back_and_page_per_course(self, assignments):
        made = [
            new_assignment(
                id=an_id("a"),
                course_id="ca",
                title_text=f"A{n}",
                instructions_text="",
                points=10,
                now=NOW,
                due_at=NOW if n else None,
            )
            for n in range(3)
        ]
        for a in made:
            await assignments.add(a)
        assert await assignments.get(made[1].id) == made[1]
        first = await assignments.list_course("ca", None, 2)
        rest = await assignments.list_course("ca", first[-1].id, 2)
        assert [a.id for a in first + rest] == [a.id for a in made]
        await assignments.delete(made[0].id)
        assert await assignments.get(made[0].id) is None

    async def test_update_only_at_the_version_read(self, assignments):
        stored = new_assignment(
            id=an_id("a"), course_id="c", title_text="T", instructions_text="", points=5, now=NOW
        )
        await assignments.add(stored)
        copy = await assignments.get(stored.id)
        copy.edit(NOW, AssignmentChanges(title="New"))
        await assignments.update(copy, 1)
        with pytest.raises(StaleVersion):
            await assignments.update(copy, 1)
        assert (await assignments.get(stored.id)).title == "New"


class SubmissionRepositoryContract(FromStores):
    async def test_attempts_are_unique_and_the_newest_is_the_latest(self, submissions):
        first, second = a_submission(attempt=1), a_submission(attempt=2)
        await submissions.add(first)
        await submissions.add(second)
        with pytest.raises(Conflict):
            await submissions.add(a_submission(attempt=2))
        assert await submissions.last_attempt("a1", "u1") == 2
        assert not (await submissions.get(first.id)).is_latest
        assert (await submissions.get(second.id)).is_latest
        attempts = await submissions.list_attempts("a1", "u1", None, 10)
        assert [s.attempt for s in attempts] == [1, 2]
        assert [s.attempt for s in await submissions.list_attempts("a1", "u1", 1, 10)] == [2]

    async def test_staff_list_shows_one_latest_attempt_per_student(self, submissions):
        for user, attempts in (("ub", 2), ("ua", 1), ("uc", 3)):
            for n in range(1, attempts + 1):
                await submissions.add(a_submission("a2", user, n))
        first = await submissions.list_latest("a2", None, 2)
        rest = await submissions.list_latest("a2", first[-1].user_id, 2)
        assert [(s.user_id, s.attempt) for s in first + rest] == [("ua", 1), ("ub", 2), ("uc", 3)]
        mine = await submissions.latest_in_course("c1", "uc")
        assert [(s.assignment_id, s.attempt) for s in mine] == [("a2", 3)]

    async def test_a_gradebook_page_reads_the_latest_work_of_its_students(self, submissions):
        for user, attempts in (("ua", 2), ("ub", 1), ("uc", 1)):
            for n in range(1, attempts + 1):
                await submissions.add(a_submission("a1", user, n))
        await submissions.add(a_submission("a2", "ua", 1))
        await submissions.add(a_submission("a9", "ua", 1, course_id="c2"))  # another course
        # "ub" lies between the page's students but is not one of them (left the course).
        found = await submissions.latest_of_students("c1", ["ua", "uc", "nobody"])
        assert sorted((s.user_id, s.assignment_id, s.attempt) for s in found) == [
            ("ua", "a1", 2),
            ("ua", "a2", 1),
            ("uc", "a1", 1),
        ]
        assert await submissions.latest_of_students("c1", []) == []

    async def test_grades_only_the_latest_attempt_at_its_version(self, submissions):
        from ocp.domain.learning import new_assignment as make

        assignment = make(
            id="a3", course_id="c1", title_text="T", instructions_text="", points=10, now=NOW
        )
        old, new = a_submission("a3", "u1", 1), a_submission("a3", "u1", 2)
        await submissions.add(old)
        await submissions.add(new)
        stale_old = await submissions.get(old.id)
        stale_old.is_latest = True  # as if read before the resubmission
        stale_old.grade(assignment, 5, "", "t1", NOW)
        with pytest.raises(Conflict):
            await submissions.save_grade(stale_old, 1)
        graded = await submissions.get(new.id)
        graded.grade(assignment, 9.5, "ok", "t1", NOW)
        await submissions.save_grade(graded, 1)
        with pytest.raises(StaleVersion):
            await submissions.save_grade(graded, 1)
        stored = await submissions.get(new.id)
        assert (stored.points, stored.feedback, stored.is_graded) == (9.5, "ok", True)
        assert await submissions.highest_points("a3") == 9.5
        assert await submissions.graded_uses_file(new.file_ids[0])
        assert not await submissions.graded_uses_file(old.file_ids[0])
        assert await submissions.has_any("a3") and not await submissions.has_any("nothing")


class ReviewRepositoryContract(FromStores):
    async def test_one_review_per_student_editable_at_its_version(self, reviews):
        review = Review.write(
            id=an_id("r"), course_id="c1", user_id="u1", stars=4, text="good", now=NOW
        )
        await reviews.add(review)
        with pytest.raises(Conflict):
            await reviews.add(
                Review.write(id=an_id("r"), course_id="c1", user_id="u1", stars=1, text="", now=NOW)
            )
        mine = await reviews.find("c1", "u1")
        assert mine == review
        mine.revise(2, "meh", NOW)
        await reviews.update(mine, 1)
        with pytest.raises(StaleVersion):
            await reviews.update(mine, 1)
        assert (await reviews.find("c1", "u1")).rating == 2

    async def test_removing_forgets_the_review_once(self, reviews):
        review = Review.write(
            id=an_id("r"), course_id="cx", user_id="u1", stars=3, text="", now=NOW
        )
        await reviews.add(review)
        assert await reviews.remove(review.id)
        assert not await reviews.remove(review.id)
        assert await reviews.find("cx", "u1") is None
        await reviews.add(review)  # the student may write it again

    async def test_reviews_page_newest_first(self, reviews):
        made = [
            Review.write(id=an_id("r"), course_id="cr", user_id=f"u{n}", stars=5, text="", now=NOW)
            for n in range(3)
        ]
        for r in made:
            await reviews.add(r)
        first = await reviews.list_course("cr", None, 2)
        rest = await reviews.list_course("cr", first[-1].id, 2)
        assert [r.id for r in first + rest] == [r.id for r in reversed(made)]
