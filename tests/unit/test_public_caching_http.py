"""HTTP caching of public reads: what a browser or a CDN in front of OCP may keep, for how
long, and how a client revalidates (API.md, docs/http-caching.md)."""

from __future__ import annotations

import pytest

from ocp.container import Container
from tests.builders import (
    API,
    a_course,
    a_teacher,
    app_client,
    enrolled,
    signed_up,
    test_settings,
    url,
)

PUBLIC = "public, max-age=10, stale-while-revalidate=60"


async def public_reads(client, container) -> tuple[object, list[str]]:
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher, preview=True)
    paths = [
        API,
        f"{API}?sort=popular&tag=python",
        url(course),
        f"{API}/{course.slug}",
        url(course, "/modules"),
        f"/api/v1/lessons/{course.lesson_ids[0]}",
    ]
    return course, paths


async def test_every_public_read_may_be_cached_by_anyone_and_revalidated(client, container):
    _, paths = await public_reads(client, container)
    for path in paths:
        first = await client.get(path)
        assert first.status_code == 200, path
        assert first.headers["cache-control"] == PUBLIC, path
        assert first.headers["vary"] == "Authorization", path
        tag = first.headers["etag"]
        again = await client.get(path, headers={"If-None-Match": tag})
        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers["etag"] == tag and again.headers["cache-control"] == PUBLIC
        listed = await client.get(path, headers={"If-None-Match": f'"other", W/{tag}'})
        assert listed.status_code == 304, path  # weak comparison, in a list
        assert (await client.get(path, headers={"If-None-Match": "*"})).status_code == 304
        stale = await client.get(path, headers={"If-None-Match": '"not-it"'})
        assert stale.status_code == 200 and stale.json() == first.json(), path


async def test_signed_in_readers_get_no_store_and_no_304_for_the_public_copy(client, container):
    course, paths = await public_reads(client, container)
    student = await enrolled(client, container, course)
    for path in paths:
        public = await client.get(path)
        mine = await client.get(path, headers=student.auth)
        assert mine.status_code == 200, path
        assert mine.headers["cache-control"] == "no-store", path
        assert "public" not in mine.headers["cache-control"]
        assert public.headers["etag"]


async def test_what_a_page_shows_changing_changes_its_validator(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher, preview=True)
    before = {
        path: (await client.get(path)).headers["etag"]
        for path in (API, url(course), url(course, "/modules"))
    }
    await enrolled(client, container, course)  # enrolled_count is shown on all of them
    for path, tag in before.items():
        now = await client.get(path, headers={"If-None-Match": tag})
        assert now.status_code == 200, path
        assert now.headers["etag"] != tag
    page = (await client.get(API)).headers["etag"]
    edited = await client.patch(url(course), json={"title": "Renamed"}, headers=teacher.auth)
    assert edited.status_code == 200
    assert (await client.get(API, headers={"If-None-Match": page})).status_code == 200
    shown = await client.get(API)
    assert shown.json()["items"][0]["title"] == "Renamed"


async def test_refusals_are_not_public(client, container):
    teacher = await a_teacher(client, container)
    draft = await a_course(client, teacher, publish=False)
    hidden = await client.get(url(draft))
    assert hidden.status_code == 404
    assert "public" not in hidden.headers.get("cache-control", "")
    invalid = await client.get(f"{API}?limit=0")
    assert invalid.status_code == 422
    assert "public" not in invalid.headers.get("cache-control", "")


async def test_someones_own_courses_are_never_public(client, container):
    teacher = await a_teacher(client, container)
    await a_course(client, teacher, publish=False)
    mine = await client.get(f"{API}?mine=true", headers=teacher.auth)
    assert mine.status_code == 200
    assert mine.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("max_age", [0, 300])
async def test_max_age_follows_the_setting(tmp_path, max_age):
    container = Container.for_settings(test_settings(tmp_path, public_max_age_s=max_age))
    async with app_client(container) as client:
        await signed_up(client, container)
        answer = await client.get(API)
    assert answer.headers["cache-control"] == (
        f"public, max-age={max_age}, stale-while-revalidate=60"
    )
