"""The identity contracts on the MongoDB adapters, against a real SecantusDB server."""

from __future__ import annotations

import pytest

from ocp.adapters.mongo.identity import (
    MongoLoginThrottle,
    MongoOneTimeTokenStore,
    MongoRefreshTokenStore,
    MongoUserRepository,
)
from tests.contracts.identity import (
    LoginThrottleContract,
    OneTimeTokenStoreContract,
    RefreshTokenStoreContract,
    UserRepositoryContract,
)


async def _indexed(store):
    await store.ensure_indexes()
    await store.ensure_indexes()  # idempotent: a second start-up changes nothing
    return store


class TestMongoUsers(UserRepositoryContract):
    @pytest.fixture
    async def users(self, mongo_db):
        return await _indexed(MongoUserRepository(mongo_db))


class TestMongoRefreshTokens(RefreshTokenStoreContract):
    @pytest.fixture
    async def refresh_tokens(self, mongo_db):
        return await _indexed(MongoRefreshTokenStore(mongo_db))


class TestMongoOneTimeTokens(OneTimeTokenStoreContract):
    @pytest.fixture
    async def one_time_tokens(self, mongo_db):
        return await _indexed(MongoOneTimeTokenStore(mongo_db))


class TestMongoThrottle(LoginThrottleContract):
    @pytest.fixture
    async def throttle(self, mongo_db):
        return await _indexed(MongoLoginThrottle(mongo_db, max_failures=3, window_s=60))


async def test_user_lookups_use_indexes(mongo_db):
    users = await _indexed(MongoUserRepository(mongo_db))
    plan = await mongo_db["users"].find({"email_key": "a@b.co"}).explain()
    assert "IXSCAN" in str(plan["queryPlanner"]["winningPlan"])
    plan = await mongo_db["users"].find({"role": "admin"}).sort("_id", 1).explain()
    assert "COLLSCAN" not in str(plan["queryPlanner"]["winningPlan"])
    assert users is not None
