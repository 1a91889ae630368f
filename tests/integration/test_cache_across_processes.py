"""Two `ocp serve` processes on one database, each answering authentication from its own
in-process cache: what one process changes (logout, deactivation, a password change, a role
change, a course edit) is refused or shown by the other once the change stream brings it,
and a database that goes away and comes back never lets a revoked token through.

How soon is the benchmark's question (bench/revocation.py); these tests wait generously and
assert only that it happens, and that nothing stale is ever served after it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ocp.adapters.mongo.embedded import EmbeddedDatabase
from tests.builders import JWT_SECRET, PASSWORD
from tests.integration.processes import free_port, serving, wait_until

ADMIN = ("root@example.com", "an admin password 1")
_emails = itertools.count(1)


def env_for(uri: str, db: str) -> dict[str, str]:
    return {
        "OCP_MONGODB_URI": uri,
        "OCP_MONGODB_DB": db,
        "OCP_JWT_SECRET": JWT_SECRET,
        "OCP_BOOTSTRAP_ADMIN_EMAIL": ADMIN[0],
        "OCP_BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
        "OCP_MONGODB_TIMEOUT_MS": "1500",
    }


@pytest.fixture(scope="module")
def two_servers(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    shared = tmp_path_factory.mktemp("cache-shared")
    env = env_for(mongo_uri, "cache_across")
    with serving(shared, **env) as a, serving(shared, **env) as b:
        yield a.base, b.base


def token_for(base: str, email: str, password: str = PASSWORD) -> str:
    answer = httpx.post(f"{base}/api/v1/auth/token", data={"username": email, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def a_member(base: str) -> tuple[str, dict[str, str], str]:
    """A new student: email, bearer headers, refresh token."""
    email = f"cached{next(_emails)}@example.com"
    made = httpx.post(
        f"{base}/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": "Cached"},
    )
    assert made.status_code == 201, made.text
    pair = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": email, "password": PASSWORD}
    ).json()
    return email, {"Authorization": f"Bearer {pair['access_token']}"}, pair["refresh_token"]


def me(base: str, auth: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{base}/api/v1/users/me", headers=auth)


def refused_on(base: str, auth: dict[str, str]) -> None:
    wait_until(
        lambda: me(base, auth).status_code == 401,
        seconds=10,
        message="the other process still accepts the token",
    )
    for _ in range(20):  # and from then on, never again
        assert me(base, auth).status_code == 401


def admin_auth(base: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(base, *ADMIN)}"}


def test_a_logout_on_one_process_is_refused_by_the_other(two_servers):
    a, b = two_servers
    _, auth, refresh = a_member(a)
    for _ in range(3):  # B has it in memory now
        assert me(b, auth).status_code == 200
    assert (
        httpx.post(f"{a}/api/v1/auth/logout", headers=auth, json={"refresh_token": refresh})
    ).status_code == 204
    refused_on(b, auth)


def test_a_deactivation_on_one_process_is_refused_by_the_other(two_servers):
    a, b = two_servers
    email, auth, _ = a_member(a)
    assert me(b, auth).status_code == 200
    user_id = me(b, auth).json()["id"]
    answer = httpx.patch(
        f"{a}/api/v1/users/{user_id}", headers=admin_auth(a), json={"is_active": False}
    )
    assert answer.status_code == 200, answer.text
    refused_on(b, auth)


def test_a_password_change_on_one_process_ends_every_other_token_on_the_other(two_servers):
    a, b = two_servers
    email, auth, _ = a_member(a)
    other_tab = {"Authorization": f"Bearer {token_for(a, email)}"}
    assert me(b, other_tab).status_code == 200
    changed = httpx.post(
        f"{a}/api/v1/users/me/password",
        headers=auth,
        json={"current_password": PASSWORD, "new_password": "a brand new password 2"},
    )
    assert changed.status_code in (200, 204), changed.text
    refused_on(b, other_tab)


def test_a_role_change_on_one_process_takes_the_power_away_on_the_other(two_servers):
    a, b = two_servers
    _, auth, _ = a_member(a)
    user_id = me(b, auth).json()["id"]
    admin = admin_auth(a)
    promoted = httpx.patch(
        f"{a}/api/v1/users/{user_id}", headers=admin, json={"role": "instructor"}
    )
    assert promoted.status_code == 200, promoted.text
    wait_until(lambda: me(b, auth).json()["role"] == "instructor", seconds=10)
    demoted = httpx.patch(f"{a}/api/v1/users/{user_id}", headers=admin, json={"role": "student"})
    assert demoted.status_code == 200, demoted.text

    def may_create() -> int:
        body = {"title": f"Not mine {next(_emails)}"}
        return httpx.post(f"{b}/api/v1/courses", headers=auth, json=body).status_code

    wait_until(lambda: may_create() == 403, seconds=10, message="B still lets a student teach")
    assert may_create() == 403


def test_a_course_edited_on_one_process_shows_on_the_other(two_servers):
    a, b = two_servers
    admin = admin_auth(a)
    course = httpx.post(f"{a}/api/v1/courses", headers=admin, json={"title": "Before"}).json()
    for _ in range(2):
        assert httpx.get(f"{b}/api/v1/courses/{course['id']}", headers=admin).json()["title"] == (
            "Before"
        )
    edited = httpx.patch(
        f"{a}/api/v1/courses/{course['id']}", headers=admin, json={"title": "After"}
    )
    assert edited.status_code == 200, edited.text
    wait_until(
        lambda: (
            httpx.get(f"{b}/api/v1/courses/{course['id']}", headers=admin).json()["title"]
            == "After"
        ),
        seconds=10,
    )


def metric(base: str, name: str) -> float:
    text = httpx.get(f"{base}/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    return 0.0


def test_a_database_that_goes_away_and_comes_back_never_lets_a_revoked_token_through(
    tmp_path: Path,
):
    """Kill the database under two serving processes and start it again: the change streams
    break and reopen. A token revoked before the outage is never accepted again, during or
    after it; a token revoked just after it (while the streams may still be reconnecting) is
    refused by the other process too."""
    port = free_port()
    database = EmbeddedDatabase(tmp_path / "db", port=port)
    uri = database.start()
    env = env_for(uri, "cache_faults")
    answers: list[int] = []
    stop = threading.Event()
    try:
        with serving(tmp_path / "a", **env) as a, serving(tmp_path / "b", **env) as b:
            _, gone, refresh_gone = a_member(a.base)
            _, kept, refresh_kept = a_member(a.base)
            assert me(b.base, gone).status_code == 200
            assert me(b.base, kept).status_code == 200
            assert (
                httpx.post(
                    f"{a.base}/api/v1/auth/logout",
                    headers=gone,
                    json={"refresh_token": refresh_gone},
                ).status_code
                == 204
            )
            refused_on(b.base, gone)

            def hammer() -> None:
                while not stop.is_set():
                    try:
                        answers.append(me(b.base, gone).status_code)
                    except httpx.TransportError:
                        answers.append(0)

            watcher = threading.Thread(target=hammer)
            watcher.start()
            database.stop()
            wait_until(lambda: me(b.base, kept).status_code == 503, seconds=15)
            database = EmbeddedDatabase(tmp_path / "db", port=port)
            database.start()
            # As soon as A can write again, revoke the other session.
            wait_until(
                lambda: (
                    httpx.post(
                        f"{a.base}/api/v1/auth/logout",
                        headers=kept,
                        json={"refresh_token": refresh_kept},
                    ).status_code
                    == 204
                ),
                seconds=30,
            )
            refused_on(b.base, kept)
            wait_until(lambda: metric(b.base, "ocp_change_stream_live") == 1, seconds=30)
            assert metric(b.base, "ocp_change_stream_restarts_total") >= 1
            stop.set()
            watcher.join()
    finally:
        stop.set()
        database.stop()
    assert answers and 200 not in answers, sorted(set(answers))
    assert 401 in answers
