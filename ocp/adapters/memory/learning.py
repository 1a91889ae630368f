"""In-memory `enrollments`, `assignments`, `submissions` and `reviews`.

Same semantics as the MongoDB ones (uniqueness, ordering, conditional updates); every method
finishes without yielding to the event loop, so each is atomic as a single document update is.
"""

from __future__ import annotations

import copy

from ocp.domain.errors import Conflict, NotFound, StaleVersion
from ocp.domain.learning import Assignment, Enrollment, Review, Submission


class InMemoryEnrollmentRepository:
    def __init__(self) -> None:
        self._by_pair: dict[tuple[str, str], Enrollment] = {}

    async def add(self, enrollment: Enrollment) -> None:
        pair = (enrollment.course_id, enrollment.user_id)
        if pair in self._by_pair:
            raise Conflict("this student is enrolled already")
        self._by_pair[pair] = copy.deepcopy(enrollment)

    async def find(self, course_id: str, user_id: str) -> Enrollment | None:
        found = self._by_pair.get((course_id, user_id))
        return copy.deepcopy(found) if found else None

    async def is_enrolled(self, course_id: str, user_id: str) -> bool:
        return (course_id, user_id) in self._by_pair

    async def has_enrollments(self, course_id: str) -> bool:
        return any(course == course_id for course, _ in self._by_pair)

    async def save_progress(self, enrollment: Enrollment, expected_version: int) -> None:
        stored = self._by_pair.get((enrollment.course_id, enrollment.user_id))
        if stored is None or stored.id != enrollment.id:
            raise NotFound("no such enrollment")
        if stored.version != expected_version:
            raise StaleVersion("the progress changed meanwhile")
        stored.completed_lesson_ids = list(enrollment.completed_lesson_ids)
        stored.completed_at = enrollment.completed_at
        stored.version = enrollment.version

    async def remove(self, course_id: str, user_id: str) -> bool:
        return self._by_pair.pop((course_id, user_id), None) is not None

    async def list_course(
        self, course_id: str, after_id: str | None, limit: int
    ) -> list[Enrollment]:
        rows = sorted(
            (e for (c, _), e in self._by_pair.items() if c == course_id),
            key=lambda e: e.id,
        )
        return [copy.deepcopy(e) for e in rows if after_id is None or e.id > after_id][:limit]

    async def list_user(self, user_id: str, after_id: str | None, limit: int) -> list[Enrollment]:
        rows = sorted(
            (e for (_, u), e in self._by_pair.items() if u == user_id), key=lambda e: e.id
        )
        return [copy.deepcopy(e) for e in rows if after_id is None or e.id > after_id][:limit]

    async def list_course_students(
        self, course_id: str, after_user_id: str | None, limit: int
    ) -> list[Enrollment]:
        rows = sorted(
            (e for (c, u), e in self._by_pair.items() if c == course_id), key=lambda e: e.user_id
        )
        return [
            copy.deepcopy(e) for e in rows if after_user_id is None or e.user_id > after_user_id
        ][:limit]

    async def enrolled_among(self, course_id: str, user_ids: list[str]) -> set[str]:
        return {u for u in user_ids if (course_id, u) in self._by_pair}

    async def add_many(self, enrollments: list[Enrollment]) -> list[Enrollment]:
        stored = []
        for enrollment in enrollments:
            if (enrollment.course_id, enrollment.user_id) not in self._by_pair:
                await self.add(enrollment)
                stored.append(enrollment)
        return stored


class InMemoryAssignmentRepository:
    def __init__(self) -> None:
        self._by_id: dict[str, Assignment] = {}

    async def add(self, assignment: Assignment) -> None:
        if assignment.id in self._by_id:
            raise Conflict("this assignment exists already")
        self._by_id[assignment.id] = copy.deepcopy(assignment)

    async def get(self, assignment_id: str) -> Assignment | None:
        found = self._by_id.get(assignment_id)
        return copy.deepcopy(found) if found else None

    async def update(self, assignment: Assignment, expected_version: int) -> None:
        stored = self._by_id.get(assignment.id)
        if stored is None:
            raise NotFound("no such assignment")
        if stored.version != expected_version:
            raise StaleVersion("the assignment was changed since you read it; read it again")
        self._by_id[assignment.id] = copy.deepcopy(assignment)

    async def delete(self, assignment_id: str) -> None:
        self._by_id.pop(assignment_id, None)

    async def list_course(
        self, course_id: str, after_id: str | None, limit: int
    ) -> list[Assignment]:
        rows = sorted(
            (a for a in self._by_id.values() if a.course_id == course_id), key=lambda a: a.id
        )
        return [copy.deepcopy(a) for a in rows if after_id is None or a.id > after_id][:limit]


class InMemorySubmissionRepository:
    def __init__(self) -> None:
        self._by_id: dict[str, Submission] = {}

    def _attempts(self, assignment_id: str, user_id: str) -> list[Submission]:
        return sorted(
            (
                s
                for s in self._by_id.values()
                if s.assignment_id == assignment_id and s.user_id == user_id
            ),
            key=lambda s: s.attempt,
        )

    async def add(self, submission: Submission) -> None:
        earlier = self._attempts(submission.assignment_id, submission.user_id)
        if submission.id in self._by_id or any(s.attempt == submission.attempt for s in earlier):
            raise Conflict("this attempt exists already")
        stored = copy.deepcopy(submission)
        stored.is_latest = all(s.attempt < submission.attempt for s in earlier)
        for s in earlier:
            if s.attempt < submission.attempt:
                s.is_latest = False
        self._by_id[submission.id] = stored
        submission.is_latest = stored.is_latest

    async def get(self, submission_id: str) -> Submission | None:
        found = self._by_id.get(submission_id)
        return copy.deepcopy(found) if found else None

    async def last_attempt(self, assignment_id: str, user_id: str) -> int:
        attempts = self._attempts(assignment_id, user_id)
        return attempts[-1].attempt if attempts else 0

    async def save_grade(self, submission: Submission, expected_version: int) -> None:
        stored = self._by_id.get(submission.id)
        if stored is None:
            raise NotFound("no such submission")
        if not stored.is_latest:
            raise Conflict("a newer attempt exists; grade the latest one")
        if stored.version != expected_version:
            raise StaleVersion("the submission was graded meanwhile; read it again")
        stored.points = submission.points
        stored.feedback = submission.feedback
        stored.graded_at = submission.graded_at
        stored.grader_id = submission.grader_id
        stored.version = submission.version

    async def list_attempts(
        self, assignment_id: str, user_id: str, after_attempt: int | None, limit: int
    ) -> list[Submission]:
        rows = self._attempts(assignment_id, user_id)
        return [
            copy.deepcopy(s) for s in rows if after_attempt is None or s.attempt > after_attempt
        ][:limit]

    async def list_user(self, user_id: str, after_id: str | None, limit: int) -> list[Submission]:
        rows = sorted((s for s in self._by_id.values() if s.user_id == user_id), key=lambda s: s.id)
        return [copy.deepcopy(s) for s in rows if after_id is None or s.id > after_id][:limit]

    async def list_latest(
        self, assignment_id: str, after_user_id: str | None, limit: int
    ) -> list[Submission]:
        rows = sorted(
            (s for s in self._by_id.values() if s.assignment_id == assignment_id and s.is_latest),
            key=lambda s: s.user_id,
        )
        return [
            copy.deepcopy(s) for s in rows if after_user_id is None or s.user_id > after_user_id
        ][:limit]

    async def latest_in_course(
        self, course_id: str, user_id: str | None = None
    ) -> list[Submission]:
        return [
            copy.deepcopy(s)
            for s in self._by_id.values()
            if s.course_id == course_id
            and s.is_latest
            and (user_id is None or s.user_id == user_id)
        ]

    async def latest_of_students(self, course_id: str, user_ids: list[str]) -> list[Submission]:
        wanted = set(user_ids)
        return [
            copy.deepcopy(s)
            for s in self._by_id.values()
            if s.course_id == course_id and s.is_latest and s.user_id in wanted
        ]

    async def has_any(self, assignment_id: str) -> bool:
        return any(s.assignment_id == assignment_id for s in self._by_id.values())

    async def highest_points(self, assignment_id: str) -> float | None:
        points = [
            s.points
            for s in self._by_id.values()
            if s.assignment_id == assignment_id and s.points is not None
        ]
        return max(points) if points else None

    async def graded_uses_file(self, file_id: str) -> bool:
        return any(s.is_graded and file_id in s.file_ids for s in self._by_id.values())


class InMemoryReviewRepository:
    def __init__(self) -> None:
        self._by_pair: dict[tuple[str, str], Review] = {}

    async def add(self, review: Review) -> None:
        pair = (review.course_id, review.user_id)
        if pair in self._by_pair:
            raise Conflict("this student reviewed this course already")
        self._by_pair[pair] = copy.deepcopy(review)

    async def find(self, course_id: str, user_id: str) -> Review | None:
        found = self._by_pair.get((course_id, user_id))
        return copy.deepcopy(found) if found else None

    async def update(self, review: Review, expected_version: int) -> None:
        pair = (review.course_id, review.user_id)
        stored = self._by_pair.get(pair)
        if stored is None:
            raise NotFound("no such review")
        if stored.version != expected_version:
            raise StaleVersion("the review was changed meanwhile")
        self._by_pair[pair] = copy.deepcopy(review)

    async def remove(self, review_id: str) -> bool:
        for pair, stored in self._by_pair.items():
            if stored.id == review_id:
                del self._by_pair[pair]
                return True
        return False

    async def list_user(self, user_id: str, after_id: str | None, limit: int) -> list[Review]:
        rows = sorted(
            (r for (_, u), r in self._by_pair.items() if u == user_id), key=lambda r: r.id
        )
        return [copy.deepcopy(r) for r in rows if after_id is None or r.id > after_id][:limit]

    async def list_course(self, course_id: str, before_id: str | None, limit: int) -> list[Review]:
        rows = sorted(
            (r for (c, _), r in self._by_pair.items() if c == course_id),
            key=lambda r: r.id,
            reverse=True,
        )
        return [copy.deepcopy(r) for r in rows if before_id is None or r.id < before_id][:limit]
