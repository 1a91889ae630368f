"""MongoDB identity stores: users, sessions and refresh tokens, one-time tokens, login failures.

Everything several API processes must agree on lives here, changed by single-document
atomic updates, so N workers behind a load balancer behave as one.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ocp.adapters.mongo.errors import translate_errors
from ocp.application.ports.identity import (
    OneTimeGrant,
    OneTimePurpose,
    RefreshToken,
    SessionInfo,
    SpendResult,
)
from ocp.domain.errors import Conflict, NotFound, StaleVersion
from ocp.domain.users import Email, Role, User

Doc = dict[str, Any]
MAX_SESSIONS_LISTED = 500  # a bound on what one user can make the server read
_IN_BATCH = 1000  # values per `$in`: keeps each command small whatever the caller asks


def _user_to_doc(user: User) -> Doc:
    return {
        "_id": user.id,
        "email": user.email.value,
        "email_key": user.email.key,
        "full_name": user.full_name,
        "name_key": user.full_name.lower(),
        "password_hash": user.password_hash,
        "role": user.role.value,
        "bio": user.bio,
        "is_active": user.is_active,
        "email_verified": user.email_verified,
        "avatar_file_id": user.avatar_file_id,
        "token_generation": user.token_generation,
        "version": user.version,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "deleted_at": user.deleted_at,
    }


def _user_from_doc(doc: Doc) -> User:
    return User(
        id=doc["_id"],
        # As written: not re-validated, so rows from before today's email rules still load.
        email=Email.as_stored(doc["email"], doc["email_key"]),
        full_name=doc["full_name"],
        password_hash=doc["password_hash"],
        role=Role(doc["role"]),
        bio=doc.get("bio", ""),
        is_active=doc["is_active"],
        email_verified=doc["email_verified"],
        avatar_file_id=doc.get("avatar_file_id"),
        token_generation=doc.get("token_generation", 0),
        version=doc["version"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        deleted_at=doc.get("deleted_at"),
    )


@translate_errors
class MongoUserRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._users = db["users"]

    async def ensure_indexes(self) -> None:
        await self._users.create_index([("email_key", ASCENDING)], unique=True, name="email_key_1")
        await self._users.create_index([("role", ASCENDING), ("_id", ASCENDING)], name="role_id")

    async def add(self, user: User) -> None:
        try:
            await self._users.insert_one(_user_to_doc(user))
        except DuplicateKeyError:
            raise Conflict("an account with this email already exists") from None

    async def get(self, user_id: str) -> User | None:
        doc = await self._users.find_one({"_id": user_id})
        return _user_from_doc(doc) if doc else None

    async def get_by_email(self, email_key: str) -> User | None:
        doc = await self._users.find_one({"email_key": email_key})
        return _user_from_doc(doc) if doc else None

    async def update(self, user: User, expected_version: int) -> None:
        try:
            result = await self._users.replace_one(
                {"_id": user.id, "version": expected_version}, _user_to_doc(user)
            )
        except DuplicateKeyError:  # a changed address another account has meanwhile
            raise Conflict("an account with this email already exists") from None
        if result.matched_count == 0:
            if await self._users.count_documents({"_id": user.id}, limit=1) == 0:
                raise NotFound("no such user")
            raise StaleVersion("the user was changed since you read it; read it again")

    async def list_after(
        self, *, role: Role | None, query: str | None, after_id: str | None, limit: int
    ) -> list[User]:
        where: Doc = {}
        if after_id is not None:
            where["_id"] = {"$gt": after_id}
        if role is not None:
            where["role"] = role.value
        if query:
            literal = {"$regex": re.escape(query)}  # the client's text is never a pattern
            where["$or"] = [{"email_key": literal}, {"name_key": literal}]
        cursor = self._users.find(where).sort("_id", ASCENDING).limit(limit)
        return [_user_from_doc(doc) async for doc in cursor]

    async def has_admin(self) -> bool:
        return await self._users.find_one({"role": Role.ADMIN.value}, {"_id": 1}) is not None

    async def get_many(self, user_ids: list[str]) -> list[User]:
        cursor = self._users.find({"_id": {"$in": list(dict.fromkeys(user_ids))}})
        return [_user_from_doc(doc) async for doc in cursor]

    async def get_many_by_email(self, email_keys: list[str]) -> list[User]:
        keys = list(dict.fromkeys(email_keys))
        found: list[User] = []
        for start in range(0, len(keys), _IN_BATCH):
            cursor = self._users.find({"email_key": {"$in": keys[start : start + _IN_BATCH]}})
            found += [_user_from_doc(doc) async for doc in cursor]
        return found


@translate_errors
class MongoRefreshTokenStore:
    """`sessions` holds one document per token family; `refresh_tokens` one per token."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._tokens = db["refresh_tokens"]
        self._sessions = db["sessions"]

    async def ensure_indexes(self) -> None:
        await self._tokens.create_index("expires_at", expireAfterSeconds=0, name="expiry")
        await self._sessions.create_index("expires_at", expireAfterSeconds=0, name="expiry")
        await self._sessions.create_index(
            [("user_id", ASCENDING), ("revoked", ASCENDING)], name="user_revoked"
        )

    async def add(self, token: RefreshToken) -> None:
        await self._sessions.update_one(
            {"_id": token.family_id},
            {
                "$setOnInsert": {
                    "user_id": token.user_id,
                    "revoked": False,
                    "created_at": token.issued_at,
                    "user_agent": token.user_agent,
                },
                "$max": {"expires_at": token.expires_at, "last_used_at": token.issued_at},
            },
            upsert=True,
        )
        await self._tokens.insert_one(
            {
                "_id": token.token_hash,
                "family_id": token.family_id,
                "user_id": token.user_id,
                "issued_at": token.issued_at,
                "expires_at": token.expires_at,
                "spent_at": None,
            }
        )

    async def spend(
        self, token_hash: str, now: datetime
    ) -> tuple[SpendResult, RefreshToken | None]:
        doc = await self._tokens.find_one_and_update(
            {"_id": token_hash, "spent_at": None, "expires_at": {"$gt": now}},
            {"$set": {"spent_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            if not await self.is_family_live(doc["family_id"]):
                return SpendResult.INVALID, None
            return SpendResult.SPENT, _token_from_doc(doc)
        doc = await self._tokens.find_one({"_id": token_hash})
        if (
            doc is None
            or doc["expires_at"] <= now
            or not await self.is_family_live(doc["family_id"])
        ):
            return SpendResult.INVALID, None
        return SpendResult.ALREADY_SPENT, _token_from_doc(doc)

    async def find(self, token_hash: str) -> RefreshToken | None:
        doc = await self._tokens.find_one({"_id": token_hash})
        if doc is None or not await self.is_family_live(doc["family_id"]):
            return None
        return _token_from_doc(doc)

    async def revoke_family(self, family_id: str) -> None:
        await self._sessions.update_one({"_id": family_id}, {"$set": {"revoked": True}})

    async def is_family_live(self, family_id: str, *, of_user: str | None = None) -> bool:
        where: Doc = {"_id": family_id, "revoked": False}
        if of_user is not None:
            where["user_id"] = of_user
        found = await self._sessions.find_one(where, {"_id": 1})
        return found is not None

    async def revoke_user(self, user_id: str, *, except_family: str | None = None) -> None:
        where: Doc = {"user_id": user_id, "revoked": False}
        if except_family is not None:
            where["_id"] = {"$ne": except_family}
        await self._sessions.update_many(where, {"$set": {"revoked": True}})

    async def sessions_of(self, user_id: str, now: datetime) -> list[SessionInfo]:
        # A user has a handful of live sessions: read by the (user_id, revoked) index, sorted here.
        found = [
            SessionInfo(
                id=doc["_id"],
                created_at=doc.get("created_at") or doc["expires_at"],
                last_used_at=doc.get("last_used_at") or doc.get("created_at") or doc["expires_at"],
                user_agent=doc.get("user_agent"),
            )
            async for doc in self._sessions.find(
                {"user_id": user_id, "revoked": False, "expires_at": {"$gt": now}}
            ).limit(MAX_SESSIONS_LISTED)
        ]
        return sorted(found, key=lambda s: s.last_used_at, reverse=True)


def _token_from_doc(doc: Doc) -> RefreshToken:
    return RefreshToken(
        token_hash=doc["_id"],
        family_id=doc["family_id"],
        user_id=doc["user_id"],
        issued_at=doc["issued_at"],
        expires_at=doc["expires_at"],
        spent_at=doc.get("spent_at"),
    )


@translate_errors
class MongoOneTimeTokenStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._tokens = db["one_time_tokens"]

    async def ensure_indexes(self) -> None:
        await self._tokens.create_index("expires_at", expireAfterSeconds=0, name="expiry")
        await self._tokens.create_index(
            [("user_id", ASCENDING), ("purpose", ASCENDING)], name="user_purpose"
        )

    async def add(
        self,
        purpose: OneTimePurpose,
        token_hash: str,
        user_id: str,
        expires_at: datetime,
        payload: dict[str, str] | None = None,
    ) -> None:
        await self._tokens.insert_one(
            {
                "_id": token_hash,
                "purpose": purpose.value,
                "user_id": user_id,
                "expires_at": expires_at,
                "payload": payload or {},
            }
        )

    async def consume(
        self, purpose: OneTimePurpose, token_hash: str, now: datetime
    ) -> OneTimeGrant | None:
        doc = await self._tokens.find_one_and_delete(
            {"_id": token_hash, "purpose": purpose.value, "expires_at": {"$gt": now}}
        )
        return OneTimeGrant(doc["user_id"], dict(doc.get("payload") or {})) if doc else None

    async def discard_user(self, purpose: OneTimePurpose | None, user_id: str) -> None:
        where: dict[str, str] = {"user_id": user_id}
        if purpose is not None:
            where["purpose"] = purpose.value
        await self._tokens.delete_many(where)


@translate_errors
class MongoLoginThrottle:
    """One document per login key holding its latest failures (at most `max_failures`)."""

    def __init__(self, db: AsyncDatabase[Doc], max_failures: int, window_s: int) -> None:
        self._failures = db["login_failures"]
        self._max = max_failures
        self._window = timedelta(seconds=window_s)

    async def ensure_indexes(self) -> None:
        await self._failures.create_index("expires_at", expireAfterSeconds=0, name="expiry")

    async def retry_after(self, key: str, now: datetime) -> int | None:
        doc = await self._failures.find_one({"_id": key})
        recent = [t for t in (doc or {}).get("failures", []) if t > now - self._window]
        if len(recent) < self._max:
            return None
        oldest = recent[-self._max]
        return max(1, int((oldest + self._window - now).total_seconds() + 0.999))

    async def record_failure(self, key: str, now: datetime) -> None:
        await self._failures.update_one(
            {"_id": key},
            {
                "$push": {"failures": {"$each": [now], "$slice": -self._max}},
                "$set": {"expires_at": now + self._window},
            },
            upsert=True,
        )

    async def clear(self, key: str) -> None:
        await self._failures.delete_one({"_id": key})
