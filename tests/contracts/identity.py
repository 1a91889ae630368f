"""Contracts of the identity ports, written once and run against every adapter.

A subclass provides the fixtures (`users`, `refresh_tokens`, `one_time_tokens`, `throttle`)
for one technology; pytest collects only the subclasses (their names start with `Test`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocp.application.ports.identity import OneTimePurpose, RefreshToken, SpendResult
from ocp.domain.errors import Conflict, NotFound, StaleVersion
from ocp.domain.users import Email, ProfileChanges, Role
from tests.builders import a_user
from tests.contracts import FromStores

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


class UserRepositoryContract(FromStores):
    async def test_a_stored_user_reads_back_equal(self, users):
        user = a_user(Role.INSTRUCTOR)
        await users.add(user)
        assert await users.get(user.id) == user
        assert await users.get_by_email(user.email.key) == user

    async def test_email_is_unique_whatever_its_case(self, users):
        await users.add(a_user(email="Ada@Example.com"))
        with pytest.raises(Conflict):
            await users.add(a_user(email="ada@example.COM"))

    async def test_update_with_the_read_version_succeeds_once(self, users):
        user = a_user()
        await users.add(user)
        first, second = await users.get(user.id), await users.get(user.id)
        first.edit_profile(NOW, ProfileChanges(full_name="First"))
        await users.update(first, expected_version=1)
        second.edit_profile(NOW, ProfileChanges(full_name="Second"))
        with pytest.raises(StaleVersion):
            await users.update(second, expected_version=1)
        assert (await users.get(user.id)).full_name == "First"

    async def test_updating_a_missing_user_is_not_found(self, users):
        with pytest.raises(NotFound):
            await users.update(a_user(), expected_version=1)

    async def test_list_pages_in_id_order_with_filters(self, users):
        made = [
            a_user(Role.INSTRUCTOR if i % 2 else Role.STUDENT, id=f"u{i:03d}") for i in range(7)
        ]
        for user in made:
            await users.add(user)
        page = await users.list_after(role=None, query=None, after_id=None, limit=3)
        assert [u.id for u in page] == ["u000", "u001", "u002"]
        page = await users.list_after(role=None, query=None, after_id="u002", limit=10)
        assert [u.id for u in page] == ["u003", "u004", "u005", "u006"]
        teachers = await users.list_after(role=Role.INSTRUCTOR, query=None, after_id=None, limit=10)
        assert [u.id for u in teachers] == ["u001", "u003", "u005"]

    async def test_list_query_is_a_literal_case_insensitive_substring(self, users):
        await users.add(a_user(email="grace.hopper@navy.mil", name="Grace Hopper", id="g1"))
        await users.add(a_user(email="alan@turing.org", name="Alan (AT) Turing", id="a1"))
        found = await users.list_after(role=None, query="hopper", after_id=None, limit=10)
        assert [u.id for u in found] == ["g1"]
        found = await users.list_after(role=None, query="(at)", after_id=None, limit=10)
        assert [u.id for u in found] == ["a1"]
        assert await users.list_after(role=None, query=".*", after_id=None, limit=10) == []

    async def test_has_admin_and_get_many(self, users):
        assert not await users.has_admin()
        admin, other = a_user(Role.ADMIN), a_user()
        await users.add(admin)
        await users.add(other)
        assert await users.has_admin()
        found = await users.get_many([other.id, "nobody", admin.id, other.id])
        assert sorted(u.id for u in found) == sorted([admin.id, other.id])

    async def test_a_changed_email_is_found_by_it_and_must_be_free(self, users):
        first, second = a_user(email="one@example.com"), a_user(email="two@example.com")
        await users.add(first)
        await users.add(second)
        first.change_email(Email("One.New@Example.com"), NOW)
        await users.update(first, first.version - 1)
        assert (await users.get_by_email("one.new@example.com")).id == first.id
        assert await users.get_by_email("one@example.com") is None
        second.change_email(Email("one.new@example.com"), NOW)
        with pytest.raises(Conflict):
            await users.update(second, second.version - 1)
        assert (await users.get(second.id)).email.value == "two@example.com"

    async def test_get_many_by_email_finds_the_known_ones_in_any_number(self, users):
        made = [a_user(email=f"Bulk{n}@Example.com") for n in range(1205)]
        for user in made:
            await users.add(user)
        keys = [u.email.key for u in made] + ["nobody@example.com", made[0].email.key]
        found = await users.get_many_by_email(keys)
        assert sorted(u.id for u in found) == sorted(u.id for u in made)


def _token(token_hash: str, family: str = "fam1", user: str = "u1", ttl_s: int = 3600):
    return RefreshToken(token_hash, family, user, NOW, NOW + timedelta(seconds=ttl_s))


class RefreshTokenStoreContract(FromStores):
    async def test_a_live_token_is_spent_once(self, refresh_tokens):
        await refresh_tokens.add(_token("t1"))
        outcome, token = await refresh_tokens.spend("t1", NOW)
        assert outcome is SpendResult.SPENT and token.family_id == "fam1"

    async def test_a_spent_token_presented_again_says_when_it_was_spent(self, refresh_tokens):
        await refresh_tokens.add(_token("t1"))
        await refresh_tokens.spend("t1", NOW)
        outcome, token = await refresh_tokens.spend("t1", NOW + timedelta(seconds=3))
        assert outcome is SpendResult.ALREADY_SPENT
        assert token.family_id == "fam1" and token.spent_at == NOW
        assert await refresh_tokens.is_family_live("fam1")  # the use case decides, not the store

    async def test_a_token_of_a_revoked_family_is_invalid_spent_or_not(self, refresh_tokens):
        await refresh_tokens.add(_token("t1"))
        await refresh_tokens.spend("t1", NOW)
        await refresh_tokens.add(_token("t2"))  # the rotated successor
        await refresh_tokens.revoke_family("fam1")
        assert (await refresh_tokens.spend("t1", NOW))[0] is SpendResult.INVALID
        assert (await refresh_tokens.spend("t2", NOW))[0] is SpendResult.INVALID

    async def test_unknown_and_expired_tokens_are_invalid(self, refresh_tokens):
        await refresh_tokens.add(_token("old", ttl_s=60))
        assert (await refresh_tokens.spend("nope", NOW))[0] is SpendResult.INVALID
        later = NOW + timedelta(seconds=61)
        assert (await refresh_tokens.spend("old", later))[0] is SpendResult.INVALID

    async def test_a_family_is_live_only_for_its_own_user(self, refresh_tokens):
        await refresh_tokens.add(_token("t1", family="fam1", user="u1"))
        assert await refresh_tokens.is_family_live("fam1", of_user="u1")
        assert not await refresh_tokens.is_family_live("fam1", of_user="u2")

    async def test_revoke_user_spares_the_named_family(self, refresh_tokens):
        await refresh_tokens.add(_token("a", family="keep"))
        await refresh_tokens.add(_token("b", family="drop"))
        await refresh_tokens.add(_token("c", family="someone-else", user="u2"))
        await refresh_tokens.revoke_user("u1", except_family="keep")
        assert await refresh_tokens.is_family_live("keep")
        assert not await refresh_tokens.is_family_live("drop")
        assert await refresh_tokens.is_family_live("someone-else")
        assert await refresh_tokens.find("b") is None
        assert (await refresh_tokens.find("a")).user_id == "u1"

    async def test_sessions_of_a_user_are_the_live_ones_most_recently_used_first(
        self, refresh_tokens
    ):
        def token(hash_: str, family: str, at: int, user: str = "u1", agent: str | None = None):
            issued = NOW + timedelta(minutes=at)
            return RefreshToken(
                hash_, family, user, issued, issued + timedelta(hours=1), None, agent
            )

        await refresh_tokens.add(token("a1", "phone", 0, agent="Phone/1"))
        await refresh_tokens.add(token("b1", "laptop", 5, agent="Laptop/2"))
        await refresh_tokens.add(token("a2", "phone", 10, agent="Other/3"))  # a refresh
        await refresh_tokens.add(token("c1", "ended", 1))
        await refresh_tokens.add(token("d1", "theirs", 2, user="u2"))
        await refresh_tokens.revoke_family("ended")
        found = await refresh_tokens.sessions_of("u1", NOW + timedelta(minutes=11))
        assert [(s.id, s.user_agent) for s in found] == [
            ("phone", "Phone/1"),  # the login's agent, its latest use
            ("laptop", "Laptop/2"),
        ]
        assert found[0].created_at == NOW and found[0].last_used_at == NOW + timedelta(minutes=10)
        later = NOW + timedelta(minutes=66)  # the laptop's last token has expired
        assert [s.id for s in await refresh_tokens.sessions_of("u1", later)] == ["phone"]

    async def test_a_revoked_family_stays_revoked_when_a_token_is_added(self, refresh_tokens):
        await refresh_tokens.add(_token("a"))
        await refresh_tokens.revoke_family("fam1")
        await refresh_tokens.add(_token("b"))
        assert not await refresh_tokens.is_family_live("fam1")


class OneTimeTokenStoreContract(FromStores):
    async def test_a_token_is_consumed_once(self, one_time_tokens):
        purpose = OneTimePurpose.PASSWORD_RESET
        await one_time_tokens.add(purpose, "h1", "u1", NOW + timedelta(hours=1))
        assert (await one_time_tokens.consume(purpose, "h1", NOW)).user_id == "u1"
        assert await one_time_tokens.consume(purpose, "h1", NOW) is None

    async def test_a_token_carries_its_payload(self, one_time_tokens):
        purpose = OneTimePurpose.EMAIL_CHANGE
        await one_time_tokens.add(
            purpose, "h1", "u1", NOW + timedelta(hours=1), {"new_email": "n@example.com"}
        )
        grant = await one_time_tokens.consume(purpose, "h1", NOW)
        assert grant.user_id == "u1" and grant.payload == {"new_email": "n@example.com"}

    async def test_expired_or_other_purpose_tokens_do_not_work(self, one_time_tokens):
        await one_time_tokens.add(
            OneTimePurpose.PASSWORD_RESET, "h1", "u1", NOW + timedelta(hours=1)
        )
        assert await one_time_tokens.consume(OneTimePurpose.EMAIL_VERIFICATION, "h1", NOW) is None
        later = NOW + timedelta(hours=2)
        assert await one_time_tokens.consume(OneTimePurpose.PASSWORD_RESET, "h1", later) is None

    async def test_discard_user_forgets_only_that_users_tokens(self, one_time_tokens):
        purpose = OneTimePurpose.EMAIL_VERIFICATION
        await one_time_tokens.add(purpose, "h1", "u1", NOW + timedelta(hours=1))
        await one_time_tokens.add(purpose, "h2", "u2", NOW + timedelta(hours=1))
        await one_time_tokens.discard_user(purpose, "u1")
        assert await one_time_tokens.consume(purpose, "h1", NOW) is None
        assert (await one_time_tokens.consume(purpose, "h2", NOW)).user_id == "u2"

    async def test_discard_user_of_every_purpose_at_once(self, one_time_tokens):
        later = NOW + timedelta(hours=1)
        for purpose in OneTimePurpose:
            await one_time_tokens.add(purpose, f"h-{purpose.value}", "u1", later)
        await one_time_tokens.add(OneTimePurpose.PASSWORD_RESET, "theirs", "u2", later)
        await one_time_tokens.discard_user(None, "u1")
        for purpose in OneTimePurpose:
            assert await one_time_tokens.consume(purpose, f"h-{purpose.value}", NOW) is None
        assert await one_time_tokens.consume(OneTimePurpose.PASSWORD_RESET, "theirs", NOW)


class LoginThrottleContract(FromStores):
    """Fixture `throttle` allows 3 failures within 60 seconds."""

    async def test_the_limit_blocks_until_the_oldest_failure_leaves_the_window(self, throttle):
        for second in (0, 10, 20):
            assert await throttle.retry_after("k", NOW + timedelta(seconds=second)) is None
            await throttle.record_failure("k", NOW + timedelta(seconds=second))
        assert await throttle.retry_after("k", NOW + timedelta(seconds=30)) == 30
        assert await throttle.retry_after("other", NOW + timedelta(seconds=30)) is None
        assert await throttle.retry_after("k", NOW + timedelta(seconds=61)) is None

    async def test_clear_forgets_failures(self, throttle):
        for _ in range(3):
            await throttle.record_failure("k", NOW)
        await throttle.clear("k")
        assert await throttle.retry_after("k", NOW) is None
