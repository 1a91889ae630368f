"""Learning over HTTP on the in-memory adapters: the status codes, problem bodies, JSON shapes,
headers and request validation a client sees of enrollment, progress, assignments,
submissions, grades and reviews. The rules behind them are shown on the use cases, in
test_learning_use_cases.py."""

from __future__ import annotations

from tests.builders import (
    PDF,
    a_course,
    a_teacher,
    an_assignment,
    enrolled,
    signed_up,
    submit,
    upload,
    url,
)

# --- enrollment ----------------------------------------------------------------------------


async def test_enrolling_answers_201_then_200_with_the_same_enrollment_and_dropping_204(
    client, container
):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    student = await signed_up(client, container)
    first = await client.post(url(course, "/enrollments"), headers=student.auth)
    again = await client.post(url(course, "/enrollments"), headers=student.auth)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["progress"] == {"completed": 0, "total": 2, "percent": 0}
    dropped = await client.delete(url(course, "/enrollments/me"), headers=student.auth)
    assert dropped.status_code == 204 and dropped.content == b""


async def test_a_full_course_answers_409_as_a_problem_and_enrolling_needs_a_token(
    client, container
):
    teacher = await a_teacher(client, container)
    full = await a_course(client, teacher, capacity=1)
    await enrolled(client, container, full)
    late = await signed_up(client, container)
    answer = await client.post(url(full, "/enrollments"), headers=late.auth)
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == "the course is full or no longer open for enrollment"
    assert (await client.post(url(full, "/enrollments"))).status_code == 401


async def test_lesson_completion_answers_204_and_progress_reads_back_as_json(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    student = await enrolled(client, container, course)
    first = course.lesson_ids[0]
    done = await client.put(f"/api/v1/lessons/{first}/completion", headers=student.auth)
    assert done.status_code == 204
    progress = await client.get(url(course, "/progress"), headers=student.auth)
    assert progress.json() == {
        "completed_lesson_ids": [first],
        "completed": 1,
        "total": 2,
        "percent": 50,
        "completed_at": None,
    }
    reopened = await client.delete(f"/api/v1/lessons/{first}/completion", headers=student.auth)
    assert reopened.status_code == 204
    missing = await client.put("/api/v1/lessons/nope/completion", headers=student.auth)
    assert missing.status_code == 404 and missing.json()["detail"] == "no such lesson"


async def test_my_enrollments_come_in_linked_pages_with_a_card_of_each_course(client, container):
    teacher = await a_teacher(client, container)
    first = await a_course(client, teacher, title="First course")
    second = await a_course(client, teacher, title="Second course")
    student = await enrolled(client, container, first)
    await client.post(url(second, "/enrollments"), headers=student.auth)
    page = await client.get("/api/v1/users/me/enrollments?limit=1", headers=student.auth)
    assert page.status_code == 200 and 'rel="next"' in page.headers["link"]
    (item,) = page.json()["items"]
    assert item["course"] == {"id": first.id, "slug": first.slug, "title": "First course"}
    assert item["progress"] == {"completed": 0, "total": 2, "percent": 0}
    rest = await client.get(
        f"/api/v1/users/me/enrollments?cursor={page.json()['next_cursor']}", headers=student.auth
    )
    assert [i["course"]["id"] for i in rest.json()["items"]] == [second.id]
    assert rest.json()["next_cursor"] is None and "link" not in rest.headers


async def test_a_roster_row_shows_the_student_and_a_bad_cursor_or_limit_is_refused(
    client, container
):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    student = await enrolled(client, container, course, name="Ada Lovelace")
    roster = await client.get(url(course, "/enrollments"), headers=teacher.auth)
    assert roster.status_code == 200
    (row,) = roster.json()["items"]
    assert row["user"] == {"id": student.id, "full_name": "Ada Lovelace", "email": student.email}
    assert row["progress"] == {"completed": 0, "total": 2, "percent": 0}
    bad = await client.get(url(course, "/enrollments?cursor=@@@"), headers=teacher.auth)
    assert bad.status_code == 400
    assert (
        await client.get(url(course, "/enrollments?limit=101"), headers=teacher.auth)
    ).status_code == 422


async def test_bulk_enrollment_takes_a_json_list_from_staff_and_no_other_fields(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    student = await enrolled(client, container, course)
    newcomer = await signed_up(client, container)
    answer = await client.post(
        url(course, "/enrollments/bulk"),
        json={"emails": [newcomer.email, "nobody@x.org"]},
        headers=teacher.auth,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "enrolled": 1,
        "already": 0,
        "unknown": ["nobody@x.org"],
        "full": [],
        "not_student": [],
    }
    refused = await client.post(
        url(course, "/enrollments/bulk"), json={"emails": []}, headers=student.auth
    )
    assert refused.status_code == 403
    extra = await client.post(
        url(course, "/enrollments/bulk"), json={"emails": [], "role": "admin"}, headers=teacher.auth
    )
    assert extra.status_code == 422


async def test_bulk_enrollment_takes_a_csv_file(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    a, b = await signed_up(client, container), await signed_up(client, container)
    csv_text = f"email\r\n{a.email}\r\n\r\n{b.email}\r\nghost@example.com\r\n"
    answer = await client.post(
        url(course, "/enrollments/bulk"),
        files={"file": ("people.csv", csv_text.encode(), "text/csv")},
        headers=teacher.auth,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "enrolled": 2,
        "already": 0,
        "unknown": ["ghost@example.com"],
        "full": [],
        "not_student": [],
    }
    many = "\n".join(f"s{n}@example.com" for n in range(5001)).encode()
    queued = await client.post(
        url(course, "/enrollments/bulk"),
        files={"file": ("many.csv", many, "text/csv")},
        headers=teacher.auth,
    )
    assert queued.status_code == 202  # over OCP_BULK_SYNC_MAX: a job
    assert queued.headers["location"].startswith("/api/v1/jobs/")
    too_many = "\n".join(f"s{n}@example.com" for n in range(100_001)).encode()
    refused = await client.post(
        url(course, "/enrollments/bulk"),
        files={"file": ("many.csv", too_many, "text/csv")},
        headers=teacher.auth,
    )
    assert refused.status_code == 422
    odd = await client.post(
        url(course, "/enrollments/bulk"),
        content=b"x",
        headers={**teacher.auth, "content-type": "text/plain"},
    )
    assert odd.status_code == 415


# --- reviews -------------------------------------------------------------------------------


async def test_a_review_answers_with_itself_and_the_course_shows_its_rating(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    student = await enrolled(client, container, course)
    written = await client.put(
        url(course, "/reviews/me"), json={"rating": 5, "comment": "great"}, headers=student.auth
    )
    assert written.status_code == 200
    review = written.json()
    assert (review["user_id"], review["rating"], review["comment"]) == (student.id, 5, "great")
    shown = (await client.get(url(course))).json()
    assert (shown["rating_avg"], shown["rating_count"]) == (5.0, 1)
    listed = (await client.get(url(course, "/reviews"))).json()
    assert [r["id"] for r in listed["items"]] == [review["id"]]
    too_many = await client.put(
        url(course, "/reviews/me"), json={"rating": 6}, headers=student.auth
    )
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["loc"] == ["body", "rating"]


# --- assignments, submissions, grades ------------------------------------------------------


async def test_an_assignment_carries_an_etag_that_an_edit_must_match(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    made = await an_assignment(client, teacher, course, due_at="2030-01-31T12:00:00Z")
    assert made["allow_late"] is True and made["due_at"].startswith("2030-01-31T12:00:00")
    path = f"/api/v1/assignments/{made['id']}"
    one = await client.get(path, headers=teacher.auth)
    assert one.status_code == 200 and one.headers["etag"]
    stale = await client.patch(
        path, json={"title": "y"}, headers={**teacher.auth, "If-Match": '"99"'}
    )
    assert stale.status_code == 412
    edited = await client.patch(
        path,
        json={"title": "Essay 2", "due_at": None},
        headers={**teacher.auth, "If-Match": one.headers["etag"]},
    )
    assert edited.status_code == 200
    assert (edited.json()["title"], edited.json()["due_at"]) == ("Essay 2", None)
    assert edited.headers["etag"] != one.headers["etag"]
    assert (await client.patch(path, json={"grade": 1}, headers=teacher.auth)).status_code == 422


async def test_a_grade_out_of_bounds_answers_422_naming_the_points_field(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    student = await enrolled(client, container, course)
    assignment = await an_assignment(client, teacher, course, max_points=10)
    work = await submit(client, student, assignment["id"])
    assert work.status_code == 201
    grade = f"/api/v1/submissions/{work.json()['id']}/grade"
    for points in (10.5, -1):
        answer = await client.put(grade, json={"points": points}, headers=teacher.auth)
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["loc"] == ["body", "points"]
    graded = await client.put(grade, json={"points": 7.5, "feedback": "good"}, headers=teacher.auth)
    assert graded.status_code == 200 and graded.json()["points"] == 7.5
    mine = await client.get(url(course, "/grades/me"), headers=student.auth)
    (item,) = mine.json()["items"]
    assert (item["points"], item["feedback"], item["max_points"]) == (7.5, "good", 10)


async def test_a_submission_naming_a_file_not_the_students_own_answers_422_saying_so(
    client, container
):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    one, two = await enrolled(client, container, course), await enrolled(client, container, course)
    assignment = await an_assignment(client, teacher, course, allowed_types=["application/pdf"])
    mine = (await upload(client, one, PDF, "submission", course.id)).json()["id"]
    theirs = (await upload(client, two, PDF, "submission", course.id)).json()["id"]
    for file_id in (theirs, "no-such-file"):
        answer = await submit(client, one, assignment["id"], file_ids=[file_id])
        assert answer.status_code == 422
        assert (
            answer.json()["detail"]
            == f"{file_id} is not one of your submission files for this course"
        )
    work = await submit(client, one, assignment["id"], file_ids=[mine])
    assert work.status_code == 201
    assert (work.json()["file_ids"], work.json()["attempt"], work.json()["late"]) == (
        [mine],
        1,
        False,
    )


async def test_the_gradebook_as_json_and_safe_csv(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    tricky = await enrolled(client, container, course, name="=HYPERLINK(1)")
    quiet = await enrolled(client, container, course)
    first = await an_assignment(client, teacher, course, title="+Essay")
    second = await an_assignment(client, teacher, course, title="Quiz", max_points=5)
    work = (await submit(client, tricky, first["id"])).json()["id"]
    await client.put(f"/api/v1/submissions/{work}/grade", json={"points": 8}, headers=teacher.auth)
    await submit(client, quiet, second["id"])
    book = await client.get(url(course, "/gradebook"), headers=teacher.auth)
    assert book.status_code == 200
    rows = {row["user"]["id"]: row for row in book.json()["items"]}
    assert [a["id"] for a in book.json()["assignments"]] == [first["id"], second["id"]]
    assert [g["points"] for g in rows[tricky.id]["grades"]] == [8, None]
    assert rows[tricky.id]["total"] == 8
    assert [g["submitted"] for g in rows[quiet.id]["grades"]] == [False, True]
    sheet = await client.get(url(course, "/gradebook?format=csv"), headers=teacher.auth)
    assert sheet.headers["content-type"].startswith("text/csv")
    assert (
        sheet.headers["content-disposition"]
        == f'attachment; filename="gradebook-{course.slug}.csv"'
    )
    lines = sheet.text.splitlines()
    assert lines[0] == "user_id,full_name,email,'+Essay (/10),Quiz (/5),total"
    assert f"{tricky.id},'=HYPERLINK(1),{tricky.email},8,,8" in lines
    assert (
        await client.get(url(course, "/gradebook?format=xml"), headers=teacher.auth)
    ).status_code == 422


async def test_every_learning_route_is_documented(client):
    spec = (await client.get("/openapi.json")).json()
    learning = {
        path: ops
        for path, ops in spec["paths"].items()
        if any(
            word in path
            for word in (
                "enrollments",
                "completion",
                "progress",
                "reviews",
                "assignments",
                "submissions",
                "gradebook",
                "grades",
            )
        )
    }
    assert len(learning) >= 14
    for ops in learning.values():
        for op in ops.values():
            assert op["summary"] and op["tags"]
            assert any(code.startswith("4") for code in op["responses"])
