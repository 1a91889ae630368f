"""MongoDB `enrollments`: one document per (course, student), with the student's progress."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from ocp.adapters.mongo.errors import translate_errors
from ocp.domain.errors import NotFound, StaleVersion
from ocp.domain.learning import Enrollment

Doc = dict[str, Any]
_DUPLICATE_KEY = 11000


def enrollment_to_doc(e: Enrollment) -> Doc:
    return {
        "_id": e.id,
        "course_id": e.course_id,
        "user_id": e.user_id,
        "enrolled_at": e.enrolled_at,
        "completed_lesson_ids": e.completed_lesson_ids,
        "completed_at": e.completed_at,
        "version": e.version,
    }


def _enrollment_from_doc(doc: Doc) -> Enrollment:
    return Enrollment(
        id=doc["_id"],
        course_id=doc["course_id"],
        user_id=doc["user_id"],
        enrolled_at=doc["enrolled_at"],
        completed_lesson_ids=list(doc.get("completed_lesson_ids", [])),
        completed_at=doc.get("completed_at"),
        version=doc.get("version", 1),
    )


@translate_errors
class MongoEnrollmentRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._enrollments = db["enrollments"]

    async def ensure_indexes(self) -> None:
        # One enrollment per student and course; also the gradebook's (course, student) keyset.
        await self._enrollments.create_index(
            [("course_id", ASCENDING), ("user_id", ASCENDING)], unique=True, name="course_user"
        )
        # Roster and "my courses" pages: equality on the owner, then the keyset range on _id.
        await self._enrollments.create_index(
            [("course_id", ASCENDING), ("_id", ASCENDING)], name="course_id_page"
        )
        await self._enrollments.create_index(
            [("user_id", ASCENDING), ("_id", ASCENDING)], name="user_id_page"
        )

    async def add(self, enrollment: Enrollment) -> None:
        # A duplicate becomes `Conflict` in `translate_errors`; the use case answers it with
        # the enrollment that won, so its message never reaches a client.
        await self._enrollments.insert_one(enrollment_to_doc(enrollment))

    async def find(self, course_id: str, user_id: str) -> Enrollment | None:
        doc = await self._enrollments.find_one({"course_id": course_id, "user_id": user_id})
        return _enrollment_from_doc(doc) if doc else None

    async def is_enrolled(self, course_id: str, user_id: str) -> bool:
        found = await self._enrollments.find_one(
            {"course_id": course_id, "user_id": user_id}, {"_id": 1}
        )
        return found is not None

    async def has_enrollments(self, course_id: str) -> bool:
        return await self._enrollments.find_one({"course_id": course_id}, {"_id": 1}) is not None

    async def save_progress(self, enrollment: Enrollment, expected_version: int) -> None:
        result = await self._enrollments.update_one(
            {"_id": enrollment.id, "version": expected_version},
            {
                "$set": {
                    "completed_lesson_ids": enrollment.completed_lesson_ids,
                    "completed_at": enrollment.completed_at,
                    "version": enrollment.version,
                }
            },
        )
        if result.matched_count == 0:
            if await self._enrollments.count_documents({"_id": enrollment.id}, limit=1) == 0:
                raise NotFound("no such enrollment")
            raise StaleVersion("the progress changed meanwhile")

    async def remove(self, course_id: str, user_id: str) -> bool:
        result = await self._enrollments.delete_one({"course_id": course_id, "user_id": user_id})
        return result.deleted_count == 1

    async def _page(self, where: Doc, after_id: str | None, limit: int) -> list[Enrollment]:
        if after_id is not None:
            where["_id"] = {"$gt": after_id}
        cursor = self._enrollments.find(where).sort("_id", ASCENDING).limit(limit)
        return [_enrollment_from_doc(doc) async for doc in cursor]

    async def list_course(
        self, course_id: str, after_id: str | None, limit: int
    ) -> list[Enrollment]:
        return await self._page({"course_id": course_id}, after_id, limit)

    async def list_user(self, user_id: str, after_id: str | None, limit: int) -> list[Enrollment]:
        return await self._page({"user_id": user_id}, after_id, limit)

    async def list_course_students(
        self, course_id: str, after_user_id: str | None, limit: int
    ) -> list[Enrollment]:
        # Equality on the course, range and sort on the student: the `course_user` index.
        where: Doc = {"course_id": course_id}
        if after_user_id is not None:
            where["user_id"] = {"$gt": after_user_id}
        cursor = self._enrollments.find(where).sort("user_id", ASCENDING).limit(limit)
        return [_enrollment_from_doc(doc) async for doc in cursor]

    async def enrolled_among(self, course_id: str, user_ids: list[str]) -> set[str]:
        if not user_ids:
            return set()
        cursor = self._enrollments.find(
            {"course_id": course_id, "user_id": {"$in": list(dict.fromkeys(user_ids))}},
            {"user_id": 1},
        )
        return {doc["user_id"] async for doc in cursor}

    async def add_many(self, enrollments: list[Enrollment]) -> list[Enrollment]:
        if not enrollments:
            return []
        try:
            await self._enrollments.insert_many(
                [enrollment_to_doc(e) for e in enrollments], ordered=False
            )
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if exc.details.get("writeConcernErrors") or any(
                e.get("code") != _DUPLICATE_KEY for e in errors
            ):
                raise
            skipped = {e["index"] for e in errors}
            return [e for n, e in enumerate(enrollments) if n not in skipped]
        return list(enrollments)
