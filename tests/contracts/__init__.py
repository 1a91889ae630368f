"""Contracts of the ports, written once and run against every adapter technology.

A contract class takes its store from the `stores` fixture (one `Stores`: every collection of
one technology), which the module running it provides: the in-memory stores in
`tests/unit/test_store_contracts.py`, MongoDB in `tests/integration/test_mongo_store_contracts.py`.
The file stores (memory, disk, S3) are bytes, not collections: their contract takes `store`.
"""

from __future__ import annotations

import pytest


class FromStores:
    """The fixtures a contract asks for, each one collection of the `stores` fixture."""

    @pytest.fixture
    def users(self, stores):
        return stores.users

    @pytest.fixture
    def refresh_tokens(self, stores):
        return stores.refresh_tokens

    @pytest.fixture
    def one_time_tokens(self, stores):
        return stores.one_time_tokens

    @pytest.fixture
    def throttle(self, stores):
        return stores.login_throttle

    @pytest.fixture
    def courses(self, stores):
        return stores.courses

    @pytest.fixture
    def lessons(self, stores):
        return stores.lessons

    @pytest.fixture
    def enrollments(self, stores):
        return stores.enrollments

    @pytest.fixture
    def assignments(self, stores):
        return stores.assignments

    @pytest.fixture
    def submissions(self, stores):
        return stores.submissions

    @pytest.fixture
    def reviews(self, stores):
        return stores.reviews

    @pytest.fixture
    def files(self, stores):
        return stores.files

    @pytest.fixture
    def uploads(self, stores):
        return stores.upload_sessions


# What the `stores` fixture's login throttle allows: 3 failures within 60 seconds.
THROTTLE_MAX_FAILURES, THROTTLE_WINDOW_S = 3, 60
