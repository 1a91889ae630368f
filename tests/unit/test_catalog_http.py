"""The catalog over HTTP: query parameters and their validation, the page's JSON and Link
header, and the demo. Filters, orders and paging rules: test_catalog_use_cases.py."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from ocp.adapters.memory.clock import ManualClock
from ocp.container import Container
from ocp.domain.users import Role
from tests.builders import a_draft, a_published, app_client, signed_up, test_settings

API = "/api/v1/courses"


@pytest.fixture
def clock(container):
    clock = ManualClock()
    container.clock.override(clock)
    return clock


@pytest.fixture
async def teacher(client, container, clock):
    return await signed_up(client, container, Role.INSTRUCTOR)


async def titles(client, query="", headers=None):
    response = await client.get(f"{API}{query}", headers=headers or {})
    assert response.status_code == 200, response.text
    return [c["title"] for c in response.json()["items"]]


async def walk(client, query, headers=None):
    """Every item of every page, following `next_cursor` (and checking the Link header)."""
    seen, url = [], f"{API}{query}"
    while True:
        response = await client.get(url, headers=headers or {})
        assert response.status_code == 200, response.text
        body = response.json()
        seen += body["items"]
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            return seen
        link = response.headers["Link"]
        assert link.endswith('>; rel="next"')
        target = urlparse(link[1 : link.index(">")])
        assert parse_qs(target.query)["cursor"] == [body["next_cursor"]]
        url = f"{target.path}?{target.query}"


async def test_every_query_parameter_reaches_the_catalog(client, container, teacher, clock):
    other = await signed_up(client, container, Role.INSTRUCTOR)
    await a_published(client, other, "Abacus", tags=["maths"], level="advanced")
    clock.advance(1)
    await a_published(client, teacher, "Brewing", tags=["coffee"], category="Drinks")
    await a_draft(client, teacher, "Draft")
    assert await titles(client) == ["Brewing", "Abacus"]
    assert await titles(client, "?sort=title") == ["Abacus", "Brewing"]
    assert await titles(client, "?q=brewing") == ["Brewing"]
    assert await titles(client, "?tag=maths") == ["Abacus"]
    assert await titles(client, "?level=advanced") == ["Abacus"]
    assert await titles(client, "?category=drinks") == ["Brewing"]
    assert await titles(client, f"?instructor_id={other.id}") == ["Abacus"]
    assert set(await titles(client, "?mine=true", teacher.auth)) == {"Brewing", "Draft"}


async def test_mine_without_a_token_is_a_401_problem(client):
    response = await client.get(f"{API}?mine=true")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "query", ["?limit=0", "?limit=101", "?limit=x", "?level=expert", "?sort=cheapest"]
)
async def test_a_limit_level_or_sort_out_of_range_is_refused(client, query):
    response = await client.get(f"{API}{query}")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("cursor", ["garbage!", "WzFd", "WyJ0aXRsZSIsIngiXQ"])
async def test_a_malformed_or_foreign_cursor_is_refused(client, cursor):
    response = await client.get(f"{API}?cursor={cursor}")
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"


async def test_each_page_links_to_the_next_and_the_last_page_has_no_link(client, teacher):
    made = [(await a_published(client, teacher, f"Course {n}"))["id"] for n in range(5)]
    seen = await walk(client, "?limit=2&sort=title")
    assert [c["id"] for c in seen] == made


async def test_the_demo_catalog_is_seeded_once(client, container):
    seeded = await container.demo_catalog().seed()
    assert seeded >= 40
    assert await container.demo_catalog().seed() == 0
    response = await client.get(f"{API}?limit=20")
    body = response.json()
    assert len(body["items"]) == 20 and body["next_cursor"]
    assert len(await walk(client, "?limit=100")) == seeded
    first = body["items"][0]
    outline = (await client.get(f"{API}/{first['id']}/modules")).json()
    assert len(outline) >= 2 and all(m["lessons"] for m in outline)
    preview = outline[0]["lessons"][0]
    assert preview["is_preview"]
    assert (await client.get(f"/api/v1/lessons/{preview['id']}")).status_code == 200
    assert await titles(client, "?q=python") != []


async def test_the_demo_flag_seeds_an_empty_catalog_at_start(tmp_path):
    container = Container.for_settings(test_settings(tmp_path, demo_seed=True))
    async with app_client(container) as client:
        body = (await client.get(f"{API}?q=python")).json()
        assert body["items"] and all(c["status"] == "published" for c in body["items"])
