"""MongoDB adapters over pymongo's native async client: one repository per collection, each
declaring its own indexes (equality, then sort, then range)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from ocp.adapters.mongo.courses import MongoCourseRepository, MongoLessonRepository
from ocp.adapters.mongo.files import MongoFileRepository, MongoUploadSessionRepository
from ocp.adapters.mongo.identity import (
    MongoLoginThrottle,
    MongoOneTimeTokenStore,
    MongoRefreshTokenStore,
    MongoUserRepository,
)
from ocp.adapters.mongo.learning import (
    MongoAssignmentRepository,
    MongoEnrollmentRepository,
    MongoReviewRepository,
    MongoSubmissionRepository,
)
from ocp.application.ports.stores import Stores


def mongo_stores(
    db: AsyncDatabase[dict[str, Any]], *, login_max_failures: int, login_window_s: int
) -> Stores:
    """Every collection in one MongoDB database."""
    return Stores(
        users=MongoUserRepository(db),
        refresh_tokens=MongoRefreshTokenStore(db),
        one_time_tokens=MongoOneTimeTokenStore(db),
        login_throttle=MongoLoginThrottle(db, login_max_failures, login_window_s),
        courses=MongoCourseRepository(db),
        lessons=MongoLessonRepository(db),
        enrollments=MongoEnrollmentRepository(db),
        assignments=MongoAssignmentRepository(db),
        submissions=MongoSubmissionRepository(db),
        reviews=MongoReviewRepository(db),
        files=MongoFileRepository(db),
        upload_sessions=MongoUploadSessionRepository(db),
    )


async def ensure_indexes(stores: Stores) -> None:
    """Create every collection's indexes (idempotent): each MongoDB repository declares its
    own, and a store passed through instrumentation still answers for them."""
    for _, store in stores.each():
        await store.ensure_indexes()
