"""Accounts on the use cases: which addresses are one mailbox, which are refused, who a
session belongs to, how an admin finds users, what a profile edit changes. (Sessions,
passwords and administration: `test_identity_service.py`.)"""

from __future__ import annotations

import jwt
import pytest

from ocp.domain.errors import AuthenticationFailed, Conflict, NotFound, RuleViolated
from ocp.domain.files import FilePurpose
from ocp.domain.users import ProfileChanges, Role
from tests.builders import JWT_SECRET, PASSWORD, a_stored_file


@pytest.mark.parametrize(
    "variant",
    [
        "x@example.com.",  # the same mailbox, with the root's trailing dot
        "X@EXAMPLE.COM",
        "\uff58@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",  # fullwidth letters
    ],
)
async def test_spellings_of_one_mailbox_are_one_account(app, variant):
    made = await app.profiles.register("x@example.com", PASSWORD, "X")
    with pytest.raises(Conflict):
        await app.profiles.register(variant, PASSWORD, "X")
    pair = await app.sessions.login(variant, PASSWORD)
    user, _ = await app.sessions.authenticate(pair.access_token)
    assert user.id == made.id


@pytest.mark.parametrize(
    "email",
    [
        "x\x00@example.com",
        "x@example.com\x00",
        "x\r\nBcc: victim@example.com@example.com",
        "x\u200b@example.com",  # zero-width space
        "x@exa\u200dmple.com",  # zero-width joiner in the domain
        "x\u202e@example.com",  # right-to-left override
        "x@example..com",
        ".x@example.com",
        "x@-example.com",
        "x@example.123",
        "x@localhost",
        "\u0301x@example.com",  # a combining mark first joins whatever precedes the address
        "x\ue000@example.com",  # private use: no character anybody can read
    ],
)
async def test_addresses_with_hidden_or_invalid_characters_are_refused(app, email):
    with pytest.raises(RuleViolated):
        await app.profiles.register(email, PASSWORD, "X")
    stored = await app.stores.users.list_after(role=None, query=None, after_id=None, limit=10)
    assert stored == []


@pytest.mark.parametrize("email", ["\u2603@example.com", "caf\u00e9\u2764@example.com"])
async def test_any_visible_character_may_be_in_the_local_part(app, email):
    """RFC 6531 allows any UTF-8 beyond ASCII there: symbols too, not only letters."""
    user = await app.profiles.register(email, PASSWORD, "X")
    assert str(user.email) == email
    await app.sessions.login(email, PASSWORD)


async def test_an_international_domain_is_one_mailbox_in_unicode_or_punycode(app):
    user = await app.profiles.register("leser@bücher.de", PASSWORD, "L")
    assert str(user.email) == "leser@bücher.de"
    with pytest.raises(Conflict):
        await app.profiles.register("leser@xn--bcher-kva.de", PASSWORD, "L")
    pair = await app.sessions.login("leser@xn--bcher-kva.de", PASSWORD)
    assert (await app.sessions.authenticate(pair.access_token))[0].id == user.id


async def test_an_access_token_naming_another_users_session_is_refused(app):
    """A token signed with our key whose session is a live one of somebody else's."""
    await app.profiles.register("alice@example.com", PASSWORD, "Alice")
    await app.profiles.register("bob@example.com", PASSWORD, "Bob")
    alice = await app.sessions.login("alice@example.com", PASSWORD)
    bob = await app.sessions.login("bob@example.com", PASSWORD)
    alices = jwt.decode(alice.access_token, options={"verify_signature": False})
    bobs = jwt.decode(bob.access_token, options={"verify_signature": False})
    forged = jwt.encode({**alices, "sid": bobs["sid"]}, JWT_SECRET, "HS256")
    with pytest.raises(AuthenticationFailed):
        await app.sessions.authenticate(forged)
    assert (await app.sessions.authenticate(alice.access_token))[0].email.key == "alice@example.com"


async def test_an_admin_finds_users_by_name_taken_literally_and_by_role(app):
    admin = await app.profiles.register("boss@example.com", PASSWORD, "Boss", role=Role.ADMIN)
    student = await app.profiles.register("s@example.com", PASSWORD, "Findable Student")
    await app.profiles.register("t@example.com", PASSWORD, "Teacher", role=Role.INSTRUCTOR)
    found = await app.admin.list_users(admin, query="findable")
    assert [u.id for u in found.items] == [student.id]
    assert (await app.admin.list_users(admin, query=".*")).items == []  # no pattern, a word
    instructors = await app.admin.list_users(admin, role=Role.INSTRUCTOR)
    assert [u.email.key for u in instructors.items] == ["t@example.com"]
    with pytest.raises(NotFound):
        await app.admin.get_user(admin, "nobody")


async def test_a_profile_edit_changes_only_what_it_names_and_null_clears_the_avatar(app):
    user = await app.profiles.register("p@example.com", PASSWORD, "Pat")
    avatar = await a_stored_file(app, user, FilePurpose.AVATAR)
    with_avatar = await app.profiles.update_profile(
        user, ProfileChanges.named({"avatar_file_id": avatar.id, "bio": "Hi"})
    )
    assert (with_avatar.avatar_file_id, with_avatar.bio) == (avatar.id, "Hi")
    renamed = await app.profiles.update_profile(
        with_avatar, ProfileChanges.named({"full_name": "Patricia", "bio": None})
    )
    assert (renamed.full_name, renamed.bio, renamed.avatar_file_id) == ("Patricia", "Hi", avatar.id)
    cleared = await app.profiles.update_profile(
        renamed, ProfileChanges.named({"avatar_file_id": None})
    )
    assert (cleared.avatar_file_id, cleared.full_name) == (None, "Patricia")
    stored = await app.stores.users.get(user.id)
    assert (stored.avatar_file_id, stored.bio, stored.version) == (None, "Hi", cleared.version)
