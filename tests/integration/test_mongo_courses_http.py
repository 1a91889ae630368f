"""Courses end to end on MongoDB (SecantusDB): the HTTP flow, how many database commands a
catalog request costs, and that every catalog query shape is served by an index."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest
from dependency_injector import providers
from pymongo import AsyncMongoClient, monitoring

from ocp.adapters.mongo.courses import MongoCourseRepository, catalog_filter
from ocp.container import Container
from ocp.domain.courses import CatalogQuery, CatalogSort, CourseStatus
from ocp.domain.users import Role
from tests.builders import (
    a_draft,
    a_lesson,
    a_module,
    a_published,
    app_client,
    signed_up,
    test_settings,
)
from tests.integration.commands import sent_by_a_request

API = "/api/v1/courses"
_databases = itertools.count(1)


class CommandCounter(monitoring.CommandListener):
    def __init__(self):
        self.commands: Counter[str] = Counter()
        self.recording = False

    def started(self, event):
        if self.recording and sent_by_a_request(event):
            self.commands[event.command_name] += 1

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass

    async def count(self, request):
        """How many commands one request sends to the database, by name."""
        self.commands.clear()
        self.recording = True
        try:
            response = await request
        finally:
            self.recording = False
        assert response.status_code == 200, response.text
        return dict(self.commands), response


@pytest.fixture
async def counted(tmp_path: Path, mongo_uri):
    """An app on MongoDB whose client reports every command to a counter."""
    counter = CommandCounter()
    container = Container.for_settings(
        test_settings(
            tmp_path,
            database="mongo",
            mongodb_uri=mongo_uri,
            mongodb_db=f"count_{next(_databases)}",
        )
    )
    client = AsyncMongoClient(mongo_uri, tz_aware=True, event_listeners=[counter])
    container.mongo_client.override(providers.Object(client))
    async with app_client(container) as http:
        yield http, container, counter


async def test_the_course_flow_on_mongodb(mongo_client_http, mongo_container):
    client, container = mongo_client_http, mongo_container
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    student = await signed_up(client, container)
    course = await a_draft(client, teacher, "Mongo Flow", tags=["databases"])
    assert (await client.get(f"{API}/{course['slug']}")).status_code == 404
    module = await a_module(client, teacher, course["id"])
    preview = await a_lesson(client, teacher, course["id"], module["id"], "Free", is_preview=True)
    full = await a_lesson(client, teacher, course["id"], module["id"], "Paid")
    response = await client.put(
        f"{API}/{course['id']}/modules/{module['id']}/lessons/order",
        json={"lesson_ids": [full["id"], preview["id"]]},
        headers=teacher.auth,
    )
    assert [x["title"] for x in response.json()["lessons"]] == ["Paid", "Free"]
    etag = (await client.get(f"{API}/{course['id']}", headers=teacher.auth)).headers["ETag"]
    response = await client.patch(
        f"{API}/{course['id']}", json={"summary": "s"}, headers={**teacher.auth, "If-Match": etag}
    )
    assert response.status_code == 200
    response = await client.patch(
        f"{API}/{course['id']}", json={"summary": "t"}, headers={**teacher.auth, "If-Match": etag}
    )
    assert response.status_code == 412
    assert (
        await client.post(f"{API}/{course['id']}/publish", headers=teacher.auth)
    ).status_code == 200
    assert (await client.get(f"{API}/{course['slug']}")).json()["id"] == course["id"]
    listed = (await client.get(f"{API}?q=mongo&tag=databases")).json()["items"]
    assert [c["id"] for c in listed] == [course["id"]]
    assert (await client.get(f"/api/v1/lessons/{preview['id']}")).status_code == 200
    assert (
        await client.get(f"/api/v1/lessons/{full['id']}", headers=student.auth)
    ).status_code == 404
    await container.mongo_database()["enrollments"].insert_one(
        {"_id": "e1", "course_id": course["id"], "user_id": student.id, "enrolled_at": None}
    )
    assert (
        await client.get(f"/api/v1/lessons/{full['id']}", headers=student.auth)
    ).status_code == 200
    draft = await a_draft(client, teacher, "Mongo Flow")
    assert draft["slug"] != course["slug"]
    assert (await client.delete(f"{API}/{draft['id']}", headers=teacher.auth)).status_code == 204
    await client.post(f"{API}/{course['id']}/unpublish", headers=teacher.auth)
    response = await client.delete(f"{API}/{course['id']}", headers=teacher.auth)
    assert response.status_code == 409  # a student is enrolled


async def test_walking_the_catalog_on_mongodb_returns_each_course_once(
    mongo_client_http, mongo_container
):
    client, container = mongo_client_http, mongo_container
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    made = [(await a_published(client, teacher, f"Course {n}"))["id"] for n in range(5)]
    for sort in ("newest", "title", "rating", "popular"):
        seen, url = [], f"{API}?limit=2&sort={sort}"
        while url:
            body = (await client.get(url)).json()
            seen += [c["id"] for c in body["items"]]
            url = (
                f"{API}?limit=2&sort={sort}&cursor={body['next_cursor']}"
                if body["next_cursor"]
                else None
            )
            if url and len(seen) == 2:
                await a_published(client, teacher, f"Meanwhile {sort}")  # newer, or later A-Z
        assert sorted(i for i in seen if i in made) == sorted(made)
        assert len(seen) == len(set(seen))


async def test_a_catalog_page_costs_the_same_few_commands_whatever_its_size(counted):
    client, container, counter = counted
    assert await container.demo_catalog().seed() >= 40
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    small, _ = await counter.count(client.get(f"{API}?limit=2"))
    large, response = await counter.count(client.get(f"{API}?limit=100"))
    assert len(response.json()["items"]) >= 40
    assert small == large == {"find": 1}
    searched, _ = await counter.count(client.get(f"{API}?limit=50&q=python&level=beginner"))
    assert sum(searched.values()) <= 2
    mine, _ = await counter.count(client.get(f"{API}?limit=100&mine=true", headers=teacher.auth))
    assert sum(mine.values()) <= 3  # the caller's user and session, then the page
    course = response.json()["items"][0]
    for url in (
        f"{API}/{course['id']}",
        f"{API}/{course['slug']}",
        f"{API}/{course['id']}/modules",
    ):
        detail, _ = await counter.count(client.get(url))
        assert sum(detail.values()) <= 2, url
    outline = (await client.get(f"{API}/{course['id']}/modules")).json()
    lesson, _ = await counter.count(client.get(f"/api/v1/lessons/{outline[0]['lessons'][0]['id']}"))
    assert sum(lesson.values()) <= 2


def _shapes():
    for sort in CatalogSort:
        for after in (None, "5"):
            yield CatalogQuery(sort, 21, after=after)
            yield CatalogQuery(sort, 21, terms=["tag:python"], after=after)
            yield CatalogQuery(
                sort, 21, terms=["kw:python", "kw:data", "level:beginner"], after=after
            )
            yield CatalogQuery(sort, 21, status=None, staff_id="u1", after=after)
            yield CatalogQuery(sort, 21, status=None, staff_id="u1", terms=["kw:x"], after=after)


@pytest.mark.parametrize("query", list(_shapes()), ids=str)
async def test_every_catalog_query_shape_is_served_by_an_index(mongo_db, query):
    await MongoCourseRepository(mongo_db).ensure_indexes()
    await mongo_db["courses"].insert_one({"_id": "c1", "status": CourseStatus.PUBLISHED.value})
    where, order, _rest = catalog_filter(query)
    plan = await mongo_db["courses"].find(where).sort(order).limit(query.limit).explain()
    winning = str(plan["queryPlanner"]["winningPlan"])
    assert "IXSCAN" in winning and "COLLSCAN" not in winning, (where, winning)


async def test_lookups_by_id_slug_file_and_enrollment_use_indexes(mongo_container):
    from ocp import container as composition

    await composition.start(mongo_container)
    try:
        db = mongo_container.mongo_database()
        for collection, where in [
            ("courses", {"slug": "s"}),
            ("courses", {"_id": "c"}),
            ("lessons", {"_id": "l"}),
            ("lessons", {"file_id": "f"}),
            ("lessons", {"course_id": "c"}),
            ("enrollments", {"course_id": "c", "user_id": "u"}),
            ("enrollments", {"course_id": "c"}),
        ]:
            plan = await db[collection].find(where).explain()
            winning = str(plan["queryPlanner"]["winningPlan"])
            assert "IXSCAN" in winning and "COLLSCAN" not in winning, (collection, where)
    finally:
        await composition.stop(mongo_container)
