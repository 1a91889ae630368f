"""Ports of learning: the `enrollments`, `assignments`, `submissions` and `reviews`
collections."""

from __future__ import annotations

from typing import Protocol

from ocp.domain.learning import Assignment, Enrollment, Review, Submission


class EnrollmentRepository(Protocol):
    async def add(self, enrollment: Enrollment) -> None:
        """Store a new enrollment; `Conflict` when this student is enrolled in this course."""
        ...

    async def find(self, course_id: str, user_id: str) -> Enrollment | None: ...

    async def is_enrolled(self, course_id: str, user_id: str) -> bool: ...

    async def has_enrollments(self, course_id: str) -> bool: ...

    async def save_progress(self, enrollment: Enrollment, expected_version: int) -> None:
        """Store completed lessons and `completed_at` if the version is still
        `expected_version`, else `StaleVersion`; `NotFound` when the enrollment is gone."""
        ...

    async def remove(self, course_id: str, user_id: str) -> bool:
        """Forget the enrollment; True for the one caller that removed it."""
        ...

    async def list_course(
        self, course_id: str, after_id: str | None, limit: int
    ) -> list[Enrollment]:
        """The course's enrollments in id (enrollment) order after `after_id`, one round trip."""
        ...

    async def list_user(self, user_id: str, after_id: str | None, limit: int) -> list[Enrollment]:
        """A student's enrollments in id order after `after_id`, one round trip."""
        ...

    async def list_course_students(
        self, course_id: str, after_user_id: str | None, limit: int
    ) -> list[Enrollment]:
        """The course's enrollments in student id order after `after_user_id` (the gradebook's
        keyset), one round trip on the unique (course, student) index."""
        ...

    async def enrolled_among(self, course_id: str, user_ids: list[str]) -> set[str]:
        """Which of `user_ids` are enrolled in the course, in one round trip."""
        ...

    async def add_many(self, enrollments: list[Enrollment]) -> list[Enrollment]:
        """Store new enrollments in one round trip, skipping each whose student is enrolled in
        its course already; the ones stored."""
        ...


class AssignmentRepository(Protocol):
    async def add(self, assignment: Assignment) -> None: ...

    async def get(self, assignment_id: str) -> Assignment | None: ...

    async def update(self, assignment: Assignment, expected_version: int) -> None:
        """Replace if the version is still `expected_version`, else `StaleVersion`; `NotFound`
        when it is gone."""
        ...

    async def delete(self, assignment_id: str) -> None: ...

    async def list_course(
        self, course_id: str, after_id: str | None, limit: int
    ) -> list[Assignment]:
        """The course's assignments in id (creation) order after `after_id`."""
        ...


class SubmissionRepository(Protocol):
    async def add(self, submission: Submission) -> None:
        """Store a new attempt and make it the student's latest for the assignment;
        `Conflict` when this attempt number exists already (a concurrent submission won)."""
        ...

    async def get(self, submission_id: str) -> Submission | None: ...

    async def last_attempt(self, assignment_id: str, user_id: str) -> int:
        """The student's highest attempt number for the assignment, 0 before the first."""
        ...

    async def save_grade(self, submission: Submission, expected_version: int) -> None:
        """Store the grade if the version is still `expected_version` and the attempt is still
        the latest, else `StaleVersion` / `Conflict`."""
        ...

    async def list_attempts(
        self, assignment_id: str, user_id: str, after_attempt: int | None, limit: int
    ) -> list[Submission]:
        """One student's attempts in attempt order."""
        ...

    async def list_latest(
        self, assignment_id: str, after_user_id: str | None, limit: int
    ) -> list[Submission]:
        """The latest attempt of every student, in student id order."""
        ...

    async def latest_in_course(
        self, course_id: str, user_id: str | None = None
    ) -> list[Submission]:
        """Every latest attempt in the course (of one student when `user_id` is given)."""
        ...

    async def latest_of_students(self, course_id: str, user_ids: list[str]) -> list[Submission]:
        """The latest attempts in the course of these students, in one round trip on the
        (course, latest, student) index; cheapest when they are neighbours in student id
        order, as a gradebook page is."""
        ...

    async def list_user(self, user_id: str, after_id: str | None, limit: int) -> list[Submission]:
        """Every attempt of the user's, in id order after `after_id` (their export)."""
        ...

    async def has_any(self, assignment_id: str) -> bool: ...

    async def highest_points(self, assignment_id: str) -> float | None:
        """The highest grade given on the assignment (any attempt), None before any."""
        ...

    async def graded_uses_file(self, file_id: str) -> bool:
        """True when a graded attempt has this file attached."""
        ...


class ReviewRepository(Protocol):
    async def add(self, review: Review) -> None:
        """Store a new review; `Conflict` when this student reviewed this course already."""
        ...

    async def find(self, course_id: str, user_id: str) -> Review | None: ...

    async def update(self, review: Review, expected_version: int) -> None:
        """Replace if the version is still `expected_version`, else `StaleVersion`."""
        ...

    async def remove(self, review_id: str) -> bool:
        """Forget the review; True for the one caller that removed it."""
        ...

    async def list_user(self, user_id: str, after_id: str | None, limit: int) -> list[Review]:
        """The user's reviews, in id order after `after_id` (their export)."""
        ...

    async def list_course(self, course_id: str, before_id: str | None, limit: int) -> list[Review]:
        """The course's reviews, newest (highest id) first, with ids below `before_id`."""
        ...
