"""Identity rules on the use cases (in-memory stores, manual clock) that hold whatever the
transport: what a refused sign-up leaves behind, how the login throttle counts an address,
which reset requests stay quiet, who may read an account. (The rest of sessions, passwords,
profiles and administration: `test_identity_service.py` and `test_accounts_use_cases.py`.)"""

from __future__ import annotations

import pytest

from ocp.domain.errors import AuthenticationFailed, PermissionDenied, RuleViolated, TooManyAttempts
from ocp.domain.users import Role
from tests.builders import PASSWORD, a_member, use_cases


@pytest.mark.parametrize(
    ("email", "password", "full_name"),
    [
        ("not-an-email", PASSWORD, "New Person"),
        ("a" * 250 + "@example.com", PASSWORD, "New Person"),
        ("new@example.com", PASSWORD, "n" * 101),
        ("new@example.com", " " * 10, "New Person"),
    ],
    ids=["address-without-at", "address-over-254", "name-over-100", "password-of-spaces"],
)
async def test_a_refused_registration_leaves_no_account(app, email, password, full_name):
    with pytest.raises(RuleViolated):
        await app.profiles.register(email, password, full_name)
    stored = await app.stores.users.list_after(role=None, query=None, after_id=None, limit=10)
    assert stored == []


async def test_failed_logins_under_any_spelling_of_the_address_count_together(tmp_path):
    app = use_cases(tmp_path, login_max_failures=3, login_window_s=600)
    await app.profiles.register("target@example.com", PASSWORD, "Target")
    for spelling in ("target@example.com", "TARGET@example.com", "target@EXAMPLE.COM"):
        with pytest.raises(AuthenticationFailed):
            await app.sessions.login(spelling, "guess guess")
    with pytest.raises(TooManyAttempts):
        await app.sessions.login("Target@Example.com", PASSWORD)


async def test_a_reset_request_for_a_malformed_address_is_quiet_and_mails_nothing(app):
    await app.profiles.register("forgetful@example.com", PASSWORD, "Forgetful")
    await app.passwords.request_password_reset("not-even-an-email")
    await app.work_off()
    assert app.container.mailer().sent == []


async def test_only_an_admin_may_read_an_account(app):
    admin = await a_member(app, Role.ADMIN)
    student = await a_member(app)
    with pytest.raises(PermissionDenied):
        await app.admin.get_user(student, admin.id)
    with pytest.raises(PermissionDenied):
        await app.admin.get_user(student, student.id)
    assert (await app.admin.get_user(admin, student.id)).id == student.id
