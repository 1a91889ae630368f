"""Review use cases: an enrolled student rates a course once (and may revise it); the course's
`rating_avg` and `rating_count` follow from exact atomic deltas."""

from __future__ import annotations

from ocp.application.course_roles import CourseRoles
from ocp.application.events.recorder import EventRecorder
from ocp.application.paging import Page, decode_cursor, page_of
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.courses import CourseRepository
from ocp.application.ports.events import Subject
from ocp.application.ports.learning import EnrollmentRepository, ReviewRepository
from ocp.application.retry import retry_on_stale
from ocp.domain.errors import Conflict, PermissionDenied, StaleVersion
from ocp.domain.learning import Review
from ocp.domain.users import User

_SAVE_ATTEMPTS = 10


class ReviewService:
    def __init__(
        self,
        *,
        courses: CourseRepository,
        enrollments: EnrollmentRepository,
        reviews: ReviewRepository,
        clock: Clock,
        ids: IdGenerator,
        events: EventRecorder,
    ) -> None:
        self._events = events
        self._courses = courses
        self._reviews = reviews
        self._clock = clock
        self._ids = ids
        self._roles = CourseRoles(courses, enrollments)

    async def review(self, actor: User, course_id: str, rating: int, comment: str | None) -> Review:
        """Write or revise the actor's review of a course they are enrolled in."""
        course = await self._roles.course(course_id)
        await self._roles.enrolled(actor, course)
        if course.excluded_as_student(actor):
            # Enrolled before they joined the staff: their records stay, but nobody rates
            # a course they teach (or, demoted, taught).
            raise PermissionDenied("course staff do not review their own course")
        course.require_open_to_students(change=True)

        async def attempt(n: int) -> Review:
            now = self._clock.now()
            existing = await self._reviews.find(course.id, actor.id)
            if existing is None:
                review = Review.write(
                    id=self._ids.new_id(),
                    course_id=course.id,
                    user_id=actor.id,
                    stars=rating,
                    text=comment,
                    now=now,
                )
                event = self._events.event("review.created", review)
                async with self._events.recording(
                    Subject("reviews", review.id, review.version), event
                ):
                    await self._reviews.add(review)
                    try:
                        await self._courses.add_rating(course.id, review.rating, 1)
                    except BaseException:
                        # Uncounted, the review would stay out of the average for good (a
                        # retry revises it with a zero delta): take it back, let them retry.
                        await self._reviews.remove(review.id)
                        raise
                return review
            version = existing.version
            delta = existing.revise(rating, comment, now)
            await self._reviews.update(existing, version)
            if delta:
                await self._courses.add_rating(course.id, delta, 0)
            return existing

        # The same student from another device got there first: apply on top of theirs.
        return await retry_on_stale(attempt, attempts=_SAVE_ATTEMPTS, on=(Conflict, StaleVersion))

    async def list_reviews(
        self, actor: User | None, course_id: str, *, limit: int, cursor: str | None
    ) -> Page[Review]:
        before = decode_cursor(cursor, (str,))
        course = await self._roles.visible_course(actor, course_id)
        rows = await self._reviews.list_course(
            course.id, str(before[0]) if before else None, limit + 1
        )
        return page_of(rows, limit, lambda r: (r.id,))
