"""The learning contracts on the MongoDB adapters, against a real SecantusDB server."""

from __future__ import annotations

import pytest

from ocp.adapters.mongo.courses import MongoCourseRepository, MongoEnrollments
from ocp.adapters.mongo.learning import (
    MongoAssignmentRepository,
    MongoCourseCounters,
    MongoEnrollmentRepository,
    MongoReviewRepository,
    MongoSubmissionRepository,
)
from tests.contracts.learning import (
    AssignmentRepositoryContract,
    CourseCountersContract,
    EnrollmentRepositoryContract,
    ReviewRepositoryContract,
    SubmissionRepositoryContract,
)


async def _indexed(store):
    await store.ensure_indexes()
    await store.ensure_indexes()  # idempotent: a second start-up changes nothing
    return store


class TestMongoEnrollmentRepository(EnrollmentRepositoryContract):
    @pytest.fixture
    async def lookup(self, mongo_db):
        return await _indexed(MongoEnrollments(mongo_db))

    @pytest.fixture
    async def enrollments(self, mongo_db, lookup):
        return await _indexed(MongoEnrollmentRepository(mongo_db))


class TestMongoCourseCounters(CourseCountersContract):
    @pytest.fixture
    async def courses(self, mongo_db):
        return await _indexed(MongoCourseRepository(mongo_db))

    @pytest.fixture
    async def counters(self, mongo_db):
        return await _indexed(MongoCourseCounters(mongo_db))


class TestMongoAssignments(AssignmentRepositoryContract):
    @pytest.fixture
    async def assignments(self, mongo_db):
        return await _indexed(MongoAssignmentRepository(mongo_db))


class TestMongoSubmissions(SubmissionRepositoryContract):
    @pytest.fixture
    async def submissions(self, mongo_db):
        return await _indexed(MongoSubmissionRepository(mongo_db))


class TestMongoReviews(ReviewRepositoryContract):
    @pytest.fixture
    async def reviews(self, mongo_db):
        return await _indexed(MongoReviewRepository(mongo_db))
