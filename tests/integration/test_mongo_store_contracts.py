"""Every collection contract on the MongoDB stores, against a real SecantusDB server (the
in-memory stores run the same ones in `tests/unit/test_store_contracts.py`), and the plans of
the queries an index must serve."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ocp.adapters.cache import FOLLOWED, cached_stores
from ocp.adapters.cache.webhooks import CachedWebhookRepository
from ocp.adapters.mongo import ensure_indexes, mongo_stores
from ocp.adapters.mongo.audit import MongoAuditLog
from ocp.adapters.mongo.changes import MongoChangeFeed
from ocp.adapters.mongo.events import (
    MongoDeliveryRepository,
    MongoEventLog,
    MongoJobRepository,
    MongoWebhookRepository,
)
from ocp.adapters.mongo.idempotency import MongoIdempotencyStore
from ocp.adapters.mongo.limits import MongoRateCounter
from tests.contracts import THROTTLE_MAX_FAILURES, THROTTLE_WINDOW_S
from tests.contracts.audit import AuditLogContract
from tests.contracts.courses import CourseRepositoryContract, LessonRepositoryContract
from tests.contracts.events import (
    DeliveryRepositoryContract,
    EventLogContract,
    EventStores,
    JobRepositoryContract,
    WebhookRepositoryContract,
)
from tests.contracts.files import FileRepositoryContract, UploadSessionRepositoryContract
from tests.contracts.idempotency import IdempotencyStoreContract
from tests.contracts.identity import (
    LoginThrottleContract,
    OneTimeTokenStoreContract,
    RefreshTokenStoreContract,
    UserRepositoryContract,
)
from tests.contracts.learning import (
    AssignmentRepositoryContract,
    CourseCountersContract,
    EnrollmentRepositoryContract,
    ReviewRepositoryContract,
    SubmissionRepositoryContract,
)
from tests.contracts.limits import RateCounterContract


@pytest.fixture
async def stores(mongo_db):
    made = mongo_stores(
        mongo_db, login_max_failures=THROTTLE_MAX_FAILURES, login_window_s=THROTTLE_WINDOW_S
    )
    await ensure_indexes(made)
    await ensure_indexes(made)  # idempotent: a second start-up changes nothing
    return made


class TestUsers(UserRepositoryContract):
    pass


# The same contracts through the caches, kept true by a change stream on the same database: a
# cache must not change what any call answers.


class CachedStores:
    @pytest.fixture
    async def stores(self, stores, mongo_db):
        feed = MongoChangeFeed(mongo_db, FOLLOWED)
        await feed.start()
        assert feed.live
        yield cached_stores(stores, feed)
        await feed.stop()


class TestCachedUsers(CachedStores, UserRepositoryContract):
    pass


class TestCachedRefreshTokens(CachedStores, RefreshTokenStoreContract):
    pass


class TestCachedCourses(CachedStores, CourseRepositoryContract):
    pass


class TestCachedCourseCounters(CachedStores, CourseCountersContract):
    pass


class TestCachedLessons(CachedStores, LessonRepositoryContract):
    pass


class TestRefreshTokens(RefreshTokenStoreContract):
    pass


class TestOneTimeTokens(OneTimeTokenStoreContract):
    pass


class TestLoginThrottle(LoginThrottleContract):
    pass


class TestCourses(CourseRepositoryContract):
    pass


class TestCourseCounters(CourseCountersContract):
    pass


class TestLessons(LessonRepositoryContract):
    pass


class TestEnrollments(EnrollmentRepositoryContract):
    pass


class TestAssignments(AssignmentRepositoryContract):
    pass


class TestSubmissions(SubmissionRepositoryContract):
    pass


class TestReviews(ReviewRepositoryContract):
    pass


class TestFiles(FileRepositoryContract):
    pass


class TestUploadSessions(UploadSessionRepositoryContract):
    pass


def winning_plan(explained) -> str:
    return str(explained["queryPlanner"]["winningPlan"])


async def test_user_lookups_use_indexes(stores, mongo_db):
    plan = await mongo_db["users"].find({"email_key": "a@b.co"}).explain()
    assert "IXSCAN" in winning_plan(plan)
    plan = await mongo_db["users"].find({"role": "admin"}).sort("_id", 1).explain()
    assert "COLLSCAN" not in winning_plan(plan)


async def test_listing_a_users_files_uses_an_index(stores, mongo_db):
    plan = (
        await mongo_db["files"]
        .find({"owner_id": "u1", "purpose": "avatar"})
        .sort("_id", -1)
        .explain()
    )
    assert "COLLSCAN" not in winning_plan(plan)


@pytest.fixture
async def event_stores(mongo_db):
    made = EventStores(
        events=MongoEventLog(mongo_db),
        webhooks=MongoWebhookRepository(mongo_db),
        deliveries=MongoDeliveryRepository(mongo_db),
        jobs=MongoJobRepository(mongo_db),
    )
    for store in (made.events, made.webhooks, made.deliveries, made.jobs):
        await store.ensure_indexes()
    return made


class TestEventLog(EventLogContract):
    pass


class TestWebhooks(WebhookRepositoryContract):
    pass


class TestDeliveries(DeliveryRepositoryContract):
    pass


class TestJobs(JobRepositoryContract):
    pass


async def test_the_worker_queries_use_indexes(event_stores, mongo_db):
    now = datetime(2026, 1, 31, tzinfo=UTC)
    queries = [
        ("events", {"status": "ready", "fanned": False}, [("_id", 1)]),
        ("events", {"status": "ready", "type": "user.created"}, [("_id", -1)]),
        ("events", {"status": "prepared", "prepared_at": {"$gte": now, "$lt": now}}, []),
        ("deliveries", {"status": "pending", "next_attempt_at": {"$lte": now}}, []),
        ("deliveries", {"endpoint_id": "wh_1"}, [("_id", -1)]),
        ("jobs", {"waiting": True, "due_at": {"$lte": now}}, []),
    ]
    for collection, where, order in queries:
        cursor = mongo_db[collection].find(where)
        if order:
            cursor = cursor.sort(order)
        assert "COLLSCAN" not in winning_plan(await cursor.explain()), (collection, where)


class TestCachedWebhooks(WebhookRepositoryContract):
    @pytest.fixture
    async def event_stores(self, event_stores, mongo_db):
        feed = MongoChangeFeed(mongo_db, FOLLOWED)
        await feed.start()
        assert feed.live
        event_stores.webhooks = CachedWebhookRepository(event_stores.webhooks, feed)
        yield event_stores
        await feed.stop()


class TestIdempotency(IdempotencyStoreContract):
    @pytest.fixture
    async def idempotency(self, mongo_db):
        store = MongoIdempotencyStore(mongo_db, running_lease_s=60)
        await store.ensure_indexes()
        return store


class TestRateCounter(RateCounterContract):
    @pytest.fixture
    async def rate_counter(self, mongo_db):
        counter = MongoRateCounter(mongo_db)
        await counter.ensure_indexes()
        return counter


class TestAuditLog(AuditLogContract):
    @pytest.fixture
    async def audit_log(self, mongo_db):
        log = MongoAuditLog(mongo_db)
        await log.ensure_indexes()
        return log

    async def test_each_filter_reads_by_an_index(self, audit_log, mongo_db):
        for field in ("actor_id", "target_id", "action"):
            plan = await mongo_db.command(
                "explain",
                {"find": "audit", "filter": {field: "x"}, "sort": {"_id": -1}, "limit": 5},
            )
            assert "COLLSCAN" not in str(plan), (field, plan)
