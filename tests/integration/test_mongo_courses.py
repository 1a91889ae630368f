"""The course contracts on the MongoDB adapters, against a real SecantusDB server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ocp.adapters.mongo.courses import (
    MongoCourseRepository,
    MongoEnrollments,
    MongoLessonRepository,
)
from tests.contracts.courses import (
    CourseRepositoryContract,
    EnrollmentLookupContract,
    LessonRepositoryContract,
)


async def _indexed(store):
    await store.ensure_indexes()
    await store.ensure_indexes()  # idempotent: a second start-up changes nothing
    return store


class TestMongoCourses(CourseRepositoryContract):
    @pytest.fixture
    async def courses(self, mongo_db):
        return await _indexed(MongoCourseRepository(mongo_db))


class TestMongoLessons(LessonRepositoryContract):
    @pytest.fixture
    async def lessons(self, mongo_db):
        return await _indexed(MongoLessonRepository(mongo_db))


class TestMongoEnrollments(EnrollmentLookupContract):
    @pytest.fixture
    async def enrollments(self, mongo_db):
        return await _indexed(MongoEnrollments(mongo_db))

    @pytest.fixture
    def enroll(self, mongo_db):
        async def enroll(course_id, user_id):
            await mongo_db["enrollments"].insert_one(
                {
                    "_id": f"{course_id}:{user_id}",
                    "course_id": course_id,
                    "user_id": user_id,
                    "enrolled_at": datetime.now(UTC),
                }
            )

        return enroll
