"""The published OpenAPI against the REST contract (../shared/API.md): every route the
contract names exists with its method, and every operation carries a summary, tags and
its error responses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "API.md"
_ROW = re.compile(r"^\|\s*([A-Z/]+)\s*\|\s*(`[^|]+`)\s*\|")
# Sections of the contract whose routes later issues build; the test reads them all, and
# fails as soon as one of these is published, so the entry goes when its issue lands.
PENDING_SECTIONS: dict[str, int] = {}


def contract_routes(*, pending: bool = False) -> set[tuple[str, str]]:
    """(method, path) of every route row of API.md; those of the pending sections instead
    when `pending` is true."""
    routes = set()
    section = ""
    for line in CONTRACT.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        row = _ROW.match(line)
        if not row or (section in PENDING_SECTIONS) != pending:
            continue
        methods, paths = row.groups()
        for method in methods.split("/"):
            for one_path in paths.strip("`").split("`, `"):
                routes.add((method.lower(), one_path))
    return routes


def _shape(path: str) -> str:
    """A path with its parameter names blanked: `/courses/{id}` and `/courses/{course_id}`
    are the same route."""
    return re.sub(r"\{[^}]+\}", "{}", path)


@pytest.fixture
async def spec(client):
    return (await client.get("/openapi.json")).json()


@pytest.mark.skipif(not CONTRACT.exists(), reason="../shared/API.md is not beside the checkout")
async def test_every_route_of_the_contract_is_published(spec):
    published = {
        (method, _shape(path))
        for path, operations in spec["paths"].items()
        for method in operations
    }
    wanted = contract_routes()
    assert len(wanted) > 60  # the parser read the tables
    missing = sorted(
        (method, path)
        for method, path in wanted
        if path.startswith("/api/") and (method, _shape(path)) not in published
    )
    assert missing == []
    assert {"/healthz", "/readyz", "/metrics"} <= set(spec["paths"])


@pytest.mark.skipif(not CONTRACT.exists(), reason="../shared/API.md is not beside the checkout")
@pytest.mark.skipif(not PENDING_SECTIONS, reason="every section of API.md is built")
async def test_routes_of_the_pending_sections_are_listed_until_they_are_built(spec):
    published = {
        (method, _shape(path))
        for path, operations in spec["paths"].items()
        for method in operations
    }
    pending = contract_routes(pending=True)
    assert pending, "the pending sections are gone from API.md: empty PENDING_SECTIONS"
    # A route of a pending section that exists only there is not built yet; once all of a
    # section's own routes are published, its entry in PENDING_SECTIONS must go.
    own = {(m, _shape(p)) for m, p in pending} - {(m, _shape(p)) for m, p in contract_routes()}
    assert not own <= published, "a pending section is built: remove it from PENDING_SECTIONS"


async def test_every_operation_has_a_summary_tags_and_its_error_responses(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            assert operation.get("tags"), where
            if path not in ("/healthz", "/metrics"):
                errors = [code for code in operation["responses"] if code[0] in "45"]
                assert errors, where
