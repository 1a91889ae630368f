"""The published OpenAPI against the REST contract (../shared/API.md): every route the
contract names exists with its method, and every operation carries a summary, tags and
its error responses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "API.md"
_ROW = re.compile(r"^\|\s*([A-Z/]+)\s*\|\s*`([^`]+)`\s*\|")


def contract_routes() -> set[tuple[str, str]]:
    routes = set()
    for line in CONTRACT.read_text().splitlines():
        row = _ROW.match(line)
        if not row:
            continue
        methods, path = row.groups()
        for method in methods.split("/"):
            for one_path in path.split("`, `"):
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


async def test_every_operation_has_a_summary_tags_and_its_error_responses(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            assert operation.get("tags"), where
            if path not in ("/healthz", "/metrics"):
                errors = [code for code in operation["responses"] if code[0] in "45"]
                assert errors, where
