"""Every collection contract on the in-memory stores (MongoDB runs the same ones in
`tests/integration/test_mongo_store_contracts.py`)."""

from __future__ import annotations

import pytest

from ocp.adapters.cache import LocalFeed, cached_stores
from ocp.adapters.cache.webhooks import CachedWebhookRepository
from ocp.adapters.memory import memory_stores
from ocp.adapters.memory.audit import InMemoryAuditLog
from ocp.adapters.memory.events import (
    InMemoryDeliveryRepository,
    InMemoryEventLog,
    InMemoryJobRepository,
    InMemoryWebhookRepository,
)
from ocp.adapters.memory.idempotency import InMemoryIdempotencyStore
from ocp.adapters.memory.limits import InMemoryRateCounter
from tests.contracts import THROTTLE_MAX_FAILURES, THROTTLE_WINDOW_S
from tests.contracts.audit import AuditLogContract
from tests.contracts.courses import CourseRepositoryContract, LessonRepositoryContract
from tests.contracts.events import (
    DeliveryRepositoryContract,
    EventLogContract,
    EventStores,
    JobRepositoryContract,
    WebhookRepositoryContract,
    an_endpoint,
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
def stores():
    return memory_stores(login_max_failures=THROTTLE_MAX_FAILURES, login_window_s=THROTTLE_WINDOW_S)


class TestUsers(UserRepositoryContract):
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


# The same contracts through the caches (ocp/adapters/cache) of the collections they front:
# a cache must not change what any call answers.


class CachedStores:
    @pytest.fixture
    def stores(self, stores):
        return cached_stores(stores, LocalFeed())


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


@pytest.fixture
def event_stores():
    return EventStores(
        events=InMemoryEventLog(),
        webhooks=InMemoryWebhookRepository(),
        deliveries=InMemoryDeliveryRepository(),
        jobs=InMemoryJobRepository(),
    )


class TestEventLog(EventLogContract):
    pass


class TestWebhooks(WebhookRepositoryContract):
    pass


class TestDeliveries(DeliveryRepositoryContract):
    pass


class TestJobs(JobRepositoryContract):
    pass


class TestCachedWebhooks(WebhookRepositoryContract):
    @pytest.fixture
    def event_stores(self):
        feed = LocalFeed()
        return EventStores(
            events=InMemoryEventLog(),
            webhooks=CachedWebhookRepository(InMemoryWebhookRepository(), feed),
            deliveries=InMemoryDeliveryRepository(),
            jobs=InMemoryJobRepository(),
        )


async def test_cached_subscriptions_are_read_once_and_forgotten_on_any_change():
    class Counting(InMemoryWebhookRepository):
        reads = 0

        async def subscribed(self, event_type):
            Counting.reads += 1
            return await super().subscribed(event_type)

    feed = LocalFeed()
    await feed.start()
    store = Counting()
    cached = CachedWebhookRepository(store, feed)
    await cached.add(an_endpoint(["user.created"]))
    assert len(await cached.subscribed("user.created")) == 1
    assert len(await cached.subscribed("user.created")) == 1
    assert Counting.reads == 1
    await store.add(an_endpoint(["user.created"]))  # written by another process...
    feed.changed("webhooks", "elsewhere")  # ...and announced by the feed
    assert len(await cached.subscribed("user.created")) == 2
    assert Counting.reads == 2


class TestIdempotency(IdempotencyStoreContract):
    @pytest.fixture
    def idempotency(self):
        return InMemoryIdempotencyStore(running_lease_s=60)


class TestRateCounter(RateCounterContract):
    @pytest.fixture
    def rate_counter(self):
        return InMemoryRateCounter()


class TestAuditLog(AuditLogContract):
    @pytest.fixture
    def audit_log(self):
        return InMemoryAuditLog()
