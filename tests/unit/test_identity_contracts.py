"""The identity contracts on the in-memory adapters."""

from __future__ import annotations

import pytest

from ocp.adapters.memory.identity import (
    InMemoryLoginThrottle,
    InMemoryOneTimeTokenStore,
    InMemoryRefreshTokenStore,
    InMemoryUserRepository,
)
from tests.contracts.identity import (
    LoginThrottleContract,
    OneTimeTokenStoreContract,
    RefreshTokenStoreContract,
    UserRepositoryContract,
)


class TestInMemoryUsers(UserRepositoryContract):
    @pytest.fixture
    def users(self):
        return InMemoryUserRepository()


class TestInMemoryRefreshTokens(RefreshTokenStoreContract):
    @pytest.fixture
    def refresh_tokens(self):
        return InMemoryRefreshTokenStore()


class TestInMemoryOneTimeTokens(OneTimeTokenStoreContract):
    @pytest.fixture
    def one_time_tokens(self):
        return InMemoryOneTimeTokenStore()


class TestInMemoryThrottle(LoginThrottleContract):
    @pytest.fixture
    def throttle(self):
        return InMemoryLoginThrottle(max_failures=3, window_s=60)
