"""The bcrypt password hasher: round trips, long passwords, malformed hashes."""

from __future__ import annotations

import pytest

from ocp.adapters.security.passwords import BcryptPasswordHasher


@pytest.fixture(scope="module")
def hasher() -> BcryptPasswordHasher:
    return BcryptPasswordHasher(rounds=4)


async def test_a_hashed_password_verifies(hasher: BcryptPasswordHasher) -> None:
    password_hash = await hasher.hash("correct horse battery staple")

    assert password_hash.startswith("$2b$04$")
    assert "correct horse" not in password_hash
    assert await hasher.verify("correct horse battery staple", password_hash)


async def test_a_wrong_password_does_not_verify(hasher: BcryptPasswordHasher) -> None:
    password_hash = await hasher.hash("correct horse battery staple")

    assert not await hasher.verify("correct horse battery stapler", password_hash)


async def test_hashing_twice_gives_different_hashes(hasher: BcryptPasswordHasher) -> None:
    first, second = await hasher.hash("same password"), await hasher.hash("same password")

    assert first != second
    assert await hasher.verify("same password", second)


async def test_every_character_of_a_long_password_counts(hasher: BcryptPasswordHasher) -> None:
    common = "a" * 80
    first, second = common + "b" * 20, common + "c" * 20
    first_hash, second_hash = await hasher.hash(first), await hasher.hash(second)

    assert await hasher.verify(first, first_hash)
    assert await hasher.verify(second, second_hash)
    assert not await hasher.verify(second, first_hash)
    assert not await hasher.verify(first, second_hash)


async def test_a_multibyte_password_beyond_72_bytes_is_accepted(
    hasher: BcryptPasswordHasher,
) -> None:
    password = "пароль" * 21  # 126 characters, 252 bytes in UTF-8

    assert await hasher.verify(password, await hasher.hash(password))


@pytest.mark.parametrize("malformed", ["", "x", "$2b$04$tooshort", "not-a-hash" * 10, "é$2b$"])
async def test_a_malformed_hash_verifies_nothing(
    hasher: BcryptPasswordHasher, malformed: str
) -> None:
    assert await hasher.verify("any password", malformed) is False


async def test_burn_answers_nothing_and_raises_nothing(hasher: BcryptPasswordHasher) -> None:
    assert await hasher.burn("a guess for an unknown email") is None


def test_a_hash_says_its_scheme_and_cost() -> None:
    hasher = BcryptPasswordHasher(rounds=5)
    assert not hasher.needs_rehash("$2b$05$" + "a" * 53)
    assert not hasher.needs_rehash("$2b$06$" + "a" * 53)  # stronger: kept
    assert hasher.needs_rehash("$2b$04$" + "a" * 53)  # weaker than today's cost
    assert hasher.needs_rehash("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
    assert hasher.needs_rehash("")


async def test_a_login_upgrades_a_hash_weaker_than_todays_cost(app) -> None:
    from dependency_injector import providers

    from tests.builders import PASSWORD

    await app.profiles.register("cost@example.com", PASSWORD, "Cost")
    stored = await app.container.stores().users.get_by_email("cost@example.com")
    assert stored.password_hash.startswith("$2b$04$")  # the suite's cheap cost
    app.container.password_hasher.override(providers.Object(BcryptPasswordHasher(rounds=5)))
    try:
        sessions = app.container.session_service()
        await sessions.login("cost@example.com", PASSWORD)
        upgraded = await app.container.stores().users.get_by_email("cost@example.com")
        assert upgraded.password_hash.startswith("$2b$05$")
        await sessions.login("cost@example.com", PASSWORD)  # and the new hash logs in
        again = await app.container.stores().users.get_by_email("cost@example.com")
        assert again.password_hash == upgraded.password_hash  # no rehash when current
    finally:
        app.container.password_hasher.reset_override()
