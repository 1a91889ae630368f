"""MongoDB reviews: one per student and course, edited at the version read."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from ocp.adapters.mongo.errors import translate_errors
from ocp.domain.errors import NotFound, StaleVersion
from ocp.domain.learning import Review

Doc = dict[str, Any]


def _review_to_doc(r: Review) -> Doc:
    return {
        "_id": r.id,
        "course_id": r.course_id,
        "user_id": r.user_id,
        "rating": r.rating,
        "comment": r.comment,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "version": r.version,
    }


def _review_from_doc(doc: Doc) -> Review:
    return Review(
        id=doc["_id"],
        course_id=doc["course_id"],
        user_id=doc["user_id"],
        rating=doc["rating"],
        comment=doc.get("comment", ""),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        version=doc["version"],
    )


@translate_errors
class MongoReviewRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._reviews = db["reviews"]

    async def ensure_indexes(self) -> None:
        await self._reviews.create_index(
            [("course_id", ASCENDING), ("user_id", ASCENDING)], unique=True, name="course_user"
        )
        await self._reviews.create_index(
            [("course_id", ASCENDING), ("_id", DESCENDING)], name="course_id_page"
        )
        await self._reviews.create_index(
            [("user_id", ASCENDING), ("_id", ASCENDING)], name="user_id"
        )

    async def add(self, review: Review) -> None:
        # A duplicate becomes `Conflict` in `translate_errors`; the use case then revises the
        # review that won, so its message never reaches a client.
        await self._reviews.insert_one(_review_to_doc(review))

    async def find(self, course_id: str, user_id: str) -> Review | None:
        doc = await self._reviews.find_one({"course_id": course_id, "user_id": user_id})
        return _review_from_doc(doc) if doc else None

    async def update(self, review: Review, expected_version: int) -> None:
        result = await self._reviews.replace_one(
            {"_id": review.id, "version": expected_version}, _review_to_doc(review)
        )
        if result.matched_count == 0:
            if await self._reviews.count_documents({"_id": review.id}, limit=1) == 0:
                raise NotFound("no such review")
            raise StaleVersion("the review was changed meanwhile")

    async def remove(self, review_id: str) -> bool:
        return (await self._reviews.delete_one({"_id": review_id})).deleted_count == 1

    async def list_user(self, user_id: str, after_id: str | None, limit: int) -> list[Review]:
        where: Doc = {"user_id": user_id}
        if after_id is not None:
            where["_id"] = {"$gt": after_id}
        cursor = self._reviews.find(where).sort("_id", ASCENDING).limit(limit)
        return [_review_from_doc(doc) async for doc in cursor]

    async def list_course(self, course_id: str, before_id: str | None, limit: int) -> list[Review]:
        where: Doc = {"course_id": course_id}
        if before_id is not None:
            where["_id"] = {"$lt": before_id}
        cursor = self._reviews.find(where).sort("_id", DESCENDING).limit(limit)
        return [_review_from_doc(doc) async for doc in cursor]
