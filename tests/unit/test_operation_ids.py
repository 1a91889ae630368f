"""What a generated client names its methods: every operation has a readable, unique,
camelCase `operationId` from one table (`GET /courses` is `listCourses`)."""

from __future__ import annotations

import re
from pathlib import Path

from ocp.container import Container
from ocp.entrypoints.http.app import create_app
from ocp.entrypoints.http.operations import OPERATION_IDS
from tests.builders import test_settings


def test_every_operation_has_a_stable_readable_unique_id(tmp_path: Path):
    schema = create_app(Container.for_settings(test_settings(tmp_path))).openapi()
    seen: dict[str, str] = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            named = operation["operationId"]
            assert OPERATION_IDS.get((method.upper(), path)) == named, (method, path)
            assert re.fullmatch(r"[a-z][a-zA-Z]+", named), named
            assert named not in seen, (named, seen.get(named))
            seen[named] = f"{method} {path}"
    assert seen["listCourses"] == "get /api/v1/courses"
    assert seen["getCurrentUser"] == "get /api/v1/users/me"
    # No entry of the table names an operation that no longer exists.
    assert len(seen) == len(OPERATION_IDS)


def test_the_document_says_which_version_of_the_package_serves_it(tmp_path: Path):
    from importlib import metadata

    schema = create_app(Container.for_settings(test_settings(tmp_path))).openapi()
    assert schema["info"]["version"] == metadata.version("ocp")


async def test_the_public_reads_are_documented_as_optional_auth_and_serve_anonymous_callers(
    client, container
):
    from ocp.entrypoints.http.operations import OPTIONAL_AUTH
    from tests.builders import a_course, a_teacher

    schema = (await client.get("/openapi.json")).json()
    marked = {
        op["operationId"]
        for ops in schema["paths"].values()
        for op in ops.values()
        if op.get("security") == [{}, {"OAuth2PasswordBearer": []}]
    }
    assert marked == OPTIONAL_AUTH
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher, lessons=1)
    for path in (
        "/api/v1/courses",
        f"/api/v1/courses/{course.id}",
        f"/api/v1/courses/{course.id}/modules",
        f"/api/v1/courses/{course.id}/reviews",
    ):
        assert (await client.get(path)).status_code == 200, path


async def test_swagger_ui_comes_from_this_server_under_a_strict_csp(client):
    import re

    page = await client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert not re.search(r"<script>(?!</script>)", page.text)  # no inline script
    for src in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', page.text):
        asset = await client.get(src)
        assert asset.status_code == 200 and len(asset.content) > 100, src
        assert "//cdn" not in asset.text[:2000]
    assert (await client.get("/docs/assets/../../etc/passwd")).status_code == 404
    assert (await client.get("/docs/assets/index.html")).status_code == 404
    assert (await client.get("/docs/oauth2-redirect")).status_code == 200


async def test_every_problem_type_has_a_page_that_says_what_it_means(client):
    from ocp.entrypoints.http.problems import DOMAIN_ERRORS, PROBLEM_TYPES, STATUS_SLUGS

    used = {slug for _, slug, _ in DOMAIN_ERRORS.values()} | set(STATUS_SLUGS.values())
    assert used <= set(PROBLEM_TYPES)
    answered = await client.get("/api/v1/courses/nope")
    assert answered.status_code == 404
    page = await client.get(answered.json()["type"])  # resolves on this server
    assert page.status_code == 200 and "Not found" in page.text
    invalid = await client.get("/api/v1/courses?limit=0")
    assert invalid.json()["type"] == "/problems/validation-error"
    listing = await client.get("/problems")
    assert all(f'href="/problems/{slug}"' in listing.text for slug in PROBLEM_TYPES)
    assert (await client.get("/problems/made-up")).status_code == 404


def test_every_request_body_has_an_example_its_schema_accepts(tmp_path: Path):
    import jsonschema

    schema = create_app(Container.for_settings(test_settings(tmp_path))).openapi()
    components = {"components": schema["components"]}
    bodies = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
                bodies += 1
                assert "example" in media, (method, path, media_type)
                if media_type == "multipart/form-data":
                    continue  # a file's bytes are no JSON value
                resolver = {**media["schema"], **components}
                jsonschema.validate(media["example"], resolver)
    assert bodies > 25
