"""Database commands per route: every route of API.md (but the pending sections) on MongoDB
(SecantusDB), counted with pymongo command monitoring, against ONE budget table.

A row's setup runs twice: the first request warms the route (indexes, caches) and is not
counted; only the commands the second request causes are. The failure lists every route over
its budget with the commands it sent (name and collection).

`AUTH` is what authenticating a bearer costs: today the user and the session family (2).
When the zero-read authentication cache lands, set `AUTH = 0`; the intended steady-state
budgets are then the `n` of each `AUTH + n` (authenticated reads: 1 plus what the answer
needs; the first enrolment at most 4; each write its aggregate's read plus its write(s)).
`docs/performance.md` holds this table rendered; a test keeps the two in sync.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from pymongo import AsyncMongoClient, monitoring

from ocp.container import Container
from ocp.domain.users import Role
from tests.builders import (
    PASSWORD,
    PNG,
    Account,
    a_course,
    an_assignment,
    app_client,
    login,
    signed_up,
    submit,
    test_settings,
    upload,
    work_off,
)
from tests.integration.commands import sent_by_a_request

AUTH = 0  # in the steady state authentication is answered from the caches (docs/caching.md)
DOC = Path(__file__).resolve().parents[2] / "docs" / "performance.md"
_serial = itertools.count(1)


class Commands(monitoring.CommandListener):
    """Every command the client starts: (name, collection)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not sent_by_a_request(event):
            return
        target = event.command.get(event.command_name)
        self.seen.append((event.command_name, target if isinstance(target, str) else ""))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@dataclass
class Call:
    path: str
    who: Account | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    client: httpx.AsyncClient
    container: Container
    admin: Account
    teacher: Account
    student: Account
    course_id: str
    module_id: str
    lesson_id: str
    assignment_id: str
    submission_id: str
    file_id: str

    async def someone(self, role: Role = Role.STUDENT) -> Account:
        return await signed_up(self.client, self.container, role)

    async def draft(self, lessons: int = 1) -> Any:
        return await a_course(self.client, self.teacher, lessons=lessons, publish=False)

    async def enrolled(self) -> Account:
        student = await self.someone()
        answer = await self.client.post(
            f"/api/v1/courses/{self.course_id}/enrollments", headers=student.auth
        )
        assert answer.status_code == 201, answer.text
        return student


Setup = Callable[[World], Awaitable[Call]]


@dataclass
class Row:
    method: str
    route: str
    budget: int
    setup: Setup
    note: str = ""
    status: int | None = None


def _static(path: str, who: str | None = None, **kwargs: Any) -> Setup:
    async def setup(w: World) -> Call:
        account = getattr(w, who) if who else None
        return Call(path.format(**vars(w)), account, kwargs)

    return setup


def _course_body() -> dict[str, Any]:
    n = next(_serial)
    return {
        "title": f"Budget {n}",
        "summary": "s",
        "description": "d",
        "tags": ["t"],
        "level": "beginner",
        "category": "c",
    }


async def _register(w: World) -> Call:
    body = {"email": f"new{next(_serial)}@example.com", "password": PASSWORD, "full_name": "N"}
    return Call("/api/v1/auth/register", None, {"json": body})


async def _token(w: World) -> Call:
    return Call(
        "/api/v1/auth/token", None, {"data": {"username": w.student.email, "password": PASSWORD}}
    )


async def _refresh(w: World) -> Call:
    fresh = await w.someone()
    return Call("/api/v1/auth/refresh", None, {"json": {"refresh_token": fresh.refresh_token}})


async def _logout(w: World) -> Call:
    fresh = await w.someone()
    return Call("/api/v1/auth/logout", fresh, {"json": {"refresh_token": fresh.refresh_token}})


async def _password(w: World) -> Call:
    fresh = await w.someone()
    body = {"current_password": PASSWORD, "new_password": "another good one"}
    return Call("/api/v1/users/me/password", fresh, {"json": body})


async def _new_course(w: World) -> Call:
    return Call("/api/v1/courses", w.teacher, {"json": _course_body()})


async def _publish(w: World) -> Call:
    course = await w.draft()
    return Call(f"/api/v1/courses/{course.id}/publish", w.teacher)


async def _unpublish(w: World) -> Call:
    course = await a_course(w.client, w.teacher, lessons=1)
    return Call(f"/api/v1/courses/{course.id}/unpublish", w.teacher)


async def _archive(w: World) -> Call:
    course = await a_course(w.client, w.teacher, lessons=1)
    return Call(f"/api/v1/courses/{course.id}/archive", w.teacher)


async def _delete_course(w: World) -> Call:
    course = await w.draft(lessons=0)
    return Call(f"/api/v1/courses/{course.id}", w.teacher)


async def _patch_course(w: World) -> Call:
    shown = await w.client.get(f"/api/v1/courses/{w.course_id}", headers=w.teacher.auth)
    headers = {"If-Match": shown.headers["ETag"]}
    return Call(
        f"/api/v1/courses/{w.course_id}",
        w.teacher,
        {"json": {"summary": f"s{next(_serial)}"}, "headers": headers},
    )


async def _co_instructor(w: World) -> Call:
    other = await w.someone(Role.INSTRUCTOR)
    return Call(f"/api/v1/courses/{w.course_id}/instructors/{other.id}", w.teacher)


async def _remove_instructor(w: World) -> Call:
    other = await w.someone(Role.INSTRUCTOR)
    path = f"/api/v1/courses/{w.course_id}/instructors/{other.id}"
    added = await w.client.put(path, headers=w.teacher.auth)
    assert added.status_code == 204, added.text
    return Call(path, w.teacher)


async def _delete_module(w: World) -> Call:
    course = await w.draft(lessons=0)
    return Call(f"/api/v1/courses/{course.id}/modules/{course.module_id}", w.teacher)


async def _module_order(w: World) -> Call:
    course = await w.draft(lessons=0)
    return Call(
        f"/api/v1/courses/{course.id}/modules/order",
        w.teacher,
        {"json": {"module_ids": [course.module_id]}},
    )


async def _lesson_order(w: World) -> Call:
    path = f"/api/v1/courses/{w.course_id}/modules/{w.module_id}/lessons/order"
    return Call(path, w.teacher, {"json": {"lesson_ids": [w.lesson_id]}})


async def _add_lesson(w: World) -> Call:
    course = await w.draft(lessons=0)
    path = f"/api/v1/courses/{course.id}/modules/{course.module_id}/lessons"
    return Call(path, w.teacher, {"json": {"title": "L", "kind": "text", "body_markdown": "b"}})


async def _delete_lesson(w: World) -> Call:
    course = await w.draft(lessons=1)
    return Call(f"/api/v1/lessons/{course.lesson_ids[0]}", w.teacher)


async def _enrol_first(w: World) -> Call:
    return Call(f"/api/v1/courses/{w.course_id}/enrollments", await w.someone())


async def _bulk(w: World) -> Call:
    emails = [(await w.someone()).email for _ in range(3)]
    return Call(
        f"/api/v1/courses/{w.course_id}/enrollments/bulk", w.teacher, {"json": {"emails": emails}}
    )


async def _leave(w: World) -> Call:
    return Call(f"/api/v1/courses/{w.course_id}/enrollments/me", await w.enrolled())


async def _complete(w: World) -> Call:
    return Call(f"/api/v1/lessons/{w.lesson_id}/completion", await w.enrolled())


async def _uncomplete(w: World) -> Call:
    student = await w.enrolled()
    done = await w.client.put(f"/api/v1/lessons/{w.lesson_id}/completion", headers=student.auth)
    assert done.status_code == 204, done.text
    return Call(f"/api/v1/lessons/{w.lesson_id}/completion", student)


async def _review(w: World) -> Call:
    return Call(
        f"/api/v1/courses/{w.course_id}/reviews/me",
        await w.enrolled(),
        {"json": {"rating": 4, "comment": "good"}},
    )


async def _submit(w: World) -> Call:
    return Call(
        f"/api/v1/assignments/{w.assignment_id}/submissions", w.student, {"json": {"text": "again"}}
    )


async def _grade(w: World) -> Call:
    made = await submit(w.client, w.student, w.assignment_id)
    assert made.status_code == 201, made.text
    return Call(
        f"/api/v1/submissions/{made.json()['id']}/grade",
        w.teacher,
        {"json": {"points": 7, "feedback": "ok"}},
    )


async def _new_assignment(w: World) -> Call:
    body = {"title": "Essay", "instructions": "Write", "max_points": 10}
    return Call(f"/api/v1/courses/{w.course_id}/assignments", w.teacher, {"json": body})


async def _delete_assignment(w: World) -> Call:
    made = await an_assignment(w.client, w.teacher, _Built(w.course_id))
    return Call(f"/api/v1/assignments/{made['id']}", w.teacher)


async def _end_session(w: World) -> Call:
    other = await login(w.client, w.student.email)
    mine = await w.client.get("/api/v1/users/me/sessions", headers=other.auth)
    ended = next(i["id"] for i in mine.json()["items"] if i["current"])
    return Call(f"/api/v1/users/me/sessions/{ended}", w.student)


async def _end_their_session(w: World) -> Call:
    other = await login(w.client, w.student.email)
    theirs = await w.client.get("/api/v1/users/me/sessions", headers=other.auth)
    ended = next(i["id"] for i in theirs.json()["items"] if i["current"])
    return Call(f"/api/v1/users/{w.student.id}/sessions/{ended}", w.admin)


async def _email_change(w: World) -> Call:
    who = await w.someone()
    body = {"new_email": f"moved{next(_serial)}@example.com", "current_password": PASSWORD}
    return Call("/api/v1/users/me/email", who, {"json": body})


async def _email_confirm(w: World) -> Call:
    who = await w.someone()
    body = {"new_email": f"moved{next(_serial)}@example.com", "current_password": PASSWORD}
    asked = await w.client.post("/api/v1/users/me/email", json=body, headers=who.auth)
    assert asked.status_code == 202, asked.text
    await work_off(w.container)
    mail = w.container.mailer().sent[-1]
    token = mail.text.split("Your token:\n\n  ")[1].split("\n")[0]
    return Call("/api/v1/users/me/email/confirm", None, {"json": {"token": token}})


async def _delete_me(w: World) -> Call:
    return Call("/api/v1/users/me", await w.someone(), {"json": {"current_password": PASSWORD}})


async def _delete_user(w: World) -> Call:
    return Call(f"/api/v1/users/{(await w.someone()).id}", w.admin)


async def _restore_course(w: World) -> Call:
    course = await w.draft(lessons=1)
    gone = await w.client.delete(f"/api/v1/courses/{course.id}", headers=w.teacher.auth)
    assert gone.status_code == 204, gone.text
    return Call(f"/api/v1/courses/{course.id}/restore", w.admin)


async def _restore_lesson(w: World) -> Call:
    course = await w.draft(lessons=1)
    lesson = course.lesson_ids[0]
    gone = await w.client.delete(f"/api/v1/lessons/{lesson}", headers=w.teacher.auth)
    assert gone.status_code == 204, gone.text
    return Call(f"/api/v1/lessons/{lesson}/restore", w.admin)


async def _restore_assignment(w: World) -> Call:
    made = await an_assignment(w.client, w.teacher, _Built(w.course_id))
    path = f"/api/v1/assignments/{made['id']}"
    assert (await w.client.delete(path, headers=w.teacher.auth)).status_code == 204
    return Call(f"{path}/restore", w.admin)


async def _upload(w: World) -> Call:
    return Call("/api/v1/files", w.student, {"upload": ("avatar", None)})


async def _delete_file(w: World) -> Call:
    made = await upload(w.client, w.student, PNG, "avatar")
    assert made.status_code == 201, made.text
    return Call(f"/api/v1/files/{made.json()['id']}", w.student)


async def _direct_upload(w: World) -> Call:
    body = {"filename": "a.png", "size": len(PNG), "content_type": "image/png", "purpose": "avatar"}
    return Call("/api/v1/files/uploads", w.student, {"json": body})


@dataclass
class _Built:
    id: str


# (method, route template, budget, setup): the budget is what the route may send today.
# Intended steady state (AUTH = 0): reads 1 + what the answer needs, writes their aggregate's
# read + their write(s), the first enrolment 4; a write that raises an event adds EVENT: the
# event inserted prepared before the write, and committed after the answer (docs/events.md).
EVENT = 2
# Every POST under /api/v1 counts a hit against its rate limit (two for the mail requests:
# per email and per client address): one $inc, and an insert when it is its window's first
# hit (docs/retries.md), so up to two commands.
LIMIT = 2
# An audited change's event also becomes an audit entry when it is fanned out (one insert,
# after the answer): docs/events.md.
AUDITED = EVENT + 1
_BAD_RESET = {"token": "x" * 40, "new_password": "a good password"}
_RENAME = {"title": "Renamed"}

# fmt: off
ROUTES: list[Row] = [
    Row("GET", "/healthz", 0, _static("/healthz"), "nothing"),
    Row("GET", "/readyz", 1, _static("/readyz"), "ping"),
    Row("POST", "/api/v1/auth/register", 1 + EVENT + LIMIT, _register,
        "insert (the unique email index decides) + user.created", 201),
    Row("POST", "/api/v1/auth/token", 5 + LIMIT, _token,
        "throttle + user + throttle clear + session + refresh token", 200),
    Row("POST", "/api/v1/auth/refresh", 5, _refresh,
        "spend token + session + user + session touch + new token", 200),
    Row("POST", "/api/v1/auth/logout", AUTH + 3, _logout,
        "refresh token + its session + revoke (AUTH read one already)", 204),
    Row("POST", "/api/v1/auth/password-reset/request", 1 + 2 * LIMIT,
        _static("/api/v1/auth/password-reset/request", json={"email": "nobody@example.com"}),
        "a job for the worker (known or not: the same insert)", 202),
    Row("POST", "/api/v1/auth/password-reset/confirm", 1,
        _static("/api/v1/auth/password-reset/confirm", json=_BAD_RESET),
        "bad token: one lookup", 400),
    Row("POST", "/api/v1/auth/verify-email/request", AUTH + 1 + 2 * LIMIT,
        _static("/api/v1/auth/verify-email/request", "student"),
        "a job for the worker", 202),
    Row("POST", "/api/v1/auth/verify-email/confirm", 1,
        _static("/api/v1/auth/verify-email/confirm", json={"token": "x" * 40}),
        "bad token: one lookup", 400),
    Row("GET", "/api/v1/users/me", AUTH + 0, _static("/api/v1/users/me", "student"),
        "the user is the caller", 200),
    Row("PATCH", "/api/v1/users/me", AUTH + 2,
        _static("/api/v1/users/me", "student", json={"bio": "hi"}),
        "user (the last write made the cache forget it) + update", 200),
    Row("POST", "/api/v1/users/me/password", AUTH + 3 + LIMIT, _password,
        "failed tries + user + revoke others", 204),
    Row("POST", "/api/v1/users/me/email", AUTH + 3 + LIMIT, _email_change,
        "failed tries + address free? + queue the mail job", 202),
    Row("POST", "/api/v1/users/me/email/confirm", 6 + LIMIT, _email_confirm,
        "token + user + address free? + update + end other sessions + queue the notice", 204),
    Row("GET", "/api/v1/users/me/sessions", AUTH + 1, _static("/api/v1/users/me/sessions",
        "student"), "the caller's sessions", 200),
    Row("DELETE", "/api/v1/users/me/sessions/{id}", AUTH + 2, _end_session,
        "session live and mine? + revoke", 204),
    Row("GET", "/api/v1/users/me/export", AUTH + 5 + LIMIT, _static("/api/v1/users/me/export",
        "student"), "sessions + enrolments + submissions + reviews + files", 200),
    Row("DELETE", "/api/v1/users/me", AUTH + 5 + AUDITED, _delete_me,
        "failed tries + files + mailed tokens + update + end sessions + user.deleted", 204),
    Row("DELETE", "/api/v1/users/{id}", AUTH + 5 + AUDITED, _delete_user,
        "user + files + mailed tokens + update + end sessions + user.deleted", 204),
    Row("GET", "/api/v1/users/{id}/sessions", AUTH + 2,
        _static("/api/v1/users/{student.id}/sessions", "admin"), "user + their sessions", 200),
    Row("DELETE", "/api/v1/users/{id}/sessions/{session_id}", AUTH + 2, _end_their_session,
        "session live and theirs? + revoke", 204),
    Row("GET", "/api/v1/users/{id}/export", AUTH + 6 + LIMIT,
        _static("/api/v1/users/{student.id}/export", "admin"),
        "user + sessions + enrolments + submissions + reviews + files", 200),
    Row("GET", "/api/v1/audit", AUTH + 1, _static("/api/v1/audit", "admin"), "page", 200),
    Row("GET", "/api/v1/users", AUTH + 1, _static("/api/v1/users", "admin"), "page", 200),
    Row("GET", "/api/v1/users/{id}", AUTH + 1, _static("/api/v1/users/{student.id}", "admin"),
        "user", 200),
    Row("PATCH", "/api/v1/users/{id}", AUTH + 2 + AUDITED,
        _static("/api/v1/users/{teacher.id}", "admin", json={"role": "instructor"}),
        "user + update + user.role_changed", 200),
    Row("POST", "/api/v1/courses", AUTH + 1 + LIMIT, _new_course,
        "insert (the unique slug index decides)", 201),
    Row("GET", "/api/v1/courses", 1, _static("/api/v1/courses"), "page", 200),
    Row("GET", "/api/v1/courses/{id_or_slug}", 0, _static("/api/v1/courses/{course_id}"),
        "nothing: the course is cached", 200),
    Row("PATCH", "/api/v1/courses/{id}", AUTH + 2, _patch_course, "course + update", 200),
    Row("POST", "/api/v1/courses/{id}/publish", AUTH + 2 + AUDITED + LIMIT, _publish,
        "course + update + course.published", 200),
    Row("POST", "/api/v1/courses/{id}/unpublish", AUTH + 2 + AUDITED + LIMIT, _unpublish,
        "course + update", 200),
    Row("POST", "/api/v1/courses/{id}/archive", AUTH + 2 + AUDITED + LIMIT, _archive,
        "course + update + course.archived", 200),
    Row("DELETE", "/api/v1/courses/{id}", AUTH + 7 + AUDITED, _delete_course,
        "course + any enrollment? + its lessons + its assignments + trash + delete course "
        "+ delete its lessons + course.deleted", 204),
    Row("PUT", "/api/v1/courses/{id}/instructors/{user_id}", AUTH + 3 + AUDITED,
        _co_instructor, "course + user + update + course.instructor_added", 204),
    Row("DELETE", "/api/v1/courses/{id}/instructors/{user_id}", AUTH + 2 + AUDITED,
        _remove_instructor, "course + update + course.instructor_removed", 204),
    Row("POST", "/api/v1/courses/{id}/restore", AUTH + 5 + LIMIT, _restore_course,
        "trash + course? + insert course + its lesson + take from the trash", 200),
    Row("POST", "/api/v1/lessons/{lesson_id}/restore", AUTH + 5 + LIMIT, _restore_lesson,
        "trash + course + insert lesson + outline update + take from the trash", 200),
    Row("POST", "/api/v1/assignments/{assignment_id}/restore", AUTH + 4 + LIMIT,
        _restore_assignment, "trash + course + insert + take from the trash", 200),
    Row("POST", "/api/v1/courses/{id}/modules", AUTH + 2 + LIMIT,
        _static("/api/v1/courses/{course_id}/modules", "teacher", json={"title": "More"}),
        "course + update", 201),
    Row("GET", "/api/v1/courses/{id}/modules", 0,
        _static("/api/v1/courses/{course_id}/modules"),
        "nothing: the course is cached", 200),
    Row("PATCH", "/api/v1/courses/{id}/modules/{module_id}", AUTH + 2,
        _static("/api/v1/courses/{course_id}/modules/{module_id}", "teacher", json=_RENAME),
        "course + update", 200),
    Row("DELETE", "/api/v1/courses/{id}/modules/{module_id}", AUTH + 4, _delete_module,
        "course + its lessons (one read) + trash + update", 204),
    Row("PUT", "/api/v1/courses/{id}/modules/order", AUTH + 2, _module_order,
        "course + update", 200),
    Row("POST", "/api/v1/courses/{id}/modules/{module_id}/lessons", AUTH + 3 + LIMIT, _add_lesson,
        "course + lesson insert + outline update", 201),
    Row("PUT", "/api/v1/courses/{id}/modules/{module_id}/lessons/order", AUTH + 2, _lesson_order,
        "course + update", 200),
    Row("GET", "/api/v1/lessons/{lesson_id}", AUTH + 3,
        _static("/api/v1/lessons/{lesson_id}", "student"),
        "lesson + course + enrollment", 200),
    Row("PATCH", "/api/v1/lessons/{lesson_id}", AUTH + 4,
        _static("/api/v1/lessons/{lesson_id}", "teacher", json={"title": "Renamed"}),
        "lesson + course + lesson update + outline update", 200),
    Row("DELETE", "/api/v1/lessons/{lesson_id}", AUTH + 5, _delete_lesson,
        "lesson + course + trash + outline update + lesson delete", 204),
    Row("POST", "/api/v1/courses/{id}/enrollments", AUTH + 3 + EVENT + LIMIT, _enrol_first,
        "first enrolment: course + insert + seat (one update) + enrollment.created", 201),
    Row("POST", "/api/v1/courses/{id}/enrollments/bulk", AUTH + 5 + EVENT + LIMIT, _bulk,
        "course + users + enrollments + seats + insert + enrollment.created each", 200),
    Row("DELETE", "/api/v1/courses/{id}/enrollments/me", AUTH + 4 + EVENT, _leave,
        "course + enrollment (the event's data) + delete + seat back + enrollment.dropped",
        204),
    Row("GET", "/api/v1/courses/{id}/enrollments", AUTH + 3,
        _static("/api/v1/courses/{course_id}/enrollments", "teacher"),
        "course + page + users", 200),
    Row("GET", "/api/v1/users/me/enrollments", AUTH + 2,
        _static("/api/v1/users/me/enrollments", "student"),
        "page + courses", 200),
    Row("PUT", "/api/v1/lessons/{lesson_id}/completion", AUTH + 4 + EVENT, _complete,
        "lesson + course + enrollment + update + lesson.completed", 204),
    Row("DELETE", "/api/v1/lessons/{lesson_id}/completion", AUTH + 4, _uncomplete,
        "lesson + course + enrollment + update", 204),
    Row("GET", "/api/v1/courses/{id}/progress", AUTH + 2,
        _static("/api/v1/courses/{course_id}/progress", "student"),
        "course + enrollment", 200),
    Row("PUT", "/api/v1/courses/{id}/reviews/me", AUTH + 6 + EVENT, _review,
        "course + enrollment + review + upsert + rating (2) + review.created", 200),
    Row("GET", "/api/v1/courses/{id}/reviews", 1,
        _static("/api/v1/courses/{course_id}/reviews"),
        "page (the course is cached)", 200),
    Row("POST", "/api/v1/courses/{id}/assignments", AUTH + 2 + LIMIT, _new_assignment,
        "course + insert", 201),
    Row("GET", "/api/v1/courses/{id}/assignments", AUTH + 3,
        _static("/api/v1/courses/{course_id}/assignments", "student"),
        "course + enrollment + list", 200),
    Row("GET", "/api/v1/assignments/{assignment_id}", AUTH + 3,
        _static("/api/v1/assignments/{assignment_id}", "student"),
        "assignment + course + enrollment", 200),
    Row("PATCH", "/api/v1/assignments/{assignment_id}", AUTH + 3,
        _static("/api/v1/assignments/{assignment_id}", "teacher", json={"title": "Essay 2"}),
        "assignment + course + update", 200),
    Row("DELETE", "/api/v1/assignments/{assignment_id}", AUTH + 5, _delete_assignment,
        "assignment + course + any submission? + trash + delete", 204),
    Row("POST", "/api/v1/assignments/{assignment_id}/submissions", AUTH + 7 + EVENT + LIMIT,
        _submit,
        "assignment + course + enrollment + attempt no. + insert + latest flag (2) "
        "+ submission.created", 201),
    Row("GET", "/api/v1/assignments/{assignment_id}/submissions", AUTH + 3,
        _static("/api/v1/assignments/{assignment_id}/submissions", "teacher"),
        "assignment + course + page", 200),
    Row("GET", "/api/v1/submissions/{submission_id}", AUTH + 2,
        _static("/api/v1/submissions/{submission_id}", "student"),
        "submission + course", 200),
    Row("PUT", "/api/v1/submissions/{submission_id}/grade", AUTH + 4 + AUDITED, _grade,
        "submission + assignment + course + update + submission.graded", 200),
    Row("GET", "/api/v1/courses/{id}/gradebook", AUTH + 5,
        _static("/api/v1/courses/{course_id}/gradebook", "teacher"),
        "course + assignments + roster + submissions + users", 200),
    Row("GET", "/api/v1/courses/{id}/grades/me", AUTH + 4,
        _static("/api/v1/courses/{course_id}/grades/me", "student"),
        "course + enrollment + assignments + grades", 200),
    Row("POST", "/api/v1/files", AUTH + 1 + EVENT + LIMIT, _upload, "insert + file.created", 201),
    Row("GET", "/api/v1/files", AUTH + 1, _static("/api/v1/files", "teacher"), "page", 200),
    Row("GET", "/api/v1/files/{id}", AUTH + 3, _static("/api/v1/files/{file_id}", "student"),
        "file + course + enrollment", 200),
    Row("GET", "/api/v1/files/{id}/content", AUTH + 3,
        _static("/api/v1/files/{file_id}/content", "student"),
        "file + course + enrollment", 200),
    Row("DELETE", "/api/v1/files/{id}", AUTH + 2, _delete_file,
        "file + delete (an avatar: no lesson to ask)", 204),
    Row("POST", "/api/v1/files/uploads", AUTH + 1 + LIMIT, _direct_upload, "insert", 201),
]
# fmt: on


async def _send(w: World, row: Row, call: Call) -> httpx.Response:
    headers = dict(call.kwargs.pop("headers", {}))
    if call.who:
        headers |= call.who.auth
    if "upload" in call.kwargs:
        purpose, course = call.kwargs.pop("upload")
        assert call.who is not None
        return await upload(w.client, call.who, PNG, purpose, course)
    return await w.client.request(row.method, call.path, headers=headers, **call.kwargs)


@pytest.fixture
async def world(tmp_path: Path, mongo_uri: str) -> Any:
    commands = Commands()
    settings = test_settings(
        tmp_path, database="mongo", mongodb_uri=mongo_uri, mongodb_db=f"budget_{next(_serial)}"
    )
    container = Container.for_settings(settings)
    container.mongo_client.override(
        providers.Singleton(
            lambda: AsyncMongoClient(mongo_uri, tz_aware=True, event_listeners=[commands])
        )
    )
    async with app_client(container) as client:
        admin = await signed_up(client, container, Role.ADMIN)
        teacher = await signed_up(client, container, Role.INSTRUCTOR)
        course = await a_course(client, teacher, lessons=1)
        student = await signed_up(client, container)
        joined = await client.post(f"/api/v1/courses/{course.id}/enrollments", headers=student.auth)
        assert joined.status_code == 201, joined.text
        assignment = await an_assignment(client, teacher, course)
        made = await submit(client, student, assignment["id"])
        assert made.status_code == 201, made.text
        stored = await upload(client, teacher, PNG, "lesson_material", course.id)
        assert stored.status_code == 201, stored.text
        yield (
            World(
                client,
                container,
                admin,
                teacher,
                student,
                course.id,
                course.module_id,
                course.lesson_ids[0],
                assignment["id"],
                made.json()["id"],
                stored.json()["id"],
            ),
            commands,
        )


async def measure(w: World, commands: Commands) -> dict[str, list[tuple[str, str]]]:
    """The commands each row's second request sent, by row key."""
    seen = {}
    for row in ROUTES:
        for attempt in range(2):
            call = await row.setup(w)
            # The steady state: the changes the setup made have reached the caches through
            # the change stream (a few ms; docs/caching.md) before anything is counted.
            await asyncio.sleep(0.05)
            commands.seen.clear()
            answer = await _send(w, row, call)
            if row.status is not None:
                assert answer.status_code == row.status, (row.route, answer.text)
            if attempt:
                seen[f"{row.method} {row.route}"] = list(commands.seen)
    return seen


async def test_no_route_sends_more_database_commands_than_its_budget(world):
    w, commands = world
    seen = await measure(w, commands)
    over = [
        f"{row.method} {row.route}: {len(sent)} > {row.budget}: "
        + ", ".join(f"{name} {coll}" for name, coll in sent)
        for row in ROUTES
        if len(sent := seen[f"{row.method} {row.route}"]) > row.budget
    ]
    assert not over, "routes over their command budget:\n" + "\n".join(over)


def render() -> str:
    lines = [
        "| method | route | budget | what it pays for |",
        "|---|---|---|---|",
    ]
    for row in ROUTES:
        uses_auth = f"{row.method} {row.route}" not in _ANONYMOUS
        cost = str(row.budget) if not uses_auth or AUTH == 0 else f"AUTH + {row.budget - AUTH}"
        lines.append(f"| {row.method} | `{row.route}` | {cost} | {row.note} |")
    return "\n".join(lines)


_ANONYMOUS = {
    "GET /healthz",
    "GET /readyz",
    "POST /api/v1/auth/register",
    "POST /api/v1/auth/token",
    "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/password-reset/request",
    "POST /api/v1/auth/password-reset/confirm",
    "POST /api/v1/auth/verify-email/confirm",
    "GET /api/v1/courses",
    "GET /api/v1/courses/{id_or_slug}",
    "GET /api/v1/courses/{id}/modules",
    "GET /api/v1/courses/{id}/reviews",
}


def test_docs_performance_holds_the_budget_table():
    assert render() in DOC.read_text(), (
        "docs/performance.md is out of date; paste the table printed by "
        "`python -c 'from tests.integration.test_command_budget import render; print(render())'`"
    )


async def test_a_reset_request_does_the_same_work_for_a_known_and_an_unknown_address(world):
    """No user enumeration by timing: the request path of a reset for an address that has an
    account sends exactly the database commands of one for an address that has none (one job
    insert; the lookup is the worker's), 50 tries each, interleaved. The p50 of each is
    printed (`pytest -s`) for the closing note; timings are never asserted."""
    w, commands = world
    known = w.student.email
    await w.container.event_recorder().settled()  # the set-up's own events, committed
    seen: dict[str, list[list[tuple[str, str]]]] = {"known": [], "unknown": []}
    took: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(50):
        for kind, email in (("known", known), ("unknown", f"nobody{n}@example.com")):
            commands.seen.clear()
            began = time.perf_counter()
            answer = await w.client.post(
                "/api/v1/auth/password-reset/request", json={"email": email}
            )
            took[kind].append(time.perf_counter() - began)
            assert answer.status_code == 202 and answer.content == b""
            seen[kind].append(list(commands.seen))
    # The rate-limit counts depend on window boundaries, not on the account: set aside.
    work = {
        kind: [[c for c in sent if c[1] != "rate_limits"] for sent in runs]
        for kind, runs in seen.items()
    }
    assert work["known"] == work["unknown"]
    assert work["known"][0] == [("insert", "jobs")]
    print(
        "reset request p50: known "
        f"{statistics.median(took['known']) * 1000:.2f} ms, unknown "
        f"{statistics.median(took['unknown']) * 1000:.2f} ms"
    )
