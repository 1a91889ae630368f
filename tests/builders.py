"""Builders shared by the suites: settings for tests, the use cases on the in-memory stores
(wired by the real composition root), an app client, users with tokens, courses and files."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from dependency_injector import providers

from ocp.adapters.memory.clock import ManualClock
from ocp.application.courses import (
    CatalogService,
    CourseDraft,
    CourseService,
    LessonDraft,
    OutlineService,
)
from ocp.application.files import DirectUploadService, FileService, UploadService
from ocp.application.identity import AdminService, PasswordService, ProfileService, SessionService
from ocp.application.learning import (
    AssignmentService,
    EnrollmentService,
    GradebookService,
    ProgressService,
    ReviewService,
)
from ocp.application.ports.stores import Stores
from ocp.container import Container
from ocp.domain.courses import Course, LessonKind
from ocp.domain.files import FilePurpose, StoredFile
from ocp.domain.users import Email, Role, User
from ocp.entrypoints.http.app import create_app
from ocp.settings import Settings

JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
PASSWORD = "correct horse battery"
_serial = itertools.count(1)


def test_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database": "memory",
        "mail": "memory",
        "file_store": "memory",
        "bcrypt_rounds": 4,
        "jwt_secret": JWT_SECRET,
        "data_dir": data_dir,
        "metrics_max_age_s": 0,  # tests read their own requests back at once
        # The worker's work is done by `work_off` when a test says so, not in the background.
        "worker_in_process": False,
        # Suites register many accounts from one address; the limits' own tests set theirs.
        "rate_limit_register": "1000000/hour",
        "rate_limit_login": "1000000/minute",
        "rate_limit_mail": "1000000/hour",
        "rate_limit_writes": "1000000/minute",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


test_settings.__test__ = False  # a builder, not a test, wherever it is imported


def a_user(role: Role = Role.STUDENT, email: str | None = None, **fields: Any) -> User:
    n = next(_serial)
    return User.register(
        id=fields.pop("id", f"user{n:06d}"),
        email=Email(email or f"user{n}@example.com"),
        name=fields.pop("name", f"User {n}"),
        password_hash=fields.pop("password_hash", "hash"),
        now=fields.pop("now", datetime(2026, 1, 31, 12, 0, tzinfo=UTC)),
        role=role,
    )


@dataclass
class UseCases:
    """The application's use cases on the in-memory stores, as the composition root wires them
    (settings from `test_settings`), with a clock the test moves."""

    container: Container
    clock: ManualClock

    @property
    def stores(self) -> Stores:
        stores: Stores = self.container.stores()
        return stores

    @property
    def sessions(self) -> SessionService:
        return self.container.session_service()

    @property
    def passwords(self) -> PasswordService:
        return self.container.password_service()

    @property
    def profiles(self) -> ProfileService:
        return self.container.profile_service()

    @property
    def admin(self) -> AdminService:
        return self.container.admin_service()

    @property
    def courses(self) -> CourseService:
        return self.container.course_service()

    @property
    def outline(self) -> OutlineService:
        return self.container.outline_service()

    @property
    def catalog(self) -> CatalogService:
        return self.container.catalog_service()

    @property
    def uploads(self) -> UploadService:
        return self.container.upload_service()

    @property
    def direct_uploads(self) -> DirectUploadService:
        return self.container.direct_upload_service()

    @property
    def files(self) -> FileService:
        return self.container.file_service()

    @property
    def enrollment(self) -> EnrollmentService:
        return self.container.enrollment_service()

    @property
    def progress(self) -> ProgressService:
        return self.container.progress_service()

    @property
    def assignments(self) -> AssignmentService:
        return self.container.assignment_service()

    @property
    def grades(self) -> GradebookService:
        return self.container.gradebook_service()

    @property
    def reviews(self) -> ReviewService:
        return self.container.review_service()

    async def work_off(self) -> None:
        """What the worker would have done by now (see `work_off`)."""
        await work_off(self.container)


async def work_off(container: Container, *, deliveries: bool = True) -> None:
    """Do what the worker would do by now: every due job (mail, bulk enrollments), events
    fanned out, due deliveries attempted once each."""
    runner = container.job_runner()
    dispatcher = container.dispatcher()
    await container.event_recorder().settled()
    while await runner.run_next() is not None:
        pass
    await container.event_recorder().settled()
    while await dispatcher.fan_out():
        pass
    if deliveries:
        while await dispatcher.deliver_next() is not None:
            pass


def use_cases(data_dir: Path, **settings: Any) -> UseCases:
    """Every use case on fresh in-memory stores; `settings` as for `test_settings`."""
    container = Container.for_settings(test_settings(data_dir, **settings))
    clock = ManualClock()
    container.clock.override(providers.Object(clock))
    return UseCases(container, clock)


async def a_member(app: UseCases, role: Role = Role.STUDENT, name: str | None = None) -> User:
    """A registered account of this role."""
    n = next(_serial)
    return await app.profiles.register(
        f"{role.value}{n}@example.com", PASSWORD, name or f"{role.value.title()} {n}", role=role
    )


async def a_published_course(
    app: UseCases,
    owner: User,
    *,
    title: str = "A course",
    lessons: int = 1,
    capacity: int | None = None,
    preview: bool = False,
) -> Course:
    """A course of `owner` with one module of `lessons` text lessons (the first a preview when
    `preview`), published."""
    course = await app.courses.create_course(owner, CourseDraft(title, capacity=capacity))
    _, module = await app.outline.add_module(owner, course.id, "Module")
    for n in range(lessons):
        draft = LessonDraft(f"Lesson {n + 1}", LessonKind.TEXT, is_preview=preview and n == 0)
        await app.outline.add_lesson(owner, course.id, module.id, draft)
    return await app.courses.publish(owner, course.id)


async def a_stored_file(
    app: UseCases,
    owner: User,
    purpose: FilePurpose,
    course_id: str | None = None,
    content_type: str = "image/png",
) -> StoredFile:
    """A file record as an upload of `owner` leaves it (the bytes are not needed here)."""
    n = next(_serial)
    file = StoredFile(
        id=f"file{n:08d}",
        owner_id=owner.id,
        purpose=purpose,
        filename=f"file{n}",
        content_type=content_type,
        size=1,
        sha256="0" * 64,
        storage_key=f"file{n:08d}",
        created_at=app.clock.now(),
        course_id=course_id,
    )
    await app.stores.files.add(file)
    return file


@asynccontextmanager
async def app_client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@dataclass
class Account:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Account:
    response = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    return Account(
        me.json()["id"], email, password, tokens["access_token"], tokens["refresh_token"]
    )


async def signed_up(
    client: httpx.AsyncClient,
    container: Container,
    role: Role = Role.STUDENT,
    email: str | None = None,
    name: str | None = None,
) -> Account:
    """A user registered through the API (or the service, for staff roles), logged in."""
    n = next(_serial)
    email = email or f"{role.value}{n}@example.com"
    if role is Role.STUDENT:
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": name or f"Student {n}"},
        )
        assert response.status_code == 201, response.text
    else:
        await container.profile_service().register(
            email, PASSWORD, name or f"{role.value.title()} {n}", role=role
        )
    return await login(client, email)


# --- courses over the use cases, for HTTP tests of what depends on them ----------------------


async def actor_of(container: Container, account: Account) -> User:
    """The user behind a signed-up account, as the use cases take it."""
    user: User | None = await container.users().get(account.id)
    assert user is not None
    return user


async def a_course_of(container: Container, teacher: Account, title: str = "Files 101") -> str:
    """A draft course owned by `teacher` (an instructor); its id."""
    owner = await actor_of(container, teacher)
    return (await container.course_service().create_course(owner, CourseDraft(title))).id


async def a_lesson_in(
    container: Container,
    teacher: Account,
    course_id: str,
    file_id: str | None = None,
    *,
    preview: bool = False,
) -> str:
    """A new module with one lesson (a file lesson when `file_id` is given); the lesson's id."""
    outline, owner = container.outline_service(), await actor_of(container, teacher)
    _, module = await outline.add_module(owner, course_id, "M")
    kind = LessonKind.FILE if file_id else LessonKind.TEXT
    draft = LessonDraft(title="L", kind=kind, file_id=file_id, is_preview=preview)
    return (await outline.add_lesson(owner, course_id, module.id, draft)).id


async def published(container: Container, teacher: Account, course_id: str) -> None:
    """Publish the course, giving it a first lesson if it has none."""
    owner = await actor_of(container, teacher)
    course = await container.course_service().get_course(owner, course_id)
    if course.lesson_count == 0:
        await a_lesson_in(container, teacher, course_id)
    await container.course_service().publish(owner, course_id)


async def enrolled_in(container: Container, student: Account, course_id: str) -> None:
    await container.enrollment_service().enroll(await actor_of(container, student), course_id)


# --- file bodies -------------------------------------------------------------------------------

PDF = b"%PDF-1.7\n" + b"x" * 500 + b"\n%%EOF\n"
BOUNDARY = "ocp-test-boundary-7MA4YWxkTrZu0gW"
FORM = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def multipart(*parts: tuple[str, bytes, dict[str, str] | None]) -> bytes:
    """A multipart body from (name, value, extra disposition params) in the given order;
    a part with a `filename` param is a file part."""
    out = bytearray()
    for name, value, params in parts:
        disposition = f'form-data; name="{name}"'
        for key, raw in (params or {}).items():
            if key == "type":
                continue
            disposition += f'; {key}="{raw}"'
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if params and "filename" in params:
            out += b"Content-Type: " + params.get("type", "application/octet-stream").encode()
            out += b"\r\n"
        out += b"\r\n" + value + b"\r\n"
    out += f"--{BOUNDARY}--\r\n".encode()
    return bytes(out)


def file_part(
    data: bytes, filename: str = "a.bin", declared: str = "application/octet-stream"
) -> tuple[str, bytes, dict[str, str]]:
    return ("file", data, {"filename": filename, "type": declared})


async def upload(
    client: httpx.AsyncClient,
    account: Account,
    data: bytes,
    purpose: str = "lesson_material",
    course_id: str | None = None,
    **kw: str,
) -> httpx.Response:
    """POST /files as `account`, the way a browser form sends it."""
    parts = [file_part(data, kw.get("filename", "a.bin"), kw.get("declared", "x/y"))]
    parts.append(("purpose", purpose.encode(), None))
    if course_id:
        parts.append(("course_id", course_id.encode(), None))
    return await client.post(
        "/api/v1/files", content=multipart(*parts), headers={**FORM, **account.auth}
    )


def png_bytes(body: bytes = b"", width: int = 16, height: int = 16) -> bytes:
    """A PNG whose signature and IHDR chunk parse (what the sniffer checks), then `body`."""
    import struct
    import zlib

    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk + body


def course_body(title: str = "A course") -> dict[str, Any]:
    """The JSON of POST /courses: the fields every course needs."""
    return {
        "title": title,
        "summary": "s",
        "description": "d",
        "tags": [],
        "level": "beginner",
        "category": "c",
    }


PNG = png_bytes(bytes(range(200)))


# --- courses, students and work over HTTP, as a client makes them -----------------------------

API = "/api/v1/courses"


async def a_draft(client, teacher, title="Python for Data Science", **fields):
    body = {"title": title, "summary": "Learn it", "tags": ["python"], **fields}
    response = await client.post(API, json=body, headers=teacher.auth)
    assert response.status_code == 201, response.text
    return response.json()


async def a_module(client, teacher, course_id, title="Basics"):
    response = await client.post(
        f"{API}/{course_id}/modules", json={"title": title}, headers=teacher.auth
    )
    assert response.status_code == 201, response.text
    return response.json()


async def a_lesson(client, teacher, course_id, module_id, title="Intro", **fields):
    response = await client.post(
        f"{API}/{course_id}/modules/{module_id}/lessons",
        json={"title": title, "kind": "text", "body_markdown": "# Hello", **fields},
        headers=teacher.auth,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def a_published(client, teacher, title="Python for Data Science", **fields):
    course = await a_draft(client, teacher, title, **fields)
    module = await a_module(client, teacher, course["id"])
    await a_lesson(client, teacher, course["id"], module["id"], is_preview=True)
    response = await client.post(f"{API}/{course['id']}/publish", headers=teacher.auth)
    assert response.status_code == 200, response.text
    return response.json()


@dataclass
class BuiltCourse:
    id: str
    slug: str
    lesson_ids: list[str] = field(default_factory=list)
    module_id: str = ""


async def a_course(
    client: httpx.AsyncClient,
    teacher: Account,
    *,
    lessons: int = 2,
    capacity: int | None = None,
    publish: bool = True,
    title: str = "Learning 101",
    preview: bool = False,
) -> BuiltCourse:
    """A course built over HTTP: one module with `lessons` text lessons (the first a preview
    when `preview`), published by default."""
    body: dict[str, object] = {"title": title, "summary": "s", "description": "d", "tags": []}
    body |= {"level": "beginner", "category": "test"}
    if capacity is not None:
        body["capacity"] = capacity
    made = await client.post("/api/v1/courses", json=body, headers=teacher.auth)
    assert made.status_code == 201, made.text
    course = BuiltCourse(made.json()["id"], made.json()["slug"])
    module = await client.post(
        f"/api/v1/courses/{course.id}/modules", json={"title": "Week 1"}, headers=teacher.auth
    )
    assert module.status_code == 201, module.text
    course.module_id = module.json()["id"]
    for n in range(lessons):
        lesson = await client.post(
            f"/api/v1/courses/{course.id}/modules/{course.module_id}/lessons",
            json={
                "title": f"Lesson {n + 1}",
                "kind": "text",
                "body_markdown": "read me",
                "is_preview": preview and n == 0,
            },
            headers=teacher.auth,
        )
        assert lesson.status_code == 201, lesson.text
        course.lesson_ids.append(lesson.json()["id"])
    if publish:
        published = await client.post(f"/api/v1/courses/{course.id}/publish", headers=teacher.auth)
        assert published.status_code == 200, published.text
    return course


async def a_teacher(client: httpx.AsyncClient, container) -> Account:
    return await signed_up(client, container, Role.INSTRUCTOR)


async def enrolled(client: httpx.AsyncClient, container, course: BuiltCourse, **kw) -> Account:
    student = await signed_up(client, container, **kw)
    answer = await client.post(f"/api/v1/courses/{course.id}/enrollments", headers=student.auth)
    assert answer.status_code == 201, answer.text
    return student


def url(course: BuiltCourse, tail: str = "") -> str:
    return f"/api/v1/courses/{course.id}{tail}"


async def an_assignment(client, teacher, course, **fields) -> dict:
    body = {"title": "Essay", "instructions": "Write", "max_points": 10, **fields}
    made = await client.post(url(course, "/assignments"), json=body, headers=teacher.auth)
    assert made.status_code == 201, made.text
    return made.json()


async def submit(client, student, assignment_id, **body):
    return await client.post(
        f"/api/v1/assignments/{assignment_id}/submissions",
        json=body or {"text": "my work"},
        headers=student.auth,
    )
