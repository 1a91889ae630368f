"""The course contracts on the in-memory adapters."""

from __future__ import annotations

import pytest

from ocp.adapters.memory.courses import (
    InMemoryCourseRepository,
    InMemoryEnrollments,
    InMemoryLessonRepository,
)
from tests.contracts.courses import (
    CourseRepositoryContract,
    EnrollmentLookupContract,
    LessonRepositoryContract,
)


class TestInMemoryCourses(CourseRepositoryContract):
    @pytest.fixture
    def courses(self):
        return InMemoryCourseRepository()


class TestInMemoryLessons(LessonRepositoryContract):
    @pytest.fixture
    def lessons(self):
        return InMemoryLessonRepository()


class TestInMemoryEnrollments(EnrollmentLookupContract):
    @pytest.fixture
    def enrollments(self):
        return InMemoryEnrollments()

    @pytest.fixture
    def enroll(self, enrollments):
        async def enroll(course_id, user_id):
            enrollments.enroll(course_id, user_id)

        return enroll
