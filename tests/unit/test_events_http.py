"""The webhook, event and job routes as a client uses them (in-memory adapters): who may,
what each answers, the secret shown once, a bulk enrollment too big to answer at once
becoming a job with a CSV report, and mail that leaves only through the worker."""

from __future__ import annotations

import csv
import io

import pytest
from dependency_injector import providers

from ocp.adapters.memory.webhooks import InMemoryWebhookSender
from ocp.application.ports.common import DependencyUnavailable
from ocp.container import Container
from ocp.domain.users import Role
from tests.builders import (
    FORM,
    PNG,
    a_course,
    a_teacher,
    app_client,
    file_part,
    multipart,
    signed_up,
    test_settings,
    url,
    work_off,
)

HOOK = "https://hooks.example.com/ocp"


@pytest.fixture
def sender(container):
    fake = InMemoryWebhookSender()
    container.webhook_sender.override(providers.Object(fake))
    return fake


async def test_webhook_routes_answer_as_documented(client, container, sender):
    admin = await signed_up(client, container, Role.ADMIN)
    student = await signed_up(client, container)
    body = {"url": HOOK, "events": ["file.created"], "description": "uploads"}
    assert (await client.post("/api/v1/webhooks", json=body)).status_code == 401
    assert (
        await client.post("/api/v1/webhooks", json=body, headers=student.auth)
    ).status_code == 403
    created = await client.post("/api/v1/webhooks", json=body, headers=admin.auth)
    assert created.status_code == 201, created.text
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_") and endpoint["active"] is True
    assert endpoint["disabled_reason"] is None and created.headers["location"].endswith(
        endpoint["id"]
    )
    one = f"/api/v1/webhooks/{endpoint['id']}"
    shown = await client.get(one, headers=admin.auth)
    assert shown.status_code == 200 and "secret" not in shown.json()
    listed = await client.get("/api/v1/webhooks", headers=admin.auth)
    assert [e["id"] for e in listed.json()["items"]] == [endpoint["id"]]
    assert "secret" not in listed.json()["items"][0]
    for bad in (
        {**body, "events": ["nope"]},
        {**body, "url": "http://hooks.example.com/"},
        {**body, "role": "admin"},
        {**body, "events": []},
    ):
        refused = await client.post("/api/v1/webhooks", json=bad, headers=admin.auth)
        assert refused.status_code == 422, bad
        assert refused.headers["content-type"] == "application/problem+json"
    patched = await client.patch(one, json={"description": "all uploads"}, headers=admin.auth)
    assert patched.status_code == 200 and patched.json()["description"] == "all uploads"
    rotated = await client.post(f"{one}/rotate-secret", headers=admin.auth)
    assert rotated.status_code == 200 and rotated.json()["secret"] != endpoint["secret"]
    assert (await client.post(f"{one}/ping", headers=admin.auth)).status_code == 202

    # An upload is a `file.created` event, delivered and logged.
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    uploaded = await client.post(
        "/api/v1/files",
        content=multipart(("purpose", b"avatar", None), file_part(PNG, "me.png", "image/png")),
        headers={**FORM, **teacher.auth},
    )
    assert uploaded.status_code == 201, uploaded.text
    await work_off(container)
    deliveries = await client.get(f"{one}/deliveries", headers=admin.auth)
    assert deliveries.status_code == 200
    kinds = sorted(d["event_type"] for d in deliveries.json()["items"])
    assert kinds == ["file.created", "webhook.ping"]
    assert {d["status"] for d in deliveries.json()["items"]} == {"succeeded"}
    delivery_id = deliveries.json()["items"][0]["id"]
    again = await client.post(f"{one}/deliveries/{delivery_id}/redeliver", headers=admin.auth)
    assert again.status_code == 202
    missing = await client.post(f"{one}/deliveries/nope/redeliver", headers=admin.auth)
    assert missing.status_code == 404
    events = await client.get("/api/v1/events?type=file.created", headers=admin.auth)
    assert events.status_code == 200
    [event] = events.json()["items"]
    assert event["data"]["id"] == uploaded.json()["id"] and event["id"].startswith("evt_")
    assert (await client.get("/api/v1/events", headers=student.auth)).status_code == 403
    assert (await client.get("/api/v1/events?type=nope", headers=admin.auth)).status_code == 422

    assert (await client.delete(one, headers=admin.auth)).status_code == 204
    assert (await client.get(one, headers=admin.auth)).status_code == 404


async def test_a_bulk_enrollment_over_the_sync_limit_is_a_job_with_a_csv_report(tmp_path):
    container = Container.for_settings(test_settings(tmp_path, bulk_sync_max=3))
    async with app_client(container) as client:
        owner = await a_teacher(client, container)
        course = await a_course(client, owner, capacity=3)
        students = [await signed_up(client, container) for _ in range(4)]
        emails = [s.email for s in students] + ["nobody@example.com", "=cmd()@example.com"]
        answer = await client.post(
            url(course, "/enrollments/bulk"), json={"emails": emails}, headers=owner.auth
        )
        assert answer.status_code == 202, answer.text
        job_url = answer.headers["location"]
        assert answer.json()["status"] == "queued"
        assert answer.json()["progress"] == {"done": 0, "total": 6}
        # Only its creator (and admins) see it.
        assert (await client.get(job_url, headers=students[0].auth)).status_code == 404
        await work_off(container)
        job = (await client.get(job_url, headers=owner.auth)).json()
        assert job["status"] == "succeeded" and job["progress"] == {"done": 6, "total": 6}
        assert job["result"]["enrolled"] == 3 and len(job["result"]["full"]) == 1
        assert sorted(job["result"]["unknown"]) == sorted(emails[4:])
        report = await client.get(f"{job_url}/report.csv", headers=owner.auth)
        assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(report.text)))
        assert rows[0] == ["email", "outcome"]
        outcomes = dict(rows[1:])
        assert sorted(outcomes.values()) == ["enrolled"] * 3 + ["full"] + ["unknown"] * 2
        assert "'=cmd()@example.com" in outcomes  # formula-safe
        assert (await client.get(url(course))).json()["enrolled_count"] == 3


class FlakyMailer:
    """A mail server that is down until a test brings it up."""

    def __init__(self) -> None:
        self.down = True
        self.sent: list[str] = []
        self.tries = 0

    async def send(self, message):
        self.tries += 1
        if self.down:
            raise DependencyUnavailable("mail")
        self.sent.append(message.to)


async def test_a_dead_mail_server_changes_no_answer(tmp_path):
    container = Container.for_settings(test_settings(tmp_path))
    mail = FlakyMailer()
    container.mailer.override(providers.Object(mail))
    async with app_client(container) as client:
        await signed_up(client, container, email="known@example.com")
        for email in ("known@example.com", "unknown@example.com"):
            answer = await client.post("/api/v1/auth/password-reset/request", json={"email": email})
            assert answer.status_code == 202 and answer.content == b""
        assert mail.tries == 0  # nothing is mailed inside a request


async def test_mail_is_retried_by_the_worker_until_the_server_is_back(app):
    mail = FlakyMailer()
    app.container.mailer.override(providers.Object(mail))
    await app.profiles.register("known@example.com", "correct horse battery", "Known")
    await app.passwords.request_password_reset("known@example.com")
    await app.passwords.request_password_reset("unknown@example.com")
    await app.work_off()
    assert mail.tries == 1 and mail.sent == []  # the known one failed, the unknown one is quiet
    mail.down = False
    await app.work_off()
    assert mail.sent == []  # not due again yet
    app.clock.advance(6)
    await app.work_off()
    assert mail.sent == ["known@example.com"]
