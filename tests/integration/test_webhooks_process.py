"""Webhooks and jobs across real processes: `ocp serve` with its worker off, `ocp worker`
processes on the same database (SecantusDB), and a real HTTP receiver that checks every
signature with the `standardwebhooks` reference library.

- A receiver that fails its first 5 requests gets every event, each `webhook-id` answered
  2xx once, while two workers share the queue and never send one event at the same time.
- A worker killed (SIGKILL) in the middle of a delivery or of a bulk enrollment job loses
  nothing: another worker takes over when the lease runs out, no student is enrolled twice
  and the job's report counts each row once.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from pymongo import MongoClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.builders import JWT_SECRET, PASSWORD
from tests.integration.processes import serving, wait_until, working

ADMIN = ("root@example.com", "an admin password 1")
_dbs = itertools.count(1)


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: fails its first `failures` requests with 500, holds
    each request `hold_s`, verifies signatures once it knows the secret."""

    failures: int = 0
    hold_s: float = 0.0
    secret: str | None = None
    requests: list[tuple[str, int]] = field(default_factory=list)  # (webhook-id, status)
    bad_signatures: int = 0
    overlaps: int = 0  # one webhook-id in flight twice at once
    in_flight: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def ok_ids(self) -> list[str]:
        with self.lock:
            return [i for i, status in self.requests if status == 200]


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            webhook_id = self.headers.get("webhook-id", "")
            with receiver.lock:
                if webhook_id in receiver.in_flight:
                    receiver.overlaps += 1
                receiver.in_flight.add(webhook_id)
            try:
                if receiver.secret:
                    try:
                        Webhook(receiver.secret).verify(body, dict(self.headers))
                    except WebhookVerificationError:
                        with receiver.lock:
                            receiver.bad_signatures += 1
                time.sleep(receiver.hold_s)
                with receiver.lock:
                    status = 500 if receiver.failures > 0 else 200
                    receiver.failures -= 1
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
                with receiver.lock:
                    receiver.requests.append((webhook_id, status))
            finally:
                with receiver.lock:
                    receiver.in_flight.discard(webhook_id)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def env_for(uri: str, db: str, **more: str) -> dict[str, str]:
    return {
        "OCP_MONGODB_URI": uri,
        "OCP_MONGODB_DB": db,
        "OCP_JWT_SECRET": JWT_SECRET,
        "OCP_BOOTSTRAP_ADMIN_EMAIL": ADMIN[0],
        "OCP_BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
        "OCP_WORKER_IN_PROCESS": "false",
        "OCP_WEBHOOKS_ALLOW_HTTP": "true",
        "OCP_WEBHOOKS_ALLOW_PRIVATE": "true",
        "OCP_WEBHOOK_TIMEOUT_S": "2",
        "OCP_WORKER_LEASE_S": "4",
        **more,
    }


def bearer(base: str, email: str, password: str) -> dict[str, str]:
    answer = httpx.post(f"{base}/api/v1/auth/token", data={"username": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def register_endpoint(base: str, admin: dict[str, str], url: str, events: list[str]) -> dict:
    made = httpx.post(f"{base}/api/v1/webhooks", json={"url": url, "events": events}, headers=admin)
    assert made.status_code == 201, made.text
    return made.json()


def register(base: str, n: int) -> str:
    email = f"hooked{n}@example.com"
    made = httpx.post(
        f"{base}/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": f"Hooked {n}"},
    )
    assert made.status_code == 201, made.text
    return email


def event_ids(base: str, admin: dict[str, str], type_: str) -> set[str]:
    """The ids of the `type_` events about the users this module registered."""
    found: set[str] = set()
    cursor = ""
    while True:
        page = httpx.get(
            f"{base}/api/v1/events?type={type_}&limit=100&cursor={cursor}", headers=admin
        ).json()
        found |= {e["id"] for e in page["items"] if e["data"]["email"].startswith("hooked")}
        if not page["next_cursor"]:
            return found
        cursor = page["next_cursor"]


def test_two_workers_deliver_every_event_once_to_a_receiver_that_fails_then_recovers(
    mongo_uri: str, tmp_path: Path
):
    env = env_for(mongo_uri, f"hooks_{next(_dbs)}")
    with receiving(Receiver(failures=5, hold_s=0.05)) as receiver, serving(tmp_path, **env) as api:
        admin = bearer(api.base, *ADMIN)
        endpoint = register_endpoint(api.base, admin, receiver.url, ["user.created"])
        receiver.secret = endpoint["secret"]
        for n in range(20):
            register(api.base, n)
        with working(tmp_path / "w1", **env), working(tmp_path / "w2", **env):
            # An event is committed just after its change's answer: all 20, shortly.
            expected = wait_until(
                lambda: (
                    (ids := event_ids(api.base, admin, "user.created")) and len(ids) == 20 and ids
                ),
                seconds=10,
                message="not every registration's event was committed",
            )
            wait_until(
                lambda: set(receiver.ok_ids()) >= expected,
                seconds=60,
                message="not every event reached the receiver",
            )
        ok = receiver.ok_ids()
        assert sorted(ok) == sorted(expected)  # each once with 2xx: no duplicate success
        assert receiver.overlaps == 0  # never one event twice at the same time
        assert receiver.bad_signatures == 0
        failed = [i for i, status in receiver.requests if status != 200]
        assert len(failed) == 5
        deliveries = httpx.get(
            f"{api.base}/api/v1/webhooks/{endpoint['id']}/deliveries?limit=100", headers=admin
        ).json()["items"]
        assert {d["status"] for d in deliveries} == {"succeeded"} and len(deliveries) == 20
        assert sum(d["attempts"] for d in deliveries) == 25


def test_a_worker_killed_mid_delivery_loses_nothing(mongo_uri: str, tmp_path: Path):
    env = env_for(mongo_uri, f"hooks_{next(_dbs)}")
    with receiving(Receiver(hold_s=1.5)) as receiver, serving(tmp_path, **env) as api:
        admin = bearer(api.base, *ADMIN)
        endpoint = register_endpoint(api.base, admin, receiver.url, ["user.created"])
        receiver.secret = endpoint["secret"]
        register(api.base, 1000)
        with working(tmp_path / "doomed", **env) as doomed:
            wait_until(lambda: receiver.in_flight, seconds=30, message="nothing was sent")
            doomed.send_signal(signal.SIGKILL)
            doomed.wait()
        receiver.hold_s = 0
        with working(tmp_path / "heir", **env):
            [expected] = event_ids(api.base, admin, "user.created")
            wait_until(
                lambda: expected in receiver.ok_ids(), seconds=30, message="the event was lost"
            )
            wait_until(
                lambda: (
                    httpx.get(
                        f"{api.base}/api/v1/webhooks/{endpoint['id']}/deliveries", headers=admin
                    ).json()["items"][0]["status"]
                    == "succeeded"
                ),
                seconds=10,
            )
        assert receiver.bad_signatures == 0


def test_a_worker_killed_mid_job_resumes_and_enrolls_each_row_once(mongo_uri: str, tmp_path: Path):
    db = f"hooks_{next(_dbs)}"
    env = env_for(mongo_uri, db, OCP_BULK_SYNC_MAX="100")
    rows = 2_000
    with serving(tmp_path, **env) as api:
        admin = bearer(api.base, *ADMIN)
        course = httpx.post(
            f"{api.base}/api/v1/courses", json={"title": "Bulk course"}, headers=admin
        ).json()
        module = httpx.post(
            f"{api.base}/api/v1/courses/{course['id']}/modules",
            json={"title": "M"},
            headers=admin,
        ).json()
        lesson = httpx.post(
            f"{api.base}/api/v1/courses/{course['id']}/modules/{module['id']}/lessons",
            json={"title": "L", "kind": "text", "body_markdown": "x"},
            headers=admin,
        )
        assert lesson.status_code == 201, lesson.text
        published = httpx.post(f"{api.base}/api/v1/courses/{course['id']}/publish", headers=admin)
        assert published.status_code == 200, published.text
        emails = seed_students(mongo_uri, db, rows)
        answer = httpx.post(
            f"{api.base}/api/v1/courses/{course['id']}/enrollments/bulk",
            json={"emails": emails},
            headers=admin,
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        job_url = f"{api.base}{answer.headers['location']}"

        def progress() -> int:
            return int(httpx.get(job_url, headers=admin).json()["progress"]["done"])

        with working(tmp_path / "doomed", **env) as doomed:
            wait_until(lambda: progress() >= 500, seconds=120, message="the job never began")
            doomed.send_signal(signal.SIGKILL)
            doomed.wait()
        assert progress() < rows, "the job ended before the kill: make it bigger"
        with working(tmp_path / "heir", **env):
            wait_until(
                lambda: httpx.get(job_url, headers=admin).json()["status"] == "succeeded",
                seconds=180,
                message="the job did not finish after the restart",
            )
        job = httpx.get(job_url, headers=admin).json()
        assert job["progress"] == {"done": rows, "total": rows}
        assert job["result"]["enrolled"] == rows and job["result"]["already"] == 0
        report = httpx.get(f"{job_url}/report.csv", headers=admin).text.splitlines()
        assert len(report) == rows + 1 and all(line.endswith(",enrolled") for line in report[1:])
        with MongoClient(mongo_uri) as client:
            enrolled = client[db]["enrollments"].count_documents({"course_id": course["id"]})
        assert enrolled == rows


def seed_students(uri: str, db: str, count: int) -> list[str]:
    """`count` students stored directly (registering them through the API would take the
    whole test's time), as the users repository stores them."""
    import asyncio

    from pymongo import AsyncMongoClient

    from ocp.adapters.mongo.identity import MongoUserRepository
    from tests.builders import a_user

    async def seed() -> list[str]:
        client: AsyncMongoClient = AsyncMongoClient(uri, tz_aware=True)
        try:
            users = MongoUserRepository(client[db])
            made = [a_user(email=f"bulk{n}@example.com") for n in range(count)]
            await asyncio.gather(*(users.add(u) for u in made))
            return [u.email.value for u in made]
        finally:
            await client.close()

    return asyncio.run(seed())
