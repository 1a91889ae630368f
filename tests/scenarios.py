"""Scenarios a client plays over HTTP, run on the in-memory stores in `tests/unit` and again
on MongoDB in `tests/integration`: the behaviour must not depend on the technology."""

from __future__ import annotations

import asyncio
import csv
import io

from tests.builders import a_course, a_teacher, an_assignment, enrolled, signed_up, submit, url


async def one_student_floods_while_others_enroll(client, container) -> None:
    """One student fires 40 enrollments at once at a course of 5 seats while 4 others enroll:
    everyone gets in, the repeats answer 200 with the same enrollment, 5 of 5 seats taken."""
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher, capacity=5)
    flooder = await signed_up(client, container)
    others = [await signed_up(client, container) for _ in range(4)]
    answers = await asyncio.gather(
        *(client.post(url(course, "/enrollments"), headers=flooder.auth) for _ in range(40)),
        *(client.post(url(course, "/enrollments"), headers=s.auth) for s in others),
    )
    mine, theirs = answers[:40], answers[40:]
    assert sorted(a.status_code for a in mine) == [200] * 39 + [201], [
        a.text for a in mine if a.status_code >= 300
    ][:1]
    assert len({a.json()["id"] for a in mine}) == 1
    assert [a.status_code for a in theirs] == [201] * 4, [a.text for a in theirs]
    assert (await client.get(url(course))).json()["enrolled_count"] == 5
    roster = await client.get(url(course, "/enrollments?limit=100"), headers=teacher.auth)
    assert len(roster.json()["items"]) == 5
    late = await signed_up(client, container)
    refused = await client.post(url(course, "/enrollments"), headers=late.auth)
    assert refused.status_code == 409
    assert (await client.get(url(course))).json()["enrolled_count"] == 5


async def a_graded_course(client, container, students: int = 5):
    """A course with two assignments and `students` enrolled, each graded on the first."""
    teacher = await a_teacher(client, container)
    course = await a_course(client, teacher)
    people = [await enrolled(client, container, course, name=f"=cmd{n}") for n in range(students)]
    first = await an_assignment(client, teacher, course, title="-Essay")
    second = await an_assignment(client, teacher, course, title="Quiz", max_points=5)
    for n, student in enumerate(people):
        work = (await submit(client, student, first["id"])).json()["id"]
        await client.put(
            f"/api/v1/submissions/{work}/grade", json={"points": n}, headers=teacher.auth
        )
    return teacher, course, people, [first, second]


async def the_gradebook_comes_in_pages_with_a_link_to_the_next(client, container) -> None:
    teacher, course, people, assignments = await a_graded_course(client, container)
    seen, pages = [], 0
    target = url(course, "/gradebook?limit=2")
    while target:
        answer = await client.get(target, headers=teacher.auth)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages += 1
        assert [a["id"] for a in body["assignments"]] == [a["id"] for a in assignments]
        assert len(body["items"]) <= 2
        seen += [(row["user"]["id"], [g["points"] for g in row["grades"]]) for row in body["items"]]
        if body["next_cursor"] is None:
            assert "link" not in answer.headers
            target = None
        else:
            link = answer.headers["link"]
            assert link.endswith('>; rel="next"') and body["next_cursor"] in link
            target = link[1 : link.index(">")]
    assert pages == 3
    # Students in id order, each once, with their grades in the assignments' order.
    graded = sorted((p.id, [n, None]) for n, p in enumerate(people))
    assert seen == graded
    broken = await client.get(url(course, "/gradebook?cursor=nonsense"), headers=teacher.auth)
    assert broken.status_code == 400


async def the_gradebook_csv_is_the_whole_book_streamed_page_by_page(client, container) -> None:
    """Run with small export pages (`_EXPORT_PAGE = 2`): five students take three pages."""
    teacher, course, people, _ = await a_graded_course(client, container)
    sheet = await client.get(url(course, "/gradebook?format=csv&limit=1"), headers=teacher.auth)
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/csv")
    assert "content-length" not in sheet.headers  # streamed, not built whole first
    assert "link" not in sheet.headers
    rows = list(csv.reader(io.StringIO(sheet.text)))
    assert rows[0] == ["user_id", "full_name", "email", "'-Essay (/10)", "Quiz (/5)", "total"]
    expected = sorted(
        [p.id, f"'=cmd{n}", p.email, str(n), "", str(n)] for n, p in enumerate(people)
    )
    assert rows[1:] == expected
