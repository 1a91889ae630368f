"""The learning contracts on the in-memory adapters."""

from __future__ import annotations

import pytest

from ocp.adapters.memory.courses import InMemoryCourseRepository, InMemoryEnrollments
from ocp.adapters.memory.learning import (
    InMemoryAssignmentRepository,
    InMemoryCourseCounters,
    InMemoryEnrollmentRepository,
    InMemoryReviewRepository,
    InMemorySubmissionRepository,
)
from tests.contracts.learning import (
    AssignmentRepositoryContract,
    CourseCountersContract,
    EnrollmentRepositoryContract,
    ReviewRepositoryContract,
    SubmissionRepositoryContract,
)


class TestInMemoryEnrollmentRepository(EnrollmentRepositoryContract):
    @pytest.fixture
    def lookup(self):
        return InMemoryEnrollments()

    @pytest.fixture
    def enrollments(self, lookup):
        return InMemoryEnrollmentRepository(lookup)


class TestInMemoryCourseCounters(CourseCountersContract):
    @pytest.fixture
    def courses(self):
        return InMemoryCourseRepository()

    @pytest.fixture
    def counters(self, courses):
        return InMemoryCourseCounters(courses)


class TestInMemoryAssignments(AssignmentRepositoryContract):
    @pytest.fixture
    def assignments(self):
        return InMemoryAssignmentRepository()


class TestInMemorySubmissions(SubmissionRepositoryContract):
    @pytest.fixture
    def submissions(self):
        return InMemorySubmissionRepository()


class TestInMemoryReviews(ReviewRepositoryContract):
    @pytest.fixture
    def reviews(self):
        return InMemoryReviewRepository()
