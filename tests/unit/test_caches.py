"""The caches in front of the stores (ocp/adapters/cache): what they answer from memory, what
makes them forget, and that they never answer what the store would not."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ocp.adapters.cache import CacheSizes, LocalFeed, cached_stores
from ocp.adapters.cache.feed import ChangeFeed
from ocp.adapters.memory import memory_stores
from ocp.application.ports.identity import RefreshToken
from ocp.domain.courses import CatalogQuery, CatalogSort, Course, CourseStatus
from ocp.domain.users import Email, Role, User

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


class Counted:
    """The store underneath, counting the calls that reach it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return await attribute(*args, **kwargs)

        return call


class Switch(ChangeFeed):
    """A feed a test turns on and off (a change stream that breaks and comes back)."""

    def __init__(self) -> None:
        super().__init__()
        self.on = True

    @property
    def live(self) -> bool:
        return self.on


def a_user(user_id: str = "u1", **changes: Any) -> User:
    user = User(
        id=user_id,
        email=Email(f"{user_id}@example.com"),
        full_name="Ada",
        password_hash="x",
        role=Role.STUDENT,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(user, **changes)


def a_course(course_id: str = "c1", slug: str = "course-1") -> Course:
    teacher = a_user("t1", role=Role.INSTRUCTOR)
    course = Course.create(id=course_id, owner=teacher, title_text=f"Course {course_id}", now=NOW)
    return replace(course, slug=slug)


@pytest.fixture
def raw():
    stores = memory_stores(login_max_failures=5, login_window_s=60)
    return replace(
        stores,
        users=Counted(stores.users),
        refresh_tokens=Counted(stores.refresh_tokens),
        courses=Counted(stores.courses),
    )


@pytest.fixture
def feed():
    return Switch()


@pytest.fixture
def cached(raw, feed):
    return cached_stores(raw, feed, CacheSizes(users=2, sessions=10, courses=10, catalog_pages=10))


async def test_a_user_is_read_from_the_store_once_then_from_memory(raw, cached):
    await cached.users.add(a_user())
    for _ in range(3):
        assert (await cached.users.get("u1")).full_name == "Ada"
    assert raw.users.calls["get"] == 1


async def test_a_kept_user_cannot_be_changed_by_whoever_read_it(cached):
    await cached.users.add(a_user())
    first = await cached.users.get("u1")
    first.full_name = "Mallory"  # a use case editing its copy, then failing to save it
    assert (await cached.users.get("u1")).full_name == "Ada"


async def test_a_write_through_the_cache_is_seen_by_the_next_read(cached):
    await cached.users.add(a_user())
    user = await cached.users.get("u1")
    user.is_active = False
    await cached.users.update(replace(user, version=user.version + 1), user.version)
    assert (await cached.users.get("u1")).is_active is False


async def test_a_change_from_another_process_makes_the_cache_forget(raw, cached, feed):
    await cached.users.add(a_user())
    await cached.users.get("u1")
    stored = await raw.users.get("u1")  # another process writes, past this cache
    await raw.users.update(replace(stored, role=Role.ADMIN, version=2), 1)
    assert (await cached.users.get("u1")).role is Role.STUDENT  # not told yet: the bound
    feed.changed("users", "u1")  # the change stream brings the change
    assert (await cached.users.get("u1")).role is Role.ADMIN


async def read_racing_a_change(raw, cached, feed, changed: str) -> None:
    """Read u1 through the cache while a change of `changed` arrives, then read it again."""
    inner_get = raw.users._inner.get

    async def racing(user_id: str) -> User | None:
        found = await inner_get(user_id)
        feed.changed("users", changed)  # the change arrives while this read is under way
        return found

    raw.users._inner.get = racing
    await cached.users.get("u1")
    raw.users._inner.get = inner_get
    await cached.users.get("u1")


async def test_a_value_read_while_it_changed_is_not_kept(raw, cached, feed):
    await raw.users.add(a_user())
    await read_racing_a_change(raw, cached, feed, changed="u1")
    assert raw.users.calls["get"] == 2  # the first answer was not trusted


async def test_a_change_of_another_document_during_a_read_does_not_stop_it_being_kept(
    raw, cached, feed
):
    await raw.users.add(a_user())
    await read_racing_a_change(raw, cached, feed, changed="u2")
    assert raw.users.calls["get"] == 1


async def test_while_the_feed_is_down_every_read_goes_to_the_store_and_nothing_is_kept(
    raw, cached, feed
):
    await cached.users.add(a_user())
    await cached.users.get("u1")
    feed.on = False
    await cached.users.get("u1")
    await cached.users.get("u1")
    feed.on = True  # back: what was kept before the outage is gone
    await cached.users.get("u1")
    assert raw.users.calls["get"] == 4


async def test_a_reset_forgets_everything(raw, cached, feed):
    await cached.users.add(a_user())
    await cached.users.get("u1")
    feed.reset()
    await cached.users.get("u1")
    assert raw.users.calls["get"] == 2


async def test_the_user_cache_holds_at_most_its_size(raw, cached):
    for n in range(3):
        await cached.users.add(a_user(f"u{n}"))
        await cached.users.get(f"u{n}")
    await cached.users.get("u0")  # the oldest went out
    await cached.users.get("u2")
    assert raw.users.calls["get"] == 4


def a_session(family: str, user_id: str = "u1") -> RefreshToken:
    return RefreshToken(
        token_hash=f"h-{family}",
        family_id=family,
        user_id=user_id,
        issued_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )


async def test_a_live_session_is_answered_from_memory_until_it_is_revoked(raw, cached):
    await cached.refresh_tokens.add(a_session("f1"))
    for _ in range(3):
        assert await cached.refresh_tokens.is_family_live("f1", of_user="u1")
    assert raw.refresh_tokens.calls["is_family_live"] == 1
    await cached.refresh_tokens.revoke_family("f1")
    assert not await cached.refresh_tokens.is_family_live("f1", of_user="u1")


async def test_a_session_asked_for_another_user_is_not_answered_from_memory(cached):
    await cached.refresh_tokens.add(a_session("f1"))
    assert await cached.refresh_tokens.is_family_live("f1", of_user="u1")
    assert not await cached.refresh_tokens.is_family_live("f1", of_user="u2")


async def test_revoking_every_session_of_a_user_is_seen_at_once(cached):
    for family in ("f1", "f2", "f3"):
        await cached.refresh_tokens.add(a_session(family))
        assert await cached.refresh_tokens.is_family_live(family, of_user="u1")
    await cached.refresh_tokens.revoke_user("u1", except_family="f2")
    live = [await cached.refresh_tokens.is_family_live(f, of_user="u1") for f in ("f1", "f2", "f3")]
    assert live == [False, True, False]


async def test_a_session_revoked_by_another_process_is_refused_once_the_feed_says_so(
    raw, cached, feed
):
    await cached.refresh_tokens.add(a_session("f1"))
    assert await cached.refresh_tokens.is_family_live("f1", of_user="u1")
    await raw.refresh_tokens.revoke_family("f1")  # past this cache
    feed.changed("sessions", "f1")
    assert not await cached.refresh_tokens.is_family_live("f1", of_user="u1")


def published_query(**changes: Any) -> CatalogQuery:
    return replace(CatalogQuery(sort=CatalogSort.NEWEST, limit=20), **changes)


async def a_published(cached: Any, course_id: str, slug: str) -> Course:
    # Stored as published (the store's view; how a course gets there is the domain's business).
    course = replace(a_course(course_id, slug), status=CourseStatus.PUBLISHED, published_at=NOW)
    await cached.courses.add(course)
    return course


async def test_a_catalog_page_read_while_any_course_changed_is_not_kept(raw, cached, feed):
    await a_published(cached, "c1", "one")
    inner_search = raw.courses._inner.search

    async def racing(query: CatalogQuery) -> list:
        found = await inner_search(query)
        feed.changed("courses", "c2")  # another course: it may belong on this page
        return found

    raw.courses._inner.search = racing
    await cached.courses.search(published_query())
    raw.courses._inner.search = inner_search
    await cached.courses.search(published_query())
    assert raw.courses.calls["search"] == 2


async def test_a_catalog_page_is_kept_until_any_course_changes(raw, cached):
    await a_published(cached, "c1", "one")
    assert [r.course.id for r in await cached.courses.search(published_query())] == ["c1"]
    await cached.courses.search(published_query())
    assert raw.courses.calls["search"] == 1
    await a_published(cached, "c2", "two")  # a new course may belong on any page
    assert len(await cached.courses.search(published_query())) == 2
    await cached.courses.take_seats("c1", 1)  # a counter moves the popular order
    await cached.courses.search(published_query())
    assert raw.courses.calls["search"] == 3


async def test_someones_own_courses_are_never_answered_from_memory(raw, cached):
    await a_published(cached, "c1", "one")
    mine = published_query(staff_id="t1", status=None)
    await cached.courses.search(mine)
    await cached.courses.search(mine)
    assert raw.courses.calls["search"] == 2


async def test_a_course_is_found_by_slug_from_memory_and_a_moved_slug_is_not(raw, cached):
    course = await a_published(cached, "c1", "one")
    assert (await cached.courses.get_by_slug("one")).id == "c1"
    assert (await cached.courses.get_by_slug("one")).id == "c1"
    assert raw.courses.calls["get_by_slug"] == 1
    stored = await raw.courses.get("c1")
    stored.slug = "renamed"
    await raw.courses.update(replace(stored, version=course.version + 1), course.version)
    feed_told = cached.courses  # the feed has not told this process yet, and yet:
    raw.courses.calls.clear()
    assert await feed_told.get_by_slug("renamed") is not None
    assert raw.courses.calls["get_by_slug"] == 1
    assert await cached.courses.get_by_slug("nowhere") is None
    assert await cached.courses.get_by_slug("nowhere") is None
    assert raw.courses.calls["get_by_slug"] == 3  # an unknown slug is never kept


async def test_cards_come_from_kept_courses_and_the_store_for_the_rest(raw, cached):
    await a_published(cached, "c1", "one")
    await a_published(cached, "c2", "two")
    await cached.courses.get("c1")
    cards = await cached.courses.cards(["c1", "c2", "gone"])
    assert sorted(cards) == ["c1", "c2"]
    assert raw.courses.calls["cards"] == 1


async def test_local_feed_is_live_until_stopped():
    feed = LocalFeed()
    assert feed.live
    await feed.stop()
    assert not feed.live


async def test_the_echo_of_a_change_already_read_back_keeps_the_value(raw, cached, feed):
    await cached.users.add(a_user())
    await cached.users.get("u1")  # version 1 kept
    feed.changed("users", "u1", 1)  # the stream brings the change that made version 1
    await cached.users.get("u1")
    assert raw.users.calls["get"] == 1
    feed.changed("users", "u1", 2)  # a later change: the kept value is old
    await cached.users.get("u1")
    assert raw.users.calls["get"] == 2


async def test_a_course_of_the_announced_version_stays_kept(raw, cached, feed):
    course = await a_published(cached, "c1", "one")
    await cached.courses.get("c1")
    feed.changed("courses", "c1", course.version)
    await cached.courses.get("c1")
    assert raw.courses.calls["get"] == 1
    feed.changed("courses", "c1", course.version + 1)
    await cached.courses.get("c1")
    assert raw.courses.calls["get"] == 2


async def test_while_this_process_writes_a_user_nobody_reads_the_old_one_from_memory(raw, cached):
    """Between the store's answer and the writer forgetting the key, other requests run; a
    retrying writer that read the old version there would lose its optimistic write."""
    await cached.users.add(a_user())
    await cached.users.get("u1")
    inner_update = raw.users._inner.update
    seen_during: list[int] = []

    async def slow_update(user: User, expected_version: int) -> None:
        await inner_update(user, expected_version)
        seen_during.append((await cached.users.get("u1")).version)  # another request, meanwhile

    raw.users._inner.update = slow_update
    stored = await cached.users.get("u1")
    await cached.users.update(replace(stored, bio="new", version=2), 1)
    assert seen_during == [2]
    assert (await cached.users.get("u1")).version == 2


async def test_unknown_course_ids_are_not_kept(raw, cached):
    """Anyone may ask for made-up ids: kept, they would push the real courses out."""
    for n in range(30):  # three times the cache's size
        assert await cached.courses.get(f"nope{n}") is None
    await a_published(cached, "c1", "one")
    await cached.courses.get("c1")
    for n in range(30):
        await cached.courses.get(f"nope{n}")
    raw.courses.calls.clear()
    await cached.courses.get("c1")
    assert raw.courses.calls["get"] == 0


async def test_during_a_revocation_the_session_is_read_from_the_store(raw, cached):
    """Between the store's answer and the forgetting, other requests of this process run:
    they must not see the revoked session as live."""
    for family in ("f1", "f2"):
        await cached.refresh_tokens.add(a_session(family))
        assert await cached.refresh_tokens.is_family_live(family, of_user="u1")
    seen_during: list[bool] = []
    for revoke, inner_name, args in (
        (cached.refresh_tokens.revoke_family, "revoke_family", ("f1",)),
        (cached.refresh_tokens.revoke_user, "revoke_user", ("u1",)),
    ):
        inner = getattr(raw.refresh_tokens._inner, inner_name)

        async def slow(*a, inner=inner, **kw):
            await inner(*a, **kw)
            seen_during.append(
                await cached.refresh_tokens.is_family_live("f2", of_user="u1")
                if inner_name == "revoke_user"
                else await cached.refresh_tokens.is_family_live("f1", of_user="u1")
            )

        setattr(raw.refresh_tokens._inner, inner_name, slow)
        await revoke(*args)
    assert len(seen_during) >= 2 and not any(seen_during)
