"""Settings refuse, at start-up, combinations that would only fail later, request by request."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from ocp.settings import Settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.fixture(autouse=True)
def no_ocp_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what each test passes: nothing from the developer's shell."""
    for name in [n for n in os.environ if n.startswith("OCP_")]:
        monkeypatch.delenv(name)


def test_a_jwt_secret_shorter_than_32_bytes_is_refused():
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        settings(jwt_secret="x" * 31)
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        settings(jwt_secret="")


def test_the_jwt_secret_is_measured_in_utf8_bytes():
    assert settings(jwt_secret="x" * 32).jwt_secret is not None
    assert settings(jwt_secret="é" * 16).jwt_secret is not None  # 16 characters, 32 bytes
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        settings(jwt_secret="é" * 15 + "x")  # 16 characters, 31 bytes


def test_no_jwt_secret_is_fine_outside_production():
    assert settings().jwt_secret is None


@pytest.mark.parametrize(
    "half",
    [
        {"bootstrap_admin_email": "root@example.com"},
        {"bootstrap_admin_password": "root password"},
        {"bootstrap_admin_email": "root@example.com", "bootstrap_admin_password": ""},
    ],
)
def test_half_a_bootstrap_admin_is_refused(half):
    with pytest.raises(ValidationError, match="set both, or neither"):
        settings(**half)


def test_a_whole_bootstrap_admin_or_none_is_fine():
    both = settings(bootstrap_admin_email="root@example.com", bootstrap_admin_password="pw")
    assert both.bootstrap_admin_email == "root@example.com"
    assert settings().bootstrap_admin_email is None


def test_the_checks_apply_to_environment_variables(monkeypatch):
    monkeypatch.setenv("OCP_JWT_SECRET", "too short")
    with pytest.raises(ValidationError, match="OCP_JWT_SECRET"):
        settings()
