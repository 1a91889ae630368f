"""Events, webhooks and the worker on the in-memory stores: every event type is recorded
with its change, deliveries are signed (checked with the `standardwebhooks` reference
library), retried on the published schedule, redelivered, and endpoints that fail are
disabled; events a dead process left prepared are settled by the sweeper."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from dependency_injector import providers
from standardwebhooks.webhooks import Webhook

from ocp.adapters.memory.webhooks import InMemoryWebhookSender
from ocp.application.learning.assignments import AssignmentDraft, SubmissionDraft
from ocp.application.ports.events import Subject
from ocp.domain.errors import PermissionDenied, RuleViolated
from ocp.domain.files import FilePurpose
from ocp.domain.users import Role
from ocp.domain.webhooks import EVENT_TYPES, RETRY_DELAYS, DeliveryStatus, WebhookChanges
from tests.builders import a_member, a_published_course, a_stored_file

HOOK = "https://hooks.example.com/ocp"


@pytest.fixture
def sender(app):
    fake = InMemoryWebhookSender(refused_hosts={"169.254.169.254", "internal.example"})
    app.container.webhook_sender.override(providers.Object(fake))
    return fake


@pytest.fixture
async def admin(app):
    made = await a_member(app, Role.ADMIN)
    app.clock.advance(1)  # endpoints registered now get no earlier event
    return made


def events_of(sender, type_=None):
    bodies = [json.loads(r.body) for r in sender.sent]
    return [b for b in bodies if type_ is None or b["type"] == type_]


async def test_each_change_of_a_learning_journey_is_an_event_with_the_resource_as_its_route_shows(
    app, sender, admin
):
    hooks = app.container.webhook_service()
    endpoint = await hooks.register(admin, HOOK, list(EVENT_TYPES), "all")
    teacher = await a_member(app, Role.INSTRUCTOR)
    student = await a_member(app)
    course = await a_published_course(app, teacher, lessons=2)
    report, _ = await app.enrollment.enroll(student, course.id)
    for lesson_id in course.lesson_ids:
        await app.progress.complete_lesson(student, lesson_id)
    file = await a_stored_file(app, student, FilePurpose.SUBMISSION, course_id=course.id)
    assignment = await app.assignments.create(
        teacher, course.id, AssignmentDraft("Essay", "Write", max_points=10, max_files=1)
    )
    submission = await app.assignments.submit(
        student, assignment.id, SubmissionDraft("my answer", (file.id,))
    )
    await app.assignments.grade(teacher, submission.id, 7, "good")
    await app.reviews.review(student, course.id, 5, "great")
    await app.courses.archive(teacher, course.id)
    await app.work_off()

    types = [e["type"] for e in events_of(sender)]
    assert types == [
        "webhook.created",  # its own registration: an audited change, announced too
        "user.created",  # the teacher
        "user.created",  # the student
        "course.published",
        "enrollment.created",
        "lesson.completed",
        "lesson.completed",
        "course.completed",
        "submission.created",
        "submission.graded",
        "review.created",
        "course.archived",
    ]
    enrolled = events_of(sender, "enrollment.created")[0]
    assert enrolled["data"]["id"] == report.enrollment.id
    assert enrolled["data"]["progress"] == {"completed": 0, "total": 2, "percent": 0}
    assert events_of(sender, "lesson.completed")[1]["data"]["lesson_id"] == course.lesson_ids[1]
    assert events_of(sender, "submission.graded")[0]["data"]["points"] == 7
    assert events_of(sender, "course.published")[0]["data"]["status"] == "published"
    # The event log holds them too, newest first, filterable by type.
    log = await hooks.list_events(admin, None, 100, None)
    assert [e.type for e in log.items][:2] == ["course.archived", "review.created"]
    only = await hooks.list_events(admin, "lesson.completed", 100, None)
    assert [e.type for e in only.items] == ["lesson.completed"] * 2
    deliveries = await hooks.list_deliveries(admin, endpoint.id, None, 100, None)
    assert {d.status for d in deliveries.items} == {DeliveryStatus.SUCCEEDED}

    # Dropping the course after re-opening it: an `enrollment.dropped` with the enrollment.
    other = await a_published_course(app, teacher)
    await app.enrollment.enroll(student, other.id)
    await app.enrollment.drop(student, other.id)
    await app.work_off()
    dropped = events_of(sender, "enrollment.dropped")
    assert len(dropped) == 1 and dropped[0]["data"]["course_id"] == other.id


async def test_deliveries_are_signed_as_standard_webhooks_specify(app, sender, admin):
    # The reference library refuses timestamps 5 minutes away from its own clock.
    app.clock.advance((datetime.now(UTC) - app.clock.now()).total_seconds())
    hooks = app.container.webhook_service()
    endpoint = await hooks.register(admin, HOOK, ["user.created"], "")
    assert endpoint.secret.startswith("whsec_")
    await a_member(app)
    await app.work_off()
    [request] = sender.sent
    assert request.url == HOOK
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == json.loads(request.body)["id"]
    # The reference library accepts it (and would raise on a wrong signature).
    Webhook(endpoint.secret).verify(request.body, request.headers)

    # After a rotation both secrets sign for 24 hours, then only the new one.
    rotated = await hooks.rotate_secret(admin, endpoint.id)
    await a_member(app)
    await app.work_off()
    second = sender.sent[-1]
    assert len(second.headers["webhook-signature"].split(" ")) == 2
    Webhook(endpoint.secret).verify(second.body, second.headers)
    Webhook(rotated.secret).verify(second.body, second.headers)
    app.clock.advance(timedelta(hours=24, seconds=1).total_seconds())
    await a_member(app)
    await app.work_off()
    assert len(sender.sent[-1].headers["webhook-signature"].split(" ")) == 1


async def test_a_failing_receiver_is_retried_on_the_schedule_and_gets_each_event_once(
    app, sender, admin
):
    hooks = app.container.webhook_service()
    endpoint = await hooks.register(admin, HOOK, ["user.created"], "")
    sender.answers = [500, None, 503, 502, 500]  # five failures, then 200
    await a_member(app)
    await app.work_off()
    for delay in RETRY_DELAYS[:5]:
        [delivery] = (await hooks.list_deliveries(admin, endpoint.id, None, 10, None)).items
        assert delivery.status is DeliveryStatus.PENDING
        await app.work_off()  # not due yet: nothing is sent
        app.clock.advance(delay.total_seconds())
        await app.work_off()
    [delivery] = (await hooks.list_deliveries(admin, endpoint.id, None, 10, None)).items
    assert delivery.status is DeliveryStatus.SUCCEEDED and delivery.attempts == 6
    assert len(sender.sent) == 6 and len({r.headers["webhook-id"] for r in sender.sent}) == 1
    assert (await hooks.get(admin, endpoint.id)).failing_since is None  # healthy again


async def test_a_delivery_fails_after_the_last_retry_and_can_be_redelivered(app, sender, admin):
    hooks = app.container.webhook_service()
    endpoint = await hooks.register(admin, HOOK, ["user.created"], "")
    sender.answers = [500] * 8
    await a_member(app)
    await app.work_off()
    for delay in RETRY_DELAYS:
        app.clock.advance(delay.total_seconds())
        await app.work_off()
    [delivery] = (await hooks.list_deliveries(admin, endpoint.id, None, 10, None)).items
    assert delivery.status is DeliveryStatus.FAILED and delivery.attempts == 8
    assert delivery.last_status_code == 500 and delivery.last_error
    failed = await hooks.list_deliveries(admin, endpoint.id, DeliveryStatus.FAILED, 10, None)
    assert [d.id for d in failed.items] == [delivery.id]

    await hooks.redeliver(admin, endpoint.id, delivery.id)
    await app.work_off()
    again = await hooks.list_deliveries(admin, endpoint.id, None, 10, None)
    assert again.items[0].status is DeliveryStatus.SUCCEEDED and len(sender.sent) == 9


async def test_an_endpoint_answering_410_or_failing_for_5_days_is_disabled(app, sender, admin):
    hooks = app.container.webhook_service()
    gone = await hooks.register(admin, HOOK, ["user.created"], "")
    sender.answers = [410]
    await a_member(app)
    await app.work_off()
    stored = await hooks.get(admin, gone.id)
    assert not stored.active and "410" in (stored.disabled_reason or "")
    await a_member(app)  # no longer delivered to
    await app.work_off()
    assert len(sender.sent) == 1

    flaky = await hooks.register(admin, "https://flaky.example.com/", ["user.created"], "")
    sender.answers = [500] * 100
    for _ in range(6):  # a new event each day, each failing
        await a_member(app)
        await app.work_off()
        app.clock.advance(timedelta(days=1).total_seconds())
    stored = await hooks.get(admin, flaky.id)
    assert not stored.active and "5 days" in (stored.disabled_reason or "")
    # An admin switches it back on: a fresh start.
    await hooks.edit(admin, flaky.id, WebhookChanges(active=True))
    assert (await hooks.get(admin, flaky.id)).disabled_reason is None


async def test_a_ping_goes_to_its_endpoint_only(app, sender, admin):
    hooks = app.container.webhook_service()
    one = await hooks.register(admin, HOOK, ["user.created"], "")
    await hooks.register(admin, "https://other.example.com/", list(EVENT_TYPES), "")
    await app.work_off()
    sender.sent.clear()  # the second one's own `webhook.created`
    await hooks.ping(admin, one.id)
    await app.work_off()
    assert [r.url for r in sender.sent] == [HOOK]
    assert events_of(sender)[0]["type"] == "webhook.ping"


async def test_only_admins_manage_webhooks_and_urls_are_checked(app, sender, admin):
    hooks = app.container.webhook_service()
    student = await a_member(app)
    with pytest.raises(PermissionDenied):
        await hooks.register(student, HOOK, ["user.created"], "")
    with pytest.raises(PermissionDenied):
        await hooks.list_events(student, None, 10, None)
    for url in ("http://hooks.example.com/", "https://169.254.169.254/latest", "ftp://x.example"):
        with pytest.raises(RuleViolated) as refused:
            await hooks.register(admin, url, ["user.created"], "")
        assert refused.value.field == "url"
    with pytest.raises(RuleViolated) as unknown:
        await hooks.register(admin, HOOK, ["user.exploded"], "")
    assert unknown.value.field == "events"
    endpoint = await hooks.register(admin, HOOK, ["user.created"], "")
    with pytest.raises(RuleViolated):
        await hooks.edit(admin, endpoint.id, WebhookChanges(url="https://internal.example/"))


async def test_events_a_dead_process_left_prepared_are_settled_by_what_was_stored(
    app, sender, admin
):
    """The process died after preparing: once with the change stored (the event goes out),
    once before it (the event is dropped); young prepared events are left alone."""
    hooks = app.container.webhook_service()
    await hooks.register(admin, HOOK, ["user.created", "enrollment.dropped"], "")
    recorder = app.container.event_recorder()
    log = app.container.event_log()
    stored = await a_member(app)
    await app.work_off()
    sender.sent.clear()
    happened = recorder.event("user.created", stored)
    never = recorder.event("enrollment.dropped", {"id": "e1"})
    await log.prepare(
        [
            (Subject("users", stored.id, stored.version), happened),
            (Subject("enrollments", "nobody-enrolled", 1), never),
        ],
        app.clock.now(),
    )
    dispatcher = app.container.dispatcher()
    assert await dispatcher.sweep() == 0  # younger than 30 s: a request may still run
    app.clock.advance(31)
    assert await dispatcher.sweep() == 2
    await app.work_off()
    assert [e["id"] for e in events_of(sender)] == [happened.id]
    assert await log.get(never.id) is None
