"""A request the published document allows is one the server takes: every limit the domain
enforces on a body field is stated in the document, and a number the document calls an
integer (JSON Schema counts 10.0 as one) is taken as that integer."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ocp.domain.files import ALLOWED_TYPES, FilePurpose
from ocp.domain.learning import (
    ASSIGNMENT_TITLE_MAX_CHARS,
    MAX_FILES_LIMIT,
    MAX_POINTS_LIMIT,
    RATING_MAX,
    RATING_MIN,
)
from ocp.domain.users import FULL_NAME_MAX_CHARS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS
from tests.builders import a_course, a_teacher, enrolled, url

NAME = {"minLength": 1, "maxLength": FULL_NAME_MAX_CHARS}
PASSWORD = {"minLength": PASSWORD_MIN_CHARS, "maxLength": PASSWORD_MAX_CHARS}
POINTS = {"minimum": 1, "maximum": MAX_POINTS_LIMIT}
FILES = {"minimum": 0, "maximum": MAX_FILES_LIMIT}

LIMITS: list[tuple[str, str, dict[str, int]]] = [
    ("RegisterIn", "full_name", NAME),
    ("ProfileIn", "full_name", NAME),
    ("RegisterIn", "password", PASSWORD),
    ("PasswordResetConfirmIn", "new_password", PASSWORD),
    ("PasswordChangeIn", "new_password", PASSWORD),
    ("AssignmentIn", "title", {"minLength": 1, "maxLength": ASSIGNMENT_TITLE_MAX_CHARS}),
    ("AssignmentPatchIn", "title", {"minLength": 1, "maxLength": ASSIGNMENT_TITLE_MAX_CHARS}),
    ("AssignmentIn", "max_points", POINTS),
    ("AssignmentPatchIn", "max_points", POINTS),
    ("AssignmentIn", "max_files", FILES),
    ("AssignmentPatchIn", "max_files", FILES),
    ("ReviewIn", "rating", {"minimum": RATING_MIN, "maximum": RATING_MAX}),
    ("GradeIn", "points", {"minimum": 0}),
]


def _bounds(prop: dict[str, Any]) -> dict[str, Any]:
    """The constraints of a property, looking through `anyOf: [..., null]` (optional fields)."""
    for option in prop.get("anyOf", [prop]):
        if option.get("type") != "null":
            return option
    return prop


@pytest.fixture
async def schemas(client) -> dict[str, Any]:
    spec = (await client.get("/openapi.json")).json()
    found: dict[str, Any] = spec["components"]["schemas"]
    return found


@pytest.mark.parametrize(("schema", "field", "limits"), LIMITS)
async def test_the_document_states_each_limit_the_server_enforces(schemas, schema, field, limits):
    stated = _bounds(schemas[schema]["properties"][field])
    assert {key: stated.get(key) for key in limits} == limits


async def test_an_integer_sent_as_an_integral_json_number_is_taken(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    student = await enrolled(client, container, course)
    made = await client.post(
        url(course, "/assignments"),
        json={"title": "Essay", "max_points": 10.0, "max_files": 2.0},
        headers=teacher.auth,
    )
    assert made.status_code == 201, made.text
    assert (made.json()["max_points"], made.json()["max_files"]) == (10, 2)
    review = await client.put(
        url(course, "/reviews/me"), json={"rating": 4.0}, headers=student.auth
    )
    assert review.status_code in (200, 201), review.text
    assert review.json()["rating"] == 4


@pytest.mark.parametrize("value", [10.5, "10", True])
async def test_a_number_with_a_fraction_a_string_or_a_boolean_is_no_integer(
    client, container, value
):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    made = await client.post(
        url(course, "/assignments"),
        json={"title": "Essay", "max_points": value},
        headers=teacher.auth,
    )
    assert made.status_code == 422, made.text
    assert made.json()["errors"][0]["loc"] == ["body", "max_points"]


async def test_an_empty_cursor_is_the_first_page(client, container):
    teacher = await a_teacher(client, container)
    await a_course(client, teacher)
    first = await client.get("/api/v1/courses?cursor=")
    assert first.status_code == 200, first.text
    assert first.json()["items"]


# Text the domain refuses when it holds a control character (tabs and line breaks aside).
TEXTS = [
    ("RegisterIn", "full_name"),
    ("ProfileIn", "full_name"),
    ("CourseIn", "title"),
    ("CourseIn", "summary"),
    ("CourseIn", "description"),
    ("CourseIn", "category"),
    ("CoursePatchIn", "title"),
    ("CoursePatchIn", "summary"),
    ("CoursePatchIn", "description"),
    ("CoursePatchIn", "category"),
    ("ModuleIn", "title"),
    ("ModulePatchIn", "summary"),
    ("LessonIn", "title"),
    ("LessonPatchIn", "title"),
    ("AssignmentIn", "title"),
    ("AssignmentIn", "instructions"),
    ("AssignmentPatchIn", "title"),
    ("AssignmentPatchIn", "instructions"),
    ("SubmissionIn", "text"),
    ("GradeIn", "feedback"),
    ("ReviewIn", "comment"),
]


@pytest.mark.parametrize(("schema", "field"), TEXTS)
async def test_the_document_refuses_control_characters_where_the_server_does(
    schemas, schema, field
):
    pattern = re.compile(_bounds(schemas[schema]["properties"][field])["pattern"])
    assert pattern.search("Week 1:\tthe basics\r\nand more")
    for control in ("\x00", "\x07", "\x1b", "\x7f"):
        assert not pattern.search(f"a{control}b"), repr(control)


async def test_the_document_refuses_control_characters_in_tags(schemas):
    pattern = re.compile(schemas["CourseIn"]["properties"]["tags"]["items"]["pattern"])
    assert pattern.search("python") and not pattern.search("py\x00thon")


async def test_a_control_character_is_named_as_such_in_the_422(client, container):
    teacher = await a_teacher(client, container)
    made = await client.post(
        "/api/v1/courses", json={"title": "Bad\x07title"}, headers=teacher.auth
    )
    assert made.status_code == 422
    assert made.json()["errors"][0]["loc"] == ["body", "title"]
    assert made.json()["errors"][0]["msg"] == "must not contain control characters"


@pytest.mark.parametrize("schema", ["AssignmentIn", "AssignmentPatchIn"])
async def test_the_document_names_the_types_a_submission_may_be_limited_to(schemas, schema):
    items = _bounds(schemas[schema]["properties"]["allowed_types"])["items"]
    assert set(items["enum"]) == ALLOWED_TYPES[FilePurpose.SUBMISSION]


async def test_allowed_types_are_taken_in_any_case(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    made = await client.post(
        url(course, "/assignments"),
        json={"title": "Essay", "max_points": 10, "allowed_types": ["Application/PDF"]},
        headers=teacher.auth,
    )
    assert made.status_code == 201, made.text
    assert made.json()["allowed_types"] == ["application/pdf"]
