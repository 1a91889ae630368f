"""Hostile input at scale: a property-based run (schemathesis) of the whole published OpenAPI
against a real server process, with a valid bearer token, and every schemathesis check (with
the allowances of schemathesis.toml). No input may cause a 5xx, an answer the document does not
declare, or a body showing a stack trace or an internal path.

`make test` runs a few examples per operation; `make fuzz` runs many (OCP_FUZZ_EXAMPLES)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from ocp.container import Container
from ocp.entrypoints.http.app import create_app
from tests.builders import JWT_SECRET, PASSWORD, test_settings
from tests.integration.processes import serving

EXAMPLES = int(os.environ.get("OCP_FUZZ_EXAMPLES", "6"))
ADMIN = "fuzz-admin@example.com"
_INTERNALS = re.compile(
    r"Traceback \(most recent call last\)|File \"/|site-packages|pymongo|botocore|/work/",
    re.IGNORECASE,
)


def no_internals_in_the_body(ctx, response, case) -> None:
    """No stack trace, driver name or server path in any response body."""
    leaked = _INTERNALS.search(response.text or "")
    if leaked:
        raise AssertionError(f"the body shows {leaked.group(0)!r}: {response.text[:300]}")


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, mongo_uri: str
) -> Iterator[tuple[str, dict[str, str]]]:
    """The real adapters (SecantusDB, the disk store): hostile input must reach the queries."""
    with serving(
        tmp_path_factory.mktemp("fuzz"),
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB="hostile_input",
        OCP_FILE_STORE="local",
        OCP_MAIL="memory",
        OCP_JWT_SECRET=JWT_SECRET,
        OCP_BOOTSTRAP_ADMIN_EMAIL=ADMIN,
        OCP_BOOTSTRAP_ADMIN_PASSWORD=PASSWORD,
        OCP_LOGIN_MAX_FAILURES="1000000",
        OCP_LOG_LEVEL="warning",
    ) as server:
        tokens = httpx.post(
            f"{server.base}/api/v1/auth/token", data={"username": ADMIN, "password": PASSWORD}
        )
        assert tokens.status_code == 200, tokens.text
        # The operations under test are exactly the ones the server publishes.
        assert httpx.get(f"{server.base}/openapi.json").json() == PUBLISHED
        yield server.base, {"Authorization": f"Bearer {tokens.json()['access_token']}"}


def published_schema() -> dict:
    """The OpenAPI document the server publishes at /openapi.json (built the same way, here,
    so the operations are known when the tests are collected)."""
    app = create_app(Container.for_settings(test_settings(Path(tempfile.gettempdir()))))
    return app.openapi()


PUBLISHED = published_schema()
CONFIG = SchemathesisConfig.from_path(Path(__file__).resolve().parents[2] / "schemathesis.toml")
schema = schemathesis.openapi.from_dict(PUBLISHED, config=CONFIG)


def test_every_schemathesis_check_is_on():
    """schemathesis.toml may allow a status where API.md documents it, never turn a check off."""
    load_all_checks()
    checks = CONFIG.projects.get_default().checks
    off = [c.__name__ for c in CHECKS.get_all() if not checks.get_by_name(name=c.__name__).enabled]
    assert off == []


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize="OCP_FUZZ_EXAMPLES" not in os.environ,  # make test: the same examples each run
    suppress_health_check=list(HealthCheck),
)
def test_no_input_breaks_the_api(case, api):
    base, auth = api
    case.call_and_validate(
        base_url=base,
        headers=auth,
        additional_checks=[no_internals_in_the_body],
        timeout=30,
    )
