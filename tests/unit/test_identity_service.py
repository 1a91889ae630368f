"""Identity use cases on in-memory adapters and a manual clock: sessions, passwords, admin."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dependency_injector import providers

from ocp.adapters.memory.identity import InMemoryUserRepository
from ocp.adapters.security.passwords import BcryptPasswordHasher
from ocp.application.identity import IdentityPolicy
from ocp.domain.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidOneTimeToken,
    PermissionDenied,
    RuleViolated,
    StaleVersion,
    TooManyAttempts,
)
from ocp.domain.users import Email, ProfileChanges, Role, User
from tests.builders import PASSWORD, use_cases


class UsersEditedMeanwhile(InMemoryUserRepository):
    """The in-memory store, where a test can make the next read be followed at once by
    someone else's profile edit: the reader then holds a version that is no longer current."""

    def __init__(self) -> None:
        super().__init__()
        self.edit_after_next_read = False

    async def get(self, user_id: str) -> User | None:
        user = await super().get(user_id)
        if self.edit_after_next_read and user is not None:
            self.edit_after_next_read = False
            meanwhile = await super().get(user_id)
            assert meanwhile is not None
            meanwhile.edit_profile(datetime.now(UTC), ProfileChanges(bio="edited meanwhile"))
            await self.update(meanwhile, user.version)
        return user


@pytest.fixture
def users():
    return UsersEditedMeanwhile()


@pytest.fixture
def policy():
    return IdentityPolicy(refresh_ttl_s=3600)


@pytest.fixture
def app(tmp_path, users, policy):
    """The identity use cases as the composition root wires them, on the in-memory stores
    (users edited meanwhile on request), a manual clock and this policy."""
    made = use_cases(
        tmp_path,
        login_max_failures=3,
        login_window_s=600,
        access_token_ttl_s=900,
        refresh_token_ttl_s=policy.refresh_ttl_s,
        refresh_reuse_grace_s=policy.refresh_reuse_grace_s,
    )
    made.container.users.override(providers.Object(users))
    return made


@pytest.fixture
def clock(app):
    return app.clock


@pytest.fixture
def mailer(app):
    return app.container.mailer()


def token_in(mail) -> str:
    return mail.text.split("Your token:\n\n  ")[1].split("\n")[0]


async def test_registration_makes_a_student_and_the_email_is_unique_ignoring_case(app):
    user = await app.profiles.register("Ada@Example.com", PASSWORD, "  Ada   Lovelace ")
    assert user.role is Role.STUDENT and user.full_name == "Ada Lovelace"
    with pytest.raises(Conflict):
        await app.profiles.register("ada@EXAMPLE.com", PASSWORD, "Impostor")


@pytest.mark.parametrize("password", ["short", " " * 12, "x" * 129])
async def test_passwords_outside_the_policy_are_refused(app, password):
    with pytest.raises(RuleViolated):
        await app.profiles.register("a@example.com", password, "A")


async def test_long_passwords_count_in_full(app):
    base = "p" * 80
    await app.profiles.register("long@example.com", base + "A", "Long")
    await app.sessions.login("long@example.com", base + "A")
    with pytest.raises(AuthenticationFailed):
        await app.sessions.login("long@example.com", base + "B")


async def test_login_is_case_insensitive_and_wrong_or_unknown_answer_alike(app):
    await app.profiles.register("bob@example.com", PASSWORD, "Bob")
    pair = await app.sessions.login("BOB@example.com", PASSWORD)
    user, _ = await app.sessions.authenticate(pair.access_token)
    assert user.email.key == "bob@example.com"
    with pytest.raises(AuthenticationFailed) as wrong:
        await app.sessions.login("bob@example.com", "not the password")
    with pytest.raises(AuthenticationFailed) as unknown:
        await app.sessions.login("nobody@example.com", "not the password")
    assert wrong.value.detail == unknown.value.detail


async def test_repeated_failures_throttle_even_the_right_password_until_the_window_passes(
    app, clock
):
    await app.profiles.register("eve@example.com", PASSWORD, "Eve")
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            await app.sessions.login("eve@example.com", "guess guess")
    with pytest.raises(TooManyAttempts) as throttled:
        await app.sessions.login("eve@example.com", PASSWORD)
    assert 0 < throttled.value.retry_after_s <= 600
    clock.advance(601)
    await app.sessions.login("eve@example.com", PASSWORD)


async def test_refresh_rotates_and_a_replayed_token_ends_the_session(app, clock):
    await app.profiles.register("r@example.com", PASSWORD, "R")
    first = await app.sessions.login("r@example.com", PASSWORD)
    second = await app.sessions.refresh(first.refresh_token)
    clock.advance(11)  # past the grace of two tabs refreshing at once
    with pytest.raises(AuthenticationFailed):
        await app.sessions.refresh(first.refresh_token)  # replay: the thief's or the victim's
    with pytest.raises(AuthenticationFailed):
        await app.sessions.refresh(second.refresh_token)  # the whole family is revoked
    with pytest.raises(AuthenticationFailed):
        await app.sessions.authenticate(second.access_token)


async def test_two_tabs_refreshing_at_once_share_one_successor(app, clock):
    await app.profiles.register("tabs@example.com", PASSWORD, "T")
    first = await app.sessions.login("tabs@example.com", PASSWORD)
    tab_a = await app.sessions.refresh(first.refresh_token)
    clock.advance(9)
    tab_b = await app.sessions.refresh(first.refresh_token)  # within the 10 s grace
    assert tab_b.refresh_token == tab_a.refresh_token
    await app.sessions.authenticate(tab_b.access_token)
    third = await app.sessions.refresh(tab_b.refresh_token)  # the session goes on
    await app.sessions.authenticate(third.access_token)
    clock.advance(2)  # 11 s after the first spend: a replay now ends the session
    with pytest.raises(AuthenticationFailed):
        await app.sessions.refresh(first.refresh_token)
    with pytest.raises(AuthenticationFailed):
        await app.sessions.authenticate(third.access_token)


@pytest.mark.parametrize(
    ("policy", "replay_after_s", "kept"),
    [
        (IdentityPolicy(refresh_reuse_grace_s=10), 9.999, True),
        (IdentityPolicy(refresh_reuse_grace_s=10), 10, False),
        (IdentityPolicy(refresh_reuse_grace_s=0), 0, False),
    ],
    ids=["just inside", "at the end", "no grace, same instant"],
)
async def test_the_reuse_grace_ends_when_it_says(app, clock, replay_after_s, kept):
    await app.profiles.register("edge@example.com", PASSWORD, "E")
    first = await app.sessions.login("edge@example.com", PASSWORD)
    rotated = await app.sessions.refresh(first.refresh_token)
    clock.advance(replay_after_s)
    if kept:
        assert (
            await app.sessions.refresh(first.refresh_token)
        ).refresh_token == rotated.refresh_token
    else:
        with pytest.raises(AuthenticationFailed):
            await app.sessions.refresh(first.refresh_token)
        with pytest.raises(AuthenticationFailed):
            await app.sessions.authenticate(rotated.access_token)  # the session is over


async def test_refresh_tokens_expire(app, clock):
    await app.profiles.register("x@example.com", PASSWORD, "X")
    pair = await app.sessions.login("x@example.com", PASSWORD)
    clock.advance(3601)
    with pytest.raises(AuthenticationFailed):
        await app.sessions.refresh(pair.refresh_token)


async def test_logout_ends_only_that_session(app):
    await app.profiles.register("l@example.com", PASSWORD, "L")
    phone = await app.sessions.login("l@example.com", PASSWORD)
    laptop = await app.sessions.login("l@example.com", PASSWORD)
    user, _ = await app.sessions.authenticate(phone.access_token)
    await app.sessions.logout(user, phone.refresh_token)
    with pytest.raises(AuthenticationFailed):
        await app.sessions.refresh(phone.refresh_token)
    with pytest.raises(AuthenticationFailed):
        await app.sessions.authenticate(phone.access_token)
    await app.sessions.authenticate(laptop.access_token)
    await app.sessions.refresh(laptop.refresh_token)


async def test_changing_the_password_ends_the_other_sessions(app):
    await app.profiles.register("c@example.com", PASSWORD, "C")
    here = await app.sessions.login("c@example.com", PASSWORD)
    there = await app.sessions.login("c@example.com", PASSWORD)
    user, session = await app.sessions.authenticate(here.access_token)
    with pytest.raises(RuleViolated):
        await app.passwords.change_password(user, session, "wrong current", "brand new secret")
    await app.passwords.change_password(user, session, PASSWORD, "brand new secret")
    await app.sessions.authenticate(here.access_token)
    await app.sessions.refresh(here.refresh_token)
    with pytest.raises(AuthenticationFailed):
        await app.sessions.refresh(there.refresh_token)
    with pytest.raises(AuthenticationFailed):
        await app.sessions.login("c@example.com", PASSWORD)
    await app.sessions.login("c@example.com", "brand new secret")


async def test_a_password_change_survives_a_concurrent_profile_edit(app, users):
    await app.profiles.register("race@example.com", PASSWORD, "Race")
    pair = await app.sessions.login("race@example.com", PASSWORD)
    users.edit_after_next_read = True
    user, session = await app.sessions.authenticate(pair.access_token)
    await app.passwords.change_password(user, session, PASSWORD, "brand new secret")
    await app.sessions.login("race@example.com", "brand new secret")
    me, _ = await app.sessions.authenticate(pair.access_token)
    assert me.bio == "edited meanwhile"


async def test_password_reset_by_mail_works_once_and_ends_every_session(app, mailer):
    await app.profiles.register("p@example.com", PASSWORD, "P")
    session = await app.sessions.login("p@example.com", PASSWORD)
    await app.passwords.request_password_reset("P@example.com")
    await app.passwords.request_password_reset("unknown@example.com")  # quiet, no mail
    await app.work_off()
    assert [m.to for m in mailer.sent] == ["p@example.com"]
    token = token_in(mailer.sent[0])
    await app.passwords.confirm_password_reset(token, "a fresh password")
    with pytest.raises(InvalidOneTimeToken):
        await app.passwords.confirm_password_reset(token, "another password")
    with pytest.raises(AuthenticationFailed):
        await app.sessions.authenticate(session.access_token)
    with pytest.raises(AuthenticationFailed):
        await app.sessions.refresh(session.refresh_token)
    await app.sessions.login("p@example.com", "a fresh password")


async def test_a_newer_reset_mail_voids_the_older_one_and_tokens_expire(app, mailer, clock):
    await app.profiles.register("q@example.com", PASSWORD, "Q")
    await app.passwords.request_password_reset("q@example.com")
    await app.passwords.request_password_reset("q@example.com")
    await app.work_off()
    older, newer = token_in(mailer.sent[0]), token_in(mailer.sent[1])
    with pytest.raises(InvalidOneTimeToken):
        await app.passwords.confirm_password_reset(older, "a fresh password")
    clock.advance(3601)
    with pytest.raises(InvalidOneTimeToken):
        await app.passwords.confirm_password_reset(newer, "a fresh password")


async def test_email_verification(app, mailer):
    user = await app.profiles.register("v@example.com", PASSWORD, "V")
    await app.passwords.request_email_verification(user)
    await app.work_off()
    await app.passwords.confirm_email_verification(token_in(mailer.sent[-1]))
    pair = await app.sessions.login("v@example.com", PASSWORD)
    me, _ = await app.sessions.authenticate(pair.access_token)
    assert me.email_verified
    with pytest.raises(InvalidOneTimeToken):
        await app.passwords.confirm_email_verification(token_in(mailer.sent[-1]))


async def test_an_address_stored_before_the_email_rules_never_reaches_a_mail_header(
    app, users, mailer
):
    stored = "nul\x00@example.com"  # accepted before the RFC 5321/6531 rules
    legacy = User.register(
        id="legacy",
        email=Email.as_stored(stored, stored),
        name="Legacy",
        password_hash=await BcryptPasswordHasher(rounds=4).hash(PASSWORD),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    await users.add(legacy)
    pair = await app.sessions.login(stored, PASSWORD)  # the account still works as it did
    me, _ = await app.sessions.authenticate(pair.access_token)
    await app.passwords.request_email_verification(me)
    await app.work_off()
    assert mailer.sent == []


async def test_spent_one_time_tokens_survive_a_concurrent_profile_edit(app, mailer, users):
    user = await app.profiles.register("w@example.com", PASSWORD, "W")
    await app.passwords.request_email_verification(user)
    await app.work_off()
    users.edit_after_next_read = True
    await app.passwords.confirm_email_verification(token_in(mailer.sent[-1]))
    await app.passwords.request_password_reset("w@example.com")
    await app.work_off()
    users.edit_after_next_read = True
    await app.passwords.confirm_password_reset(token_in(mailer.sent[-1]), "a fresh password")
    pair = await app.sessions.login("w@example.com", "a fresh password")
    me, _ = await app.sessions.authenticate(pair.access_token)
    assert me.email_verified and me.bio == "edited meanwhile"


async def test_profile_edits_honour_the_version_read(app):
    user = await app.profiles.register("e@example.com", PASSWORD, "E")
    edited = await app.profiles.update_profile(user, ProfileChanges(bio="Hello"), if_match=1)
    assert edited.bio == "Hello" and edited.version == 2
    with pytest.raises(StaleVersion):
        await app.profiles.update_profile(edited, ProfileChanges(bio="Again"), if_match=1)


async def test_an_avatar_must_be_an_uploaded_avatar_file(app):
    user = await app.profiles.register("f@example.com", PASSWORD, "F")
    with pytest.raises(RuleViolated):
        await app.profiles.update_profile(user, ProfileChanges(avatar_file_id="not-a-file"))


async def test_only_admins_administer_and_deactivation_is_immediate(app):
    admin = await app.profiles.register("admin@example.com", PASSWORD, "Admin", role=Role.ADMIN)
    student = await app.profiles.register("s@example.com", PASSWORD, "S")
    pair = await app.sessions.login("s@example.com", PASSWORD)
    with pytest.raises(PermissionDenied):
        await app.admin.administer_user(student, admin.id, is_active=False)
    with pytest.raises(PermissionDenied):
        await app.admin.list_users(student)
    await app.admin.administer_user(admin, student.id, is_active=False)
    with pytest.raises(AuthenticationFailed):
        await app.sessions.authenticate(pair.access_token)
    with pytest.raises(AuthenticationFailed):
        await app.sessions.refresh(pair.refresh_token)
    with pytest.raises(AuthenticationFailed):
        await app.sessions.login("s@example.com", PASSWORD)
    with pytest.raises(RuleViolated):
        await app.admin.administer_user(admin, admin.id, role=Role.STUDENT)


async def test_a_promoted_instructor_keeps_working(app):
    admin = await app.profiles.register("a2@example.com", PASSWORD, "Admin", role=Role.ADMIN)
    user = await app.profiles.register("t@example.com", PASSWORD, "T")
    pair = await app.sessions.login("t@example.com", PASSWORD)
    promoted = await app.admin.administer_user(admin, user.id, role=Role.INSTRUCTOR)
    assert promoted.role is Role.INSTRUCTOR
    me, _ = await app.sessions.authenticate(pair.access_token)
    assert me.role is Role.INSTRUCTOR
    await app.sessions.refresh(pair.refresh_token)


async def test_bootstrap_admin_is_made_only_when_none_exists(app):
    assert await app.admin.ensure_admin("root@example.com", PASSWORD)
    assert not await app.admin.ensure_admin("other@example.com", PASSWORD)


async def test_listing_users_pages_with_a_cursor(app):
    admin = await app.profiles.register("boss@example.com", PASSWORD, "Boss", role=Role.ADMIN)
    for n in range(5):
        await app.profiles.register(f"member{n}@example.com", PASSWORD, f"Member {n}")
    seen, cursor = [], None
    while True:
        page = await app.admin.list_users(admin, limit=2, cursor=cursor)
        seen += [u.email.key for u in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == 6 and len(set(seen)) == 6
    found = await app.admin.list_users(admin, query="MEMBER3")
    assert [u.email.key for u in found.items] == ["member3@example.com"]


async def test_access_tokens_expire_by_the_clock(app, clock):
    await app.profiles.register("ttl@example.com", PASSWORD, "T")
    pair = await app.sessions.login("ttl@example.com", PASSWORD)
    clock.advance(899)
    await app.sessions.authenticate(pair.access_token)
    clock.advance(10)
    with pytest.raises(AuthenticationFailed):
        await app.sessions.authenticate(pair.access_token)
