"""The audit trail over HTTP: every audited action leaves one entry naming who, what, the
changed fields before and after, and the request; admins read it with filters; nothing
edits it; an entry whose request died after its change is still written (the outbox)."""

from __future__ import annotations

from dependency_injector import providers

from ocp.adapters.memory.webhooks import InMemoryWebhookSender
from ocp.application.ports.events import Subject
from ocp.domain.audit import AUDITED_ACTIONS, AuditInfo
from ocp.domain.users import Role
from tests.builders import (
    a_course,
    a_member,
    a_teacher,
    an_assignment,
    enrolled,
    signed_up,
    submit,
    work_off,
)
from tests.unit.test_http_identity import assert_problem


async def _audit(client, admin, **query) -> list[dict]:
    answer = await client.get("/api/v1/audit", params=query, headers=admin.auth)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_every_audited_action_leaves_one_entry_with_who_what_and_the_request(
    client, container
):
    container.webhook_sender.override(providers.Object(InMemoryWebhookSender()))
    admin = await signed_up(client, container, Role.ADMIN)
    teacher = await a_teacher(client, container)
    colleague = await a_teacher(client, container)
    student_one = await signed_up(client, container)
    traced = {**admin.auth, "X-Request-ID": "req-role-1"}

    async def as_admin(method: str, path: str, **kw):
        answer = await client.request(method, path, headers=kw.pop("headers", admin.auth), **kw)
        assert answer.status_code < 300, answer.text
        return answer

    await as_admin(
        "PATCH", f"/api/v1/users/{student_one.id}", json={"role": "instructor"}, headers=traced
    )
    await as_admin("PATCH", f"/api/v1/users/{student_one.id}", json={"is_active": False})
    await as_admin("PATCH", f"/api/v1/users/{student_one.id}", json={"is_active": True})

    course = await a_course(client, teacher)  # published
    path = f"/api/v1/courses/{course.id}"
    for step in ("unpublish", "publish"):
        assert (await client.post(f"{path}/{step}", headers=teacher.auth)).status_code == 200
    patched = await client.patch(path, json={"capacity": 40}, headers=teacher.auth)
    assert patched.status_code == 200, patched.text
    added = await client.put(f"{path}/instructors/{colleague.id}", headers=teacher.auth)
    assert added.status_code == 204, added.text
    removed = await client.delete(f"{path}/instructors/{colleague.id}", headers=teacher.auth)
    assert removed.status_code == 204, removed.text
    assignment = await an_assignment(client, teacher, course)
    student = await enrolled(client, container, course)
    sent = await submit(client, student, assignment["id"])
    for points in (6, 8):  # graded, then re-graded
        graded = await client.put(
            f"/api/v1/submissions/{sent.json()['id']}/grade",
            json={"points": points},
            headers=teacher.auth,
        )
        assert graded.status_code == 200, graded.text
    assert (await client.post(f"{path}/archive", headers=teacher.auth)).status_code == 200
    draft = await a_course(client, teacher, publish=False, title="Scrapped")
    gone = await client.delete(f"/api/v1/courses/{draft.id}", headers=teacher.auth)
    assert gone.status_code == 204, gone.text

    hook = await as_admin(
        "POST",
        "/api/v1/webhooks",
        json={"url": "https://hooks.example.com/ocp", "events": ["course.published"]},
    )
    await as_admin("DELETE", f"/api/v1/webhooks/{hook.json()['id']}")
    await as_admin("DELETE", f"/api/v1/users/{student.id}")
    await work_off(container)

    entries = await _audit(client, admin, limit=100)
    assert {e["action"] for e in entries} == set(AUDITED_ACTIONS)
    by_action: dict[str, list[dict]] = {}
    for entry in entries:
        by_action.setdefault(entry["action"], []).append(entry)
    role = by_action["user.role_changed"][0]
    assert role["actor_id"] == admin.id and role["target_id"] == student_one.id
    assert role["target_type"] == "user" and role["request_id"] == "req-role-1"
    assert role["changes"] == {"role": ["student", "instructor"]}
    assert by_action["user.deactivated"][0]["changes"] == {"is_active": [True, False]}
    assert by_action["course.capacity_changed"][0]["changes"] == {"capacity": [None, 40]}
    assert by_action["course.unpublished"][0]["changes"] == {"status": ["published", "draft"]}
    assert len(by_action["course.published"]) == 2  # first publication, then again
    grades = [e["changes"]["points"] for e in by_action["submission.graded"]]
    assert sorted(grades, key=str) == [[6, 8], [None, 6]]
    assert by_action["course.deleted"][0]["target_id"] == draft.id
    assert by_action["user.deleted"][0]["target_id"] == student.id
    assert all(e["request_id"] for e in entries)
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)

    # Filters, and paging newest first.
    mine = await _audit(client, admin, actor_id=teacher.id, limit=100)
    assert mine and all(e["actor_id"] == teacher.id for e in mine)
    about = await _audit(client, admin, target_id=course.id, limit=100)
    assert {e["target_id"] for e in about} == {course.id} and len(about) >= 6
    archived = await _audit(client, admin, action="course.archived")
    assert [e["target_id"] for e in archived] == [course.id]
    first = await client.get("/api/v1/audit", params={"limit": 3}, headers=admin.auth)
    second = await client.get(
        "/api/v1/audit",
        params={"limit": 3, "cursor": first.json()["next_cursor"]},
        headers=admin.auth,
    )
    assert [e["id"] for e in first.json()["items"] + second.json()["items"]] == [
        e["id"] for e in entries[:6]
    ]


async def test_only_admins_read_the_trail_and_nothing_edits_it(client, container):
    admin = await signed_up(client, container, Role.ADMIN)
    student = await signed_up(client, container)
    await client.patch(f"/api/v1/users/{student.id}", json={"is_active": False}, headers=admin.auth)
    await work_off(container)
    entry = (await _audit(client, admin))[0]
    assert_problem(await client.get("/api/v1/audit"), 401)
    teacher = await a_teacher(client, container)
    assert_problem(await client.get("/api/v1/audit", headers=teacher.auth), 403)
    assert_problem(
        await client.get("/api/v1/audit", params={"action": "course.renamed"}, headers=admin.auth),
        422,
    )
    for method in ("PUT", "PATCH", "DELETE"):
        answer = await client.request(method, "/api/v1/audit", headers=admin.auth, json={})
        assert answer.status_code == 405
        answer = await client.request(method, f"/api/v1/audit/{entry['id']}", headers=admin.auth)
        assert answer.status_code in (404, 405)
    assert (await _audit(client, admin))[0] == entry


async def test_an_entry_whose_request_died_after_its_change_is_still_written(app):
    """The process died between the change and the commit of its event: the sweeper finds
    the change stored and commits the event, and with it the audit entry."""
    admin = await a_member(app, Role.ADMIN)
    target = await a_member(app)
    await app.work_off()  # their own events are settled
    recorder = app.container.event_recorder()
    log = app.container.event_log()
    info = AuditInfo(admin.id, "user", target.id, {"role": ["student", "instructor"]}, "req-x")
    event = recorder.event("user.role_changed", target, audit=info)
    await log.prepare([(Subject("users", target.id, target.version), event)], app.clock.now())
    audit = app.container.audit_service()
    assert (
        await audit.list_entries(
            admin, actor_id=None, target_id=None, action=None, cursor=None, limit=10
        )
    ).items == []
    app.clock.advance(31)
    assert await app.container.dispatcher().sweep() == 1
    await app.work_off()
    found = await audit.list_entries(
        admin, actor_id=admin.id, target_id=None, action=None, cursor=None, limit=10
    )
    assert [(e.id, e.request_id) for e in found.items] == [(event.id, "req-x")]
