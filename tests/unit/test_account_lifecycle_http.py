"""Managing one's account over HTTP: the sessions (devices) logged in, and changing the
email address through a token mailed to the new one."""

from __future__ import annotations

from ocp.domain.users import Role
from tests.builders import PASSWORD, login, signed_up, work_off
from tests.unit.test_http_identity import assert_problem


def _token(message) -> str:
    return message.text.split("Your token:\n\n  ")[1].split("\n")[0]


async def test_sessions_list_every_device_and_one_can_be_ended_at_once(client, container):
    me = await signed_up(client, container, email="devices@example.com")
    phone = await client.post(
        "/api/v1/auth/token",
        data={"username": me.email, "password": PASSWORD},
        headers={"User-Agent": "OCP-Phone/2.1"},
    )
    phone_auth = {"Authorization": f"Bearer {phone.json()['access_token']}"}
    listed = await client.get("/api/v1/users/me/sessions", headers=me.auth)
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert len(items) == 2
    assert [i["current"] for i in items].count(True) == 1
    phone_session = next(i for i in items if i["user_agent"] == "OCP-Phone/2.1")
    assert phone_session["current"] is False
    assert phone_session["last_used_at"] >= phone_session["created_at"]

    ended = await client.delete(f"/api/v1/users/me/sessions/{phone_session['id']}", headers=me.auth)
    assert ended.status_code == 204
    assert_problem(await client.get("/api/v1/users/me", headers=phone_auth), 401)
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": phone.json()["refresh_token"]}
    )
    assert_problem(refreshed, 401)
    left = (await client.get("/api/v1/users/me/sessions", headers=me.auth)).json()["items"]
    assert [i["current"] for i in left] == [True]

    other = await signed_up(client, container, email="someone-else@example.com")
    theirs = (await client.get("/api/v1/users/me/sessions", headers=other.auth)).json()
    mine = left[0]["id"]
    assert mine not in {i["id"] for i in theirs["items"]}
    assert_problem(
        await client.delete(f"/api/v1/users/me/sessions/{mine}", headers=other.auth), 404
    )
    assert (await client.get("/api/v1/users/me", headers=me.auth)).status_code == 200
    assert_problem(await client.get("/api/v1/users/me/sessions"), 401)


async def test_an_email_change_is_confirmed_from_the_new_address(client, container):
    me = await signed_up(client, container, email="old@example.com")
    elsewhere = await login(client, "old@example.com")
    await signed_up(client, container, email="taken@example.com")
    ask = "/api/v1/users/me/email"
    wrong = {"new_email": "new@example.com", "current_password": "not my password"}
    assert_problem(await client.post(ask, json=wrong, headers=me.auth), 403)
    taken = {"new_email": "Taken@Example.com", "current_password": PASSWORD}
    assert_problem(await client.post(ask, json=taken, headers=me.auth), 409)
    bad = {"new_email": "not an address", "current_password": PASSWORD}
    assert_problem(await client.post(ask, json=bad, headers=me.auth), 422)
    asked = await client.post(
        ask, json={"new_email": "new@example.com", "current_password": PASSWORD}, headers=me.auth
    )
    assert asked.status_code == 202
    await work_off(container)
    mail = container.mailer().sent[-1]
    assert mail.to == "new@example.com"
    unchanged = (await client.get("/api/v1/users/me", headers=me.auth)).json()
    assert unchanged["email"] == "old@example.com"  # nothing changes before the proof

    token = _token(mail)
    done = await client.post("/api/v1/users/me/email/confirm", json={"token": token})
    assert done.status_code == 204
    assert_problem(await client.post("/api/v1/users/me/email/confirm", json={"token": token}), 400)
    profile = (await client.get("/api/v1/users/me", headers=me.auth)).json()
    assert profile["email"] == "new@example.com" and profile["email_verified"] is True
    # The session that asked goes on; the other one has ended; the new address logs in.
    assert_problem(await client.get("/api/v1/users/me", headers=elsewhere.auth), 401)
    await login(client, "new@example.com")
    assert_problem(
        await client.post(
            "/api/v1/auth/token", data={"username": "old@example.com", "password": PASSWORD}
        ),
        401,
    )
    await work_off(container)
    notice = container.mailer().sent[-1]
    assert notice.to == "old@example.com" and "new@example.com" in notice.text


async def test_an_address_taken_before_the_confirmation_is_a_conflict(client, container):
    me = await signed_up(client, container, email="slow@example.com")
    body = {"new_email": "contested@example.com", "current_password": PASSWORD}
    assert (
        await client.post("/api/v1/users/me/email", json=body, headers=me.auth)
    ).status_code == 202
    await work_off(container)
    token = _token(container.mailer().sent[-1])
    await signed_up(client, container, email="contested@example.com")
    answer = await client.post("/api/v1/users/me/email/confirm", json={"token": token})
    assert_problem(answer, 409)
    assert (await client.get("/api/v1/users/me", headers=me.auth)).json()["email"] == (
        "slow@example.com"
    )


# --- export and deletion ---------------------------------------------------------------------


async def _a_student_with_a_history(client, container):
    """A course with an assignment; two students each enrolled, one lesson done, one graded
    submission with a file, and a review; the first one also has an avatar."""
    from tests.builders import (
        PNG,
        a_course,
        a_teacher,
        an_assignment,
        enrolled,
        submit,
        upload,
    )

    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    assignment = await an_assignment(client, teacher, course)
    students = []
    for n, stars in ((1, 5), (2, 3)):
        student = await enrolled(client, container, course, email=f"history{n}@example.com")
        done = await client.put(
            f"/api/v1/lessons/{course.lesson_ids[0]}/completion", headers=student.auth
        )
        assert done.status_code == 204, done.text
        work = await upload(client, student, PNG, "submission", course_id=course.id)
        assert work.status_code == 201, work.text
        sent = await submit(
            client, student, assignment["id"], text=f"essay {n}", file_ids=[work.json()["id"]]
        )
        assert sent.status_code == 201, sent.text
        graded = await client.put(
            f"/api/v1/submissions/{sent.json()['id']}/grade",
            json={"points": 4 + n},
            headers=teacher.auth,
        )
        assert graded.status_code == 200, graded.text
        review = await client.put(
            f"/api/v1/courses/{course.id}/reviews/me",
            json={"rating": stars, "comment": f"review {n}"},
            headers=student.auth,
        )
        assert review.status_code in (200, 201), review.text
        students.append(student)
    avatar = await upload(client, students[0], PNG, "avatar")
    assert avatar.status_code == 201, avatar.text
    await client.patch(
        "/api/v1/users/me", json={"avatar_file_id": avatar.json()["id"]}, headers=students[0].auth
    )
    return teacher, course, assignment, students, avatar.json()["id"]


async def test_the_export_holds_every_record_of_mine_and_none_of_anyone_elses(client, container):
    _, course, assignment, (me, other), avatar_id = await _a_student_with_a_history(
        client, container
    )
    answer = await client.get("/api/v1/users/me/export", headers=me.auth)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert "attachment" in answer.headers["content-disposition"]
    export = answer.json()
    assert export["profile"]["id"] == me.id and export["profile"]["email"] == me.email
    assert [e["course_id"] for e in export["enrollments"]] == [course.id]
    assert export["enrollments"][0]["completed_lesson_ids"] == [course.lesson_ids[0]]
    assert [(s["text"], s["points"]) for s in export["submissions"]] == [("essay 1", 5)]
    assert [(r["rating"], r["comment"]) for r in export["reviews"]] == [(5, "review 1")]
    assert sorted(f["purpose"] for f in export["files"]) == ["avatar", "submission"]
    assert avatar_id in {f["id"] for f in export["files"]}
    assert [s["current"] for s in export["sessions"]] == [True]
    text = answer.text
    assert other.id not in text and "essay 2" not in text and "review 2" not in text
    assert_problem(await client.get("/api/v1/users/me/export"), 401)


async def test_deleting_my_account_erases_me_and_keeps_every_aggregate_exact(client, container):
    teacher, course, assignment, (me, other), avatar_id = await _a_student_with_a_history(
        client, container
    )
    before = (await client.get(f"/api/v1/courses/{course.id}")).json()
    book = (await client.get(f"/api/v1/courses/{course.id}/gradebook", headers=teacher.auth)).json()
    assert_problem(
        await client.request(
            "DELETE", "/api/v1/users/me", json={"current_password": "wrong"}, headers=me.auth
        ),
        403,
    )
    gone = await client.request(
        "DELETE", "/api/v1/users/me", json={"current_password": PASSWORD}, headers=me.auth
    )
    assert gone.status_code == 204
    # Signed out everywhere, and the address no longer logs in (nor does the password).
    assert_problem(await client.get("/api/v1/users/me", headers=me.auth), 401)
    assert_problem(
        await client.post("/api/v1/auth/refresh", json={"refresh_token": me.refresh_token}), 401
    )
    login_again = await client.post(
        "/api/v1/auth/token", data={"username": me.email, "password": PASSWORD}
    )
    assert_problem(login_again, 401)

    after = (await client.get(f"/api/v1/courses/{course.id}")).json()
    for field in ("enrolled_count", "rating_avg", "rating_count"):
        assert after[field] == before[field], field
    book_after = (
        await client.get(f"/api/v1/courses/{course.id}/gradebook", headers=teacher.auth)
    ).json()
    assert [r["total"] for r in book_after["items"]] == [r["total"] for r in book["items"]]
    names = {r["user"]["id"]: r["user"] for r in book_after["items"]}
    assert names[me.id]["full_name"] == "Deleted user" and me.email not in book_after.__repr__()
    reviews = (await client.get(f"/api/v1/courses/{course.id}/reviews")).json()["items"]
    assert sorted(r["rating"] for r in reviews) == [3, 5]

    # My avatar is gone; my graded submission's file stays as the grade's evidence.
    admin = await signed_up(client, container, Role.ADMIN)
    assert_problem(await client.get(f"/api/v1/files/{avatar_id}", headers=admin.auth), 404)
    kept = (await client.get(f"/api/v1/users/{me.id}", headers=admin.auth)).json()
    assert kept["full_name"] == "Deleted user" and kept["is_active"] is False
    assert me.email not in kept["email"]
    # The address is free again; the other student is untouched.
    await signed_up(client, container, email=me.email)
    assert (await client.get("/api/v1/users/me", headers=other.auth)).status_code == 200
    # A deleted account cannot be revived.
    assert_problem(
        await client.patch(f"/api/v1/users/{me.id}", json={"is_active": True}, headers=admin.auth),
        422,
    )


async def test_an_admin_deletes_a_user_but_not_themself(client, container):
    admin = await signed_up(client, container, Role.ADMIN)
    student = await signed_up(client, container, email="removed@example.com")
    assert_problem(await client.delete(f"/api/v1/users/{student.id}", headers=student.auth), 403)
    assert (
        await client.delete(f"/api/v1/users/{student.id}", headers=admin.auth)
    ).status_code == 204
    assert_problem(await client.get("/api/v1/users/me", headers=student.auth), 401)
    assert_problem(await client.delete(f"/api/v1/users/{student.id}", headers=admin.auth), 404)
    assert_problem(await client.delete(f"/api/v1/users/{admin.id}", headers=admin.auth), 422)
    own = await client.request(
        "DELETE", "/api/v1/users/me", json={"current_password": PASSWORD}, headers=admin.auth
    )
    assert_problem(own, 422)


async def test_a_stolen_token_cannot_guess_the_password_faster_than_a_login(client, container):
    """Wrong passwords asked again by the account routes count with the login's failures:
    after `OCP_LOGIN_MAX_FAILURES`, even the right one waits (429 with Retry-After)."""
    me = await signed_up(client, container, email="guessed@example.com")
    limit = container.settings().login_max_failures
    routes = [
        ("DELETE", "/api/v1/users/me", {}),
        ("POST", "/api/v1/users/me/email", {"new_email": "elsewhere@example.com"}),
        ("POST", "/api/v1/users/me/password", {"new_password": "another long password"}),
    ]
    for n in range(limit):
        method, path, body = routes[n % len(routes)]
        wrong = {**body, "current_password": f"guess number {n}"}
        answer = await client.request(method, path, json=wrong, headers=me.auth)
        assert answer.status_code in (403, 422), answer.text
    right = {"current_password": PASSWORD}
    throttled = await client.request("DELETE", "/api/v1/users/me", json=right, headers=me.auth)
    assert_problem(throttled, 429)
    assert int(throttled.headers["retry-after"]) > 0
    assert (await client.get("/api/v1/users/me", headers=me.auth)).status_code == 200


async def test_an_admin_sees_exports_and_ends_a_users_sessions(client, container):
    admin = await signed_up(client, container, Role.ADMIN)
    student = await signed_up(client, container, email="lost-phone@example.com")
    phone = await login(client, student.email)
    listed = await client.get(f"/api/v1/users/{student.id}/sessions", headers=admin.auth)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 2
    assert not any(i["current"] for i in listed.json()["items"])  # none is the admin's
    assert_problem(
        await client.get(f"/api/v1/users/{admin.id}/sessions", headers=student.auth), 403
    )
    sessions = (await client.get("/api/v1/users/me/sessions", headers=phone.auth)).json()
    lost = next(i["id"] for i in sessions["items"] if i["current"])
    assert_problem(
        await client.delete(f"/api/v1/users/{admin.id}/sessions/{lost}", headers=admin.auth), 404
    )
    ended = await client.delete(f"/api/v1/users/{student.id}/sessions/{lost}", headers=admin.auth)
    assert ended.status_code == 204
    assert_problem(await client.get("/api/v1/users/me", headers=phone.auth), 401)
    assert (await client.get("/api/v1/users/me", headers=student.auth)).status_code == 200

    export = await client.get(f"/api/v1/users/{student.id}/export", headers=admin.auth)
    assert export.status_code == 200 and export.json()["profile"]["email"] == student.email
    assert_problem(await client.get(f"/api/v1/users/{admin.id}/export", headers=student.auth), 403)
    assert_problem(await client.get("/api/v1/users/nobody/export", headers=admin.auth), 404)
