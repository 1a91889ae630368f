"""MongoDB assignments and submissions: one document per attempt, the newest flagged
`latest`, grades written only on the latest attempt at the version read."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ocp.adapters.mongo.errors import translate_errors
from ocp.domain.errors import Conflict, NotFound, StaleVersion
from ocp.domain.learning import Assignment, Submission

Doc = dict[str, Any]


def _assignment_to_doc(a: Assignment) -> Doc:
    return {
        "_id": a.id,
        "course_id": a.course_id,
        "title": a.title,
        "instructions": a.instructions,
        "max_points": a.max_points,
        "due_at": a.due_at,
        "allow_late": a.allow_late,
        "max_files": a.max_files,
        "allowed_types": a.allowed_types,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "version": a.version,
    }


def _assignment_from_doc(doc: Doc) -> Assignment:
    return Assignment(
        id=doc["_id"],
        course_id=doc["course_id"],
        title=doc["title"],
        instructions=doc.get("instructions", ""),
        max_points=doc["max_points"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        due_at=doc.get("due_at"),
        allow_late=doc.get("allow_late", True),
        max_files=doc.get("max_files", 5),
        allowed_types=list(doc.get("allowed_types", [])),
        version=doc["version"],
    )


@translate_errors
class MongoAssignmentRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._assignments = db["assignments"]

    async def ensure_indexes(self) -> None:
        await self._assignments.create_index(
            [("course_id", ASCENDING), ("_id", ASCENDING)], name="course_id_page"
        )

    async def add(self, assignment: Assignment) -> None:
        await self._assignments.insert_one(_assignment_to_doc(assignment))

    async def get(self, assignment_id: str) -> Assignment | None:
        doc = await self._assignments.find_one({"_id": assignment_id})
        return _assignment_from_doc(doc) if doc else None

    async def update(self, assignment: Assignment, expected_version: int) -> None:
        result = await self._assignments.replace_one(
            {"_id": assignment.id, "version": expected_version}, _assignment_to_doc(assignment)
        )
        if result.matched_count == 0:
            if await self._assignments.count_documents({"_id": assignment.id}, limit=1) == 0:
                raise NotFound("no such assignment")
            raise StaleVersion("the assignment was changed since you read it; read it again")

    async def delete(self, assignment_id: str) -> None:
        await self._assignments.delete_one({"_id": assignment_id})

    async def list_course(
        self, course_id: str, after_id: str | None, limit: int
    ) -> list[Assignment]:
        where: Doc = {"course_id": course_id}
        if after_id is not None:
            where["_id"] = {"$gt": after_id}
        cursor = self._assignments.find(where).sort("_id", ASCENDING).limit(limit)
        return [_assignment_from_doc(doc) async for doc in cursor]


# --- submissions ---------------------------------------------------------------------------


def _submission_to_doc(s: Submission) -> Doc:
    return {
        "_id": s.id,
        "assignment_id": s.assignment_id,
        "course_id": s.course_id,
        "user_id": s.user_id,
        "attempt": s.attempt,
        "submitted_at": s.submitted_at,
        "late": s.late,
        "text": s.text,
        "file_ids": s.file_ids,
        "latest": s.is_latest,
        "points": s.points,
        "feedback": s.feedback,
        "graded_at": s.graded_at,
        "grader_id": s.grader_id,
        "version": s.version,
    }


def _submission_from_doc(doc: Doc) -> Submission:
    return Submission(
        id=doc["_id"],
        assignment_id=doc["assignment_id"],
        course_id=doc["course_id"],
        user_id=doc["user_id"],
        attempt=doc["attempt"],
        submitted_at=doc["submitted_at"],
        late=doc["late"],
        text=doc.get("text", ""),
        file_ids=list(doc.get("file_ids", [])),
        is_latest=doc.get("latest", False),
        points=doc.get("points"),
        feedback=doc.get("feedback", ""),
        graded_at=doc.get("graded_at"),
        grader_id=doc.get("grader_id"),
        version=doc.get("version", 1),
    )


@translate_errors
class MongoSubmissionRepository:
    """One document per attempt; `latest` marks each student's newest attempt, the one that is
    listed to staff, graded and counted in the gradebook."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._submissions = db["submissions"]

    async def ensure_indexes(self) -> None:
        await self._submissions.create_index(
            [("assignment_id", ASCENDING), ("user_id", ASCENDING), ("attempt", ASCENDING)],
            unique=True,
            name="assignment_user_attempt",
        )
        await self._submissions.create_index(
            [("assignment_id", ASCENDING), ("latest", ASCENDING), ("user_id", ASCENDING)],
            name="assignment_latest_user",
        )
        await self._submissions.create_index(
            [("course_id", ASCENDING), ("latest", ASCENDING), ("user_id", ASCENDING)],
            name="course_latest_user",
        )
        await self._submissions.create_index([("file_ids", ASCENDING)], name="file_ids_1")
        await self._submissions.create_index(
            [("user_id", ASCENDING), ("_id", ASCENDING)], name="user_id"
        )

    async def add(self, submission: Submission) -> None:
        submission.is_latest = True
        try:
            await self._submissions.insert_one(_submission_to_doc(submission))
        except DuplicateKeyError:
            raise Conflict("this attempt exists already") from None
        mine = {"assignment_id": submission.assignment_id, "user_id": submission.user_id}
        await self._submissions.update_many(
            {**mine, "attempt": {"$lt": submission.attempt}, "latest": True},
            {"$set": {"latest": False}},
        )
        # A later attempt that raced ahead of this one stays the latest.
        newer = {**mine, "attempt": {"$gt": submission.attempt}}
        if await self._submissions.find_one(newer, {"_id": 1}) is not None:
            await self._submissions.update_one({"_id": submission.id}, {"$set": {"latest": False}})
            submission.is_latest = False

    async def get(self, submission_id: str) -> Submission | None:
        doc = await self._submissions.find_one({"_id": submission_id})
        return _submission_from_doc(doc) if doc else None

    async def last_attempt(self, assignment_id: str, user_id: str) -> int:
        doc = await self._submissions.find_one(
            {"assignment_id": assignment_id, "user_id": user_id},
            {"attempt": 1},
            sort=[("attempt", DESCENDING)],
        )
        return int(doc["attempt"]) if doc else 0

    async def save_grade(self, submission: Submission, expected_version: int) -> None:
        result = await self._submissions.update_one(
            {"_id": submission.id, "version": expected_version, "latest": True},
            {
                "$set": {
                    "points": submission.points,
                    "feedback": submission.feedback,
                    "graded_at": submission.graded_at,
                    "grader_id": submission.grader_id,
                    "version": submission.version,
                }
            },
        )
        if result.matched_count == 0:
            doc = await self._submissions.find_one({"_id": submission.id}, {"latest": 1})
            if doc is None:
                raise NotFound("no such submission")
            if not doc.get("latest"):
                raise Conflict("a newer attempt exists; grade the latest one")
            raise StaleVersion("the submission was graded meanwhile; read it again")

    async def list_attempts(
        self, assignment_id: str, user_id: str, after_attempt: int | None, limit: int
    ) -> list[Submission]:
        where: Doc = {"assignment_id": assignment_id, "user_id": user_id}
        if after_attempt is not None:
            where["attempt"] = {"$gt": after_attempt}
        cursor = self._submissions.find(where).sort("attempt", ASCENDING).limit(limit)
        return [_submission_from_doc(doc) async for doc in cursor]

    async def list_user(self, user_id: str, after_id: str | None, limit: int) -> list[Submission]:
        where: Doc = {"user_id": user_id}
        if after_id is not None:
            where["_id"] = {"$gt": after_id}
        cursor = self._submissions.find(where).sort("_id", ASCENDING).limit(limit)
        return [_submission_from_doc(doc) async for doc in cursor]

    async def list_latest(
        self, assignment_id: str, after_user_id: str | None, limit: int
    ) -> list[Submission]:
        where: Doc = {"assignment_id": assignment_id, "latest": True}
        if after_user_id is not None:
            where["user_id"] = {"$gt": after_user_id}
        cursor = self._submissions.find(where).sort("user_id", ASCENDING).limit(limit)
        return [_submission_from_doc(doc) async for doc in cursor]

    async def latest_in_course(
        self, course_id: str, user_id: str | None = None
    ) -> list[Submission]:
        where: Doc = {"course_id": course_id, "latest": True}
        if user_id is not None:
            where["user_id"] = user_id
        cursor = self._submissions.find(where, {"text": 0})
        return [_submission_from_doc(doc) async for doc in cursor]

    async def latest_of_students(self, course_id: str, user_ids: list[str]) -> list[Submission]:
        if not user_ids:
            return []
        # Equality on course and latest, then the students' id range on `course_latest_user`:
        # a gradebook page's students are neighbours in id order, so the range holds their
        # work and only that of students who left the course between them (skipped here).
        # One range scan, where a long `$in` is a seek per student (and, on SecantusDB,
        # grows faster than the page: 500 students took 6x the time of the range).
        wanted = set(user_ids)
        where = {
            "course_id": course_id,
            "latest": True,
            "user_id": {"$gte": min(wanted), "$lte": max(wanted)},
        }
        cursor = self._submissions.find(where, {"text": 0})
        return [_submission_from_doc(doc) async for doc in cursor if doc["user_id"] in wanted]

    async def has_any(self, assignment_id: str) -> bool:
        found = await self._submissions.find_one({"assignment_id": assignment_id}, {"_id": 1})
        return found is not None

    async def highest_points(self, assignment_id: str) -> float | None:
        doc = await self._submissions.find_one(
            {"assignment_id": assignment_id, "points": {"$ne": None}},
            {"points": 1},
            sort=[("points", DESCENDING)],
        )
        return float(doc["points"]) if doc else None

    async def graded_uses_file(self, file_id: str) -> bool:
        found = await self._submissions.find_one(
            {"file_ids": file_id, "graded_at": {"$ne": None}}, {"_id": 1}
        )
        return found is not None
