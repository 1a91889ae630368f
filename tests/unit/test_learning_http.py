"""Learning over HTTP on the in-memory adapters: enrollment, progress, assignments, submissions,
grades and reviews as a client sees them."""

from __future__ import annotations

from tests.builders import (
    a_course,
    a_teacher,
    an_assignment,
    enrolled,
    signed_up,
    submit,
    url,
)

# --- enrollment ----------------------------------------------------------------------------


async def test_enrolling_twice_answers_the_same_enrollment(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    student = await signed_up(client, container)
    first = await client.post(url(course, "/enrollments"), headers=student.auth)
    again = await client.post(url(course, "/enrollments"), headers=student.auth)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["progress"] == {"completed": 0, "total": 2, "percent": 0}
    shown = await client.get(f"/api/v1/courses/{course.id}")
    assert shown.json()["enrolled_count"] == 1


async def test_a_full_or_unpublished_course_refuses_enrollment(client, container):
    teacher = await a_teacher(client, container)
    full = await a_course(client, teacher, capacity=1)
    await enrolled(client, container, full)
    late = await signed_up(client, container)
    answer = await client.post(url(full, "/enrollments"), headers=late.auth)
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    archived = await a_course(client, teacher)
    await client.post(url(archived, "/archive"), headers=teacher.auth)
    assert (await client.post(url(archived, "/enrollments"), headers=late.auth)).status_code == 409
    draft = await a_course(client, teacher, publish=False)
    assert (await client.post(url(draft, "/enrollments"), headers=late.auth)).status_code == 404
    assert (await client.post(url(draft, "/enrollments"))).status_code == 401


async def test_dropping_gives_the_seat_back(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher, capacity=1)
    student = await enrolled(client, container, course)
    other = await signed_up(client, container)
    assert (await client.post(url(course, "/enrollments"), headers=other.auth)).status_code == 409
    dropped = await client.delete(url(course, "/enrollments/me"), headers=student.auth)
    assert dropped.status_code == 204
    assert (
        await client.delete(url(course, "/enrollments/me"), headers=student.auth)
    ).status_code == 403
    assert (await client.post(url(course, "/enrollments"), headers=other.auth)).status_code == 201
    assert (await client.get(url(course))).json()["enrolled_count"] == 1


async def test_progress_counts_current_lessons_and_finishing_sets_completed_at(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher, lessons=3)
    student = await enrolled(client, container, course)
    first, second, third = course.lesson_ids
    for lesson in (first, first, second):  # idempotent
        done = await client.put(f"/api/v1/lessons/{lesson}/completion", headers=student.auth)
        assert done.status_code == 204
    progress = (await client.get(url(course, "/progress"), headers=student.auth)).json()
    assert progress["completed_lesson_ids"] == [first, second]
    assert (progress["completed"], progress["total"], progress["percent"]) == (2, 3, 66)
    assert progress["completed_at"] is None
    await client.put(f"/api/v1/lessons/{third}/completion", headers=student.auth)
    progress = (await client.get(url(course, "/progress"), headers=student.auth)).json()
    assert progress["percent"] == 100 and progress["completed_at"] is not None
    await client.delete(f"/api/v1/lessons/{third}/completion", headers=student.auth)
    progress = (await client.get(url(course, "/progress"), headers=student.auth)).json()
    assert progress["completed"] == 2 and progress["completed_at"] is None
    # A lesson deleted later no longer counts, done or not.
    await client.delete(f"/api/v1/lessons/{second}", headers=teacher.auth)
    progress = (await client.get(url(course, "/progress"), headers=student.auth)).json()
    assert (progress["completed"], progress["total"]) == (1, 2)


async def test_only_enrolled_students_complete_lessons(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    stranger = await signed_up(client, container)
    lesson = course.lesson_ids[0]
    answer = await client.put(f"/api/v1/lessons/{lesson}/completion", headers=stranger.auth)
    assert answer.status_code == 403
    assert (await client.get(url(course, "/progress"), headers=stranger.auth)).status_code == 403
    missing = await client.put("/api/v1/lessons/nope/completion", headers=stranger.auth)
    assert missing.status_code == 404


async def test_my_enrollments_show_course_and_progress(client, container):
    teacher = await a_teacher(client, container)
    first = await a_course(client, teacher, title="First course")
    second = await a_course(client, teacher, title="Second course", lessons=1)
    student = await enrolled(client, container, first)
    await client.post(url(second, "/enrollments"), headers=student.auth)
    await client.put(f"/api/v1/lessons/{second.lesson_ids[0]}/completion", headers=student.auth)
    page = await client.get("/api/v1/users/me/enrollments?limit=1", headers=student.auth)
    assert page.status_code == 200 and 'rel="next"' in page.headers["link"]
    item = page.json()["items"][0]
    assert item["course"] == {"id": first.id, "slug": first.slug, "title": "First course"}
    rest = await client.get(
        f"/api/v1/users/me/enrollments?cursor={page.json()['next_cursor']}", headers=student.auth
    )
    (last,) = rest.json()["items"]
    assert last["course"]["id"] == second.id
    assert last["progress"] == {"completed": 1, "total": 1, "percent": 100}
    assert last["completed_at"] is not None and rest.json()["next_cursor"] is None


async def test_the_roster_is_for_staff_with_progress_and_pages(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    students = [await enrolled(client, container, course) for _ in range(3)]
    await client.put(f"/api/v1/lessons/{course.lesson_ids[0]}/completion", headers=students[0].auth)
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = await client.get(url(course, "/enrollments" + query), headers=teacher.auth)
        assert page.status_code == 200
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert [item["user"]["id"] for item in seen] == [s.id for s in students]
    assert seen[0]["progress"]["completed"] == 1 and seen[0]["user"]["email"] == students[0].email
    assert (
        await client.get(url(course, "/enrollments"), headers=students[1].auth)
    ).status_code == 403
    bad = await client.get(url(course, "/enrollments?cursor=@@@"), headers=teacher.auth)
    assert bad.status_code == 400
    assert (
        await client.get(url(course, "/enrollments?limit=101"), headers=teacher.auth)
    ).status_code == 422


async def test_bulk_enrollment_reports_enrolled_already_unknown_and_full(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher, capacity=3)
    inside = await enrolled(client, container, course)
    new = [await signed_up(client, container) for _ in range(3)]
    emails = [
        inside.email.upper(),
        new[0].email,
        new[1].email,
        new[2].email,
        "nobody@x.org",
        "junk",
    ]
    answer = await client.post(
        url(course, "/enrollments/bulk"), json={"emails": emails}, headers=teacher.auth
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["enrolled"], report["already"]) == (2, 1)
    assert sorted(report["unknown"]) == ["junk", "nobody@x.org"]
    assert report["full"] == [new[2].email]
    assert (await client.get(url(course))).json()["enrolled_count"] == 3
    student = await client.post(
        url(course, "/enrollments/bulk"), json={"emails": []}, headers=inside.auth
    )
    assert student.status_code == 403
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
    too_many = "\n".join(f"s{n}@example.com" for n in range(5001)).encode()
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


async def test_reviews_keep_the_course_rating_exact(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    one, two = await enrolled(client, container, course), await enrolled(client, container, course)
    first = await client.put(
        url(course, "/reviews/me"), json={"rating": 5, "comment": "great"}, headers=one.auth
    )
    assert first.status_code == 200 and first.json()["rating"] == 5
    await client.put(url(course, "/reviews/me"), json={"rating": 2}, headers=two.auth)
    shown = (await client.get(url(course))).json()
    assert (shown["rating_avg"], shown["rating_count"]) == (3.5, 2)
    edited = await client.put(url(course, "/reviews/me"), json={"rating": 4}, headers=two.auth)
    assert edited.json()["id"] != first.json()["id"]
    shown = (await client.get(url(course))).json()
    assert (shown["rating_avg"], shown["rating_count"]) == (4.5, 2)
    listed = (await client.get(url(course, "/reviews"))).json()
    assert [r["rating"] for r in listed["items"]] == [4, 5]
    popular = (await client.get("/api/v1/courses?sort=rating")).json()["items"]
    assert popular[0]["id"] == course.id


async def test_only_enrolled_students_review_and_ratings_are_1_to_5(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    student = await enrolled(client, container, course)
    stranger = await signed_up(client, container)
    assert (
        await client.put(url(course, "/reviews/me"), json={"rating": 6}, headers=student.auth)
    ).status_code == 422
    assert (
        await client.put(url(course, "/reviews/me"), json={"rating": 0}, headers=student.auth)
    ).status_code == 422
    assert (
        await client.put(url(course, "/reviews/me"), json={"rating": 3}, headers=stranger.auth)
    ).status_code == 403
    draft = await a_course(client, teacher, publish=False)
    assert (await client.get(url(draft, "/reviews"))).status_code == 404
    assert (
        await client.put(url(draft, "/reviews/me"), json={"rating": 3}, headers=stranger.auth)
    ).status_code == 404


# --- assignments, submissions, grades ------------------------------------------------------


async def test_staff_set_assignments_students_read_them(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    student = await enrolled(client, container, course)
    stranger = await signed_up(client, container)
    made = await an_assignment(client, teacher, course, due_at="2030-01-31T12:00:00Z")
    assert made["allow_late"] is True and made["due_at"].startswith("2030-01-31T12:00:00")
    refused = await client.post(
        url(course, "/assignments"), json={"title": "x", "max_points": 5}, headers=student.auth
    )
    assert refused.status_code == 403
    listed = await client.get(url(course, "/assignments"), headers=student.auth)
    assert [a["id"] for a in listed.json()["items"]] == [made["id"]]
    assert (await client.get(url(course, "/assignments"), headers=stranger.auth)).status_code == 403
    one = await client.get(f"/api/v1/assignments/{made['id']}", headers=student.auth)
    assert one.status_code == 200 and one.headers["etag"]
    assert (
        await client.get(f"/api/v1/assignments/{made['id']}", headers=stranger.auth)
    ).status_code == 404
    patch = f"/api/v1/assignments/{made['id']}"
    assert (await client.patch(patch, json={"title": "y"}, headers=student.auth)).status_code == 403
    stale = await client.patch(
        patch, json={"title": "y"}, headers={**teacher.auth, "If-Match": '"99"'}
    )
    assert stale.status_code == 412
    edited = await client.patch(
        patch,
        json={"title": "Essay 2", "due_at": None},
        headers={**teacher.auth, "If-Match": one.headers["etag"]},
    )
    assert edited.status_code == 200 and edited.json()["title"] == "Essay 2"
    assert edited.json()["due_at"] is None
    assert (await client.patch(patch, json={"grade": 1}, headers=teacher.auth)).status_code == 422
    assert (
        await client.patch(patch, json={"max_points": 0}, headers=teacher.auth)
    ).status_code == 422


async def test_resubmissions_keep_every_attempt_and_staff_see_the_latest(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    one, two = await enrolled(client, container, course), await enrolled(client, container, course)
    assignment = await an_assignment(client, teacher, course)
    first = await submit(client, one, assignment["id"], text="draft")
    second = await submit(client, one, assignment["id"], text="final")
    await submit(client, two, assignment["id"], text="only")
    assert first.status_code == 201 and second.json()["attempt"] == 2
    mine = await client.get(f"/api/v1/assignments/{assignment['id']}/submissions", headers=one.auth)
    assert [s["text"] for s in mine.json()["items"]] == ["draft", "final"]
    staff = await client.get(
        f"/api/v1/assignments/{assignment['id']}/submissions?limit=1", headers=teacher.auth
    )
    seen = staff.json()["items"]
    more = await client.get(
        f"/api/v1/assignments/{assignment['id']}/submissions?cursor={staff.json()['next_cursor']}",
        headers=teacher.auth,
    )
    seen += more.json()["items"]
    assert sorted(s["text"] for s in seen) == ["final", "only"]
    assert all(s["is_latest"] for s in seen)
    old = await client.put(
        f"/api/v1/submissions/{first.json()['id']}/grade", json={"points": 5}, headers=teacher.auth
    )
    assert old.status_code == 409


async def test_a_student_cannot_read_or_grade_another_submission(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    one, two = await enrolled(client, container, course), await enrolled(client, container, course)
    assignment = await an_assignment(client, teacher, course)
    work = (await submit(client, one, assignment["id"])).json()["id"]
    assert (await client.get(f"/api/v1/submissions/{work}", headers=two.auth)).status_code == 404
    assert (await client.get(f"/api/v1/submissions/{work}", headers=one.auth)).status_code == 200
    assert (
        await client.get(f"/api/v1/submissions/{work}", headers=teacher.auth)
    ).status_code == 200
    grade = f"/api/v1/submissions/{work}/grade"
    assert (await client.put(grade, json={"points": 10}, headers=two.auth)).status_code == 404
    assert (await client.put(grade, json={"points": 10}, headers=one.auth)).status_code == 403


async def test_points_must_lie_between_0_and_max_points(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    student = await enrolled(client, container, course)
    assignment = await an_assignment(client, teacher, course, max_points=10)
    work = (await submit(client, student, assignment["id"])).json()["id"]
    grade = f"/api/v1/submissions/{work}/grade"
    for points in (10.5, -1):
        answer = await client.put(grade, json={"points": points}, headers=teacher.auth)
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["loc"] == ["body", "points"]
    graded = await client.put(grade, json={"points": 7.5, "feedback": "good"}, headers=teacher.auth)
    assert graded.status_code == 200 and graded.json()["points"] == 7.5
    mine = await client.get(url(course, "/grades/me"), headers=student.auth)
    (item,) = mine.json()["items"]
    assert (item["points"], item["feedback"], item["max_points"]) == (7.5, "good", 10)
    lowered = await client.patch(
        f"/api/v1/assignments/{assignment['id']}", json={"max_points": 5}, headers=teacher.auth
    )
    assert lowered.status_code == 422


async def test_late_work_is_marked_or_refused(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    student = await enrolled(client, container, course)
    past = "2020-01-01T00:00:00Z"
    lenient = await an_assignment(client, teacher, course, due_at=past)
    strict = await an_assignment(client, teacher, course, due_at=past, allow_late=False)
    future = await an_assignment(client, teacher, course, due_at="2099-01-01T00:00:00Z")
    marked = await submit(client, student, lenient["id"])
    assert marked.status_code == 201 and marked.json()["late"] is True
    refused = await submit(client, student, strict["id"])
    assert refused.status_code == 409
    on_time = await submit(client, student, future["id"])
    assert on_time.json()["late"] is False


async def test_submissions_take_only_the_students_own_submission_files(client, container):
    from tests.builders import PDF, upload

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
    assert work.status_code == 201 and work.json()["file_ids"] == [mine]
    # Course staff read the attached file; another student does not.
    assert (await client.get(f"/api/v1/files/{mine}", headers=teacher.auth)).status_code == 200
    assert (await client.get(f"/api/v1/files/{mine}", headers=two.auth)).status_code == 404
    # Ungraded, the student may still delete it; graded, it is kept.
    await client.put(
        f"/api/v1/submissions/{work.json()['id']}/grade", json={"points": 9}, headers=teacher.auth
    )
    assert (await client.delete(f"/api/v1/files/{mine}", headers=one.auth)).status_code == 409


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
    assert (await client.get(url(course, "/gradebook"), headers=quiet.auth)).status_code == 403
    assert (
        await client.get(url(course, "/gradebook?format=xml"), headers=teacher.auth)
    ).status_code == 422


async def test_an_assignment_with_submissions_is_not_deleted(client, container):
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    student = await enrolled(client, container, course)
    used = await an_assignment(client, teacher, course)
    unused = await an_assignment(client, teacher, course)
    await submit(client, student, used["id"])
    assert (
        await client.delete(f"/api/v1/assignments/{used['id']}", headers=teacher.auth)
    ).status_code == 409
    assert (
        await client.delete(f"/api/v1/assignments/{unused['id']}", headers=student.auth)
    ).status_code == 403
    assert (
        await client.delete(f"/api/v1/assignments/{unused['id']}", headers=teacher.auth)
    ).status_code == 204
    assert (
        await client.get(f"/api/v1/assignments/{unused['id']}", headers=teacher.auth)
    ).status_code == 404


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
