"""Caching decorators of the identity stores: what `SessionService.authenticate` reads on every
request (the user, and whether the session family is live), kept in memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ocp.adapters.cache.entries import MISSING, Entries
from ocp.adapters.cache.feed import ChangeFeed
from ocp.application.ports.identity import (
    RefreshToken,
    RefreshTokenStore,
    SpendResult,
    UserRepository,
)
from ocp.domain.users import User


def _copy_user(user: User | None) -> User | None:
    return replace(user) if user is not None else None


class CachedUserRepository:
    """`get` by id from memory; every write through here forgets the user at once."""

    def __init__(self, inner: UserRepository, feed: ChangeFeed, *, size: int) -> None:
        self._inner = inner
        self._feed = feed
        self._by_id: Entries[User | None] = Entries(
            "users",
            size,
            feed,
            "users",
            copy=_copy_user,
            version_of=lambda user: user.version if user is not None else None,
        )

    @property
    def wrapped(self) -> UserRepository:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get(self, user_id: str) -> User | None:
        kept = self._by_id.get(user_id)
        if kept is not MISSING:
            return kept  # type: ignore[return-value]
        epoch = self._by_id.epoch()
        user = await self._inner.get(user_id)
        self._by_id.put(user_id, user, epoch)
        return user

    async def add(self, user: User) -> None:
        self._by_id.writing(user.id)
        try:
            await self._inner.add(user)
        finally:
            self._by_id.written(user.id)
            self._feed.changed("users", user.id)

    async def update(self, user: User, expected_version: int) -> None:
        self._by_id.writing(user.id)
        try:
            await self._inner.update(user, expected_version)
        finally:
            self._by_id.written(user.id)
            self._feed.changed("users", user.id)


class CachedRefreshTokenStore:
    """`is_family_live` from memory (a session family is a `sessions` document); revoking
    through here forgets at once what it changed."""

    def __init__(self, inner: RefreshTokenStore, feed: ChangeFeed, *, size: int) -> None:
        self._inner = inner
        self._feed = feed
        # By family id (the document id the change stream names): whom it was asked for, and
        # the answer.
        self._families: Entries[tuple[str | None, bool]] = Entries(
            "sessions", size, feed, "sessions"
        )

    @property
    def wrapped(self) -> RefreshTokenStore:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def is_family_live(self, family_id: str, *, of_user: str | None = None) -> bool:
        kept = self._families.get(family_id)
        if kept is not MISSING and kept[0] == of_user:  # type: ignore[index]
            return kept[1]  # type: ignore[index]
        epoch = self._families.epoch()
        live = await self._inner.is_family_live(family_id, of_user=of_user)
        self._families.put(family_id, (of_user, live), epoch)
        return live

    async def add(self, token: RefreshToken) -> None:
        self._families.writing(token.family_id)
        try:
            await self._inner.add(token)
        finally:
            self._families.written(token.family_id)
            self._feed.changed("sessions", token.family_id)

    async def spend(
        self, token_hash: str, now: datetime
    ) -> tuple[SpendResult, RefreshToken | None]:
        return await self._inner.spend(token_hash, now)

    # A revocation is answered from the store from the moment it starts: between the store's
    # answer and the forgetting, other requests of this process run.

    async def revoke_family(self, family_id: str) -> None:
        self._families.writing(family_id)
        try:
            await self._inner.revoke_family(family_id)
        finally:
            self._families.written(family_id)
            self._feed.changed("sessions", family_id)

    async def revoke_user(self, user_id: str, *, except_family: str | None = None) -> None:
        self._families.writing_all()  # which families are the user's: not known here
        try:
            await self._inner.revoke_user(user_id, except_family=except_family)
        finally:
            self._families.written_all()
            self._feed.changed_all("sessions")
