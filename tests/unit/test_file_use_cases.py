"""Files as the use cases decide them on the in-memory stores: what an upload records, which
content and courses each purpose accepts, who may read and delete a file, listing one's own
files, and a direct upload from start to completion."""

from __future__ import annotations

import hashlib

import pytest

from ocp.application.courses import CourseDraft, LessonDraft
from ocp.application.files import DirectUploadRequest, DirectUploadTicket
from ocp.domain.courses import Course, LessonKind
from ocp.domain.errors import (
    Conflict,
    InvalidCursor,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RuleViolated,
    UnsupportedContent,
)
from ocp.domain.files import FilePurpose, StoredFile
from ocp.domain.users import ProfileChanges, Role, User
from tests.builders import (
    PDF,
    PNG,
    UseCases,
    a_member,
    a_published_course,
    a_user,
    use_cases,
)
from tests.contracts.files import chunks_of, read_all

LIMIT = 10_000
TEXT = "Hello, wörld\n".encode() * 20


@pytest.fixture
def app(tmp_path):
    return use_cases(tmp_path, max_upload_bytes=LIMIT)


@pytest.fixture
def store(app):
    return app.container.file_store()


def form(content: bytes | None, **fields: str):
    """A multipart form as `UploadService.upload` reads it: the file part (none when `content`
    is None), then the fields."""

    async def read(on_file):
        if content is not None:
            await on_file(chunks_of(content), fields.pop("filename", "a.bin"))
        return fields

    return read


async def stored_keys(store) -> set[str]:
    return {info.key async for info in store.list_objects()}


async def content_of(app: UseCases, actor: User | None, file_id: str) -> bytes:
    return await read_all(await app.files.content(await app.files.get_file(actor, file_id)))


async def a_draft_course(app: UseCases, owner: User) -> Course:
    return await app.courses.create_course(owner, CourseDraft("Files 101"))


async def published(app: UseCases, owner: User, course: Course) -> None:
    """Publish a draft course, giving it the lesson it needs first."""
    _, module = await app.outline.add_module(owner, course.id, "Module")
    await app.outline.add_lesson(owner, course.id, module.id, LessonDraft("L", LessonKind.TEXT))
    await app.courses.publish(owner, course.id)


async def a_lesson_using(
    app: UseCases, owner: User, course_id: str, file: StoredFile, *, preview: bool = False
) -> str:
    """A new module with one lesson showing `file`; the lesson's id."""
    _, module = await app.outline.add_module(owner, course_id, "Material")
    draft = LessonDraft("L", LessonKind.FILE, file_id=file.id, is_preview=preview)
    return (await app.outline.add_lesson(owner, course_id, module.id, draft)).id


async def a_course_with_students(app: UseCases, *students: User) -> tuple[User, Course]:
    """A published course of a new instructor, with `students` enrolled."""
    teacher = await a_member(app, Role.INSTRUCTOR)
    course = await a_published_course(app, teacher)
    for student in students:
        await app.enrollment.enroll(student, course.id)
    return teacher, course


def announced(size: int, purpose: str = "avatar", filename: str = "big.png"):
    return DirectUploadRequest(filename, size, "image/png", purpose)


async def sent(app: UseCases, ticket: DirectUploadTicket, data: bytes) -> None:
    await app.direct_uploads.receive_direct(ticket.session.id, ticket.token, chunks_of(data))


# --- uploads -------------------------------------------------------------------------------


async def test_an_upload_is_recorded_with_the_type_its_bytes_show(app, store):
    me = a_user()
    file = await app.uploads.upload(me, form(PNG, filename="me.pdf", purpose="avatar"))
    assert file.content_type == "image/png"
    assert (file.size, file.sha256) == (len(PNG), hashlib.sha256(PNG).hexdigest())
    assert (file.purpose, file.owner_id, file.course_id) == (FilePurpose.AVATAR, me.id, None)
    assert file.filename == "me.pdf"
    assert await stored_keys(store) == {file.id}
    assert await content_of(app, me, file.id) == PNG


@pytest.mark.parametrize(
    ("sent_name", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\evil.png", "evil.png"),
        ("/abs/path/.hidden", "hidden"),
        ("a\x01b\x1bc\x7f.png", "abc.png"),
        ("..", "file"),
        ("ok\u202etxt.png", "oktxt.png"),  # right-to-left override: a format character
        ("n" * 500 + ".png", "n" * 196 + ".png"),
    ],
)
async def test_an_uploaded_file_keeps_only_a_safe_name_and_is_stored_by_id(
    app, store, sent_name, kept
):
    file = await app.uploads.upload(a_user(), form(PNG, filename=sent_name, purpose="avatar"))
    assert file.filename == kept
    assert file.storage_key == file.id
    assert await stored_keys(store) == {file.id}


@pytest.mark.parametrize(
    ("content", "fields", "field"),
    [
        (PNG, {}, "purpose"),
        (PNG, {"purpose": "selfie"}, "purpose"),
        (PNG, {"purpose": "avatar", "course_id": "c1"}, "course_id"),
        (PDF, {"purpose": "lesson_material"}, "course_id"),
        (None, {"purpose": "avatar"}, "file"),
    ],
)
async def test_a_form_breaking_the_upload_rules_is_refused_and_leaves_nothing(
    app, store, content, fields, field
):
    me = a_user()
    with pytest.raises(RuleViolated) as refused:
        await app.uploads.upload(me, form(content, **fields))
    assert refused.value.field == field
    assert await stored_keys(store) == set()
    assert (await app.files.list_files(me)).items == []


@pytest.mark.parametrize(
    "content",
    [
        TEXT,
        b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script>",
        b"GIF89a<script>",
    ],
)
async def test_content_that_is_no_image_is_refused_as_an_avatar_and_leaves_nothing(
    app, store, content
):
    me = a_user()
    with pytest.raises(UnsupportedContent):
        await app.uploads.upload(me, form(content, filename="me.png", purpose="avatar"))
    assert await stored_keys(store) == set()
    assert (await app.files.list_files(me)).items == []


async def test_course_files_need_a_course_where_the_uploader_belongs(app):
    me = await a_member(app)
    teacher = await a_member(app, Role.INSTRUCTOR)
    course = await a_draft_course(app, teacher)
    with pytest.raises(RuleViolated) as refused:
        await app.uploads.upload(me, form(PDF, purpose="lesson_material", course_id=course.id))
    assert refused.value.field == "course_id"
    with pytest.raises(RuleViolated):
        await app.uploads.upload(me, form(PDF, purpose="submission", course_id=course.id))
    await published(app, teacher, course)
    await app.enrollment.enroll(me, course.id)
    with pytest.raises(RuleViolated):
        await app.uploads.upload(me, form(PDF, purpose="lesson_material", course_id=course.id))
    work = await app.uploads.upload(me, form(PDF, purpose="submission", course_id=course.id))
    assert (work.course_id, work.content_type) == (course.id, "application/pdf")
    with pytest.raises(UnsupportedContent):
        await app.uploads.upload(
            me, form(b"\x00\x01binary", purpose="submission", course_id=course.id)
        )
    with pytest.raises(RuleViolated):
        await app.uploads.upload(me, form(PDF, purpose="submission", course_id="no-such-course"))


async def test_an_upload_past_the_limit_is_refused_and_one_of_exactly_the_limit_is_kept(app, store):
    me = a_user()
    with pytest.raises(PayloadTooLarge):
        await app.uploads.upload(me, form(PNG + b"\x00" * 20_000, purpose="avatar"))
    assert await stored_keys(store) == set()
    exact = await app.uploads.upload(me, form(PNG + b"\x00" * (LIMIT - len(PNG)), purpose="avatar"))
    assert exact.size == LIMIT
    assert await stored_keys(store) == {exact.id}


# --- who may read --------------------------------------------------------------------------


async def test_who_may_read_lesson_material_follows_from_the_course(app):
    student, stranger = await a_member(app), await a_member(app)
    teacher, course = await a_course_with_students(app, student)
    file = await app.uploads.upload(
        teacher, form(PDF, purpose="lesson_material", course_id=course.id)
    )
    assert (await app.files.get_file(student, file.id)).id == file.id
    assert await content_of(app, student, file.id) == PDF
    with pytest.raises(NotFound):
        await app.files.get_file(stranger, file.id)
    with pytest.raises(NotFound):
        await app.files.get_file(None, file.id)
    await a_lesson_using(app, teacher, course.id, file, preview=True)
    assert await content_of(app, None, file.id) == PDF


async def test_another_students_submission_is_not_found_but_the_staff_read_it(app):
    owner, other = await a_member(app), await a_member(app)
    teacher, course = await a_course_with_students(app, owner, other)
    file = await app.uploads.upload(owner, form(PDF, purpose="submission", course_id=course.id))
    with pytest.raises(NotFound, match="no such file"):
        await app.files.get_file(other, file.id)
    with pytest.raises(NotFound, match="no such file"):
        await app.files.get_file(other, "doesnotexist")
    assert (await app.files.get_file(teacher, file.id)).id == file.id
    assert await content_of(app, teacher, file.id) == PDF


async def test_a_course_cover_is_public_once_the_course_is_published(app):
    teacher = await a_member(app, Role.INSTRUCTOR)
    course = await a_draft_course(app, teacher)
    cover = await app.uploads.upload(
        teacher, form(PNG, purpose="course_cover", course_id=course.id)
    )
    with pytest.raises(NotFound):
        await app.files.get_file(None, cover.id)
    await published(app, teacher, course)
    assert await content_of(app, None, cover.id) == PNG


# --- listing, avatars, deletion ------------------------------------------------------------


async def test_listing_shows_only_ones_own_files_newest_first_page_by_page(app):
    me, other = a_user(), a_user()
    ids = [(await app.uploads.upload(me, form(PNG, purpose="avatar"))).id for _ in range(3)]
    await app.uploads.upload(other, form(PNG, purpose="avatar"))
    first = await app.files.list_files(me, limit=2)
    assert [f.id for f in first.items] == ids[::-1][:2]
    assert first.next_cursor is not None
    second = await app.files.list_files(me, limit=2, cursor=first.next_cursor)
    assert [f.id for f in second.items] == [ids[0]]
    assert second.next_cursor is None
    assert (await app.files.list_files(me, purpose=FilePurpose.SUBMISSION)).items == []
    with pytest.raises(InvalidCursor):
        await app.files.list_files(me, cursor="%%%")


async def test_an_avatar_must_be_ones_own_avatar_file(app):
    me, other = await a_member(app), await a_member(app)
    mine = await app.uploads.upload(me, form(PNG, purpose="avatar"))
    theirs = await app.uploads.upload(other, form(PNG, purpose="avatar"))
    me = await app.profiles.update_profile(me, ProfileChanges(avatar_file_id=mine.id))
    assert me.avatar_file_id == mine.id
    with pytest.raises(RuleViolated) as refused:
        await app.profiles.update_profile(me, ProfileChanges(avatar_file_id=theirs.id))
    assert refused.value.field == "avatar_file_id"
    assert (await app.stores.users.get(me.id)).avatar_file_id == mine.id


async def test_only_the_owner_deletes_a_file_and_its_content_goes_with_it(app, store):
    me, other = a_user(), a_user()
    file = await app.uploads.upload(me, form(PNG, purpose="avatar"))
    with pytest.raises(PermissionDenied):
        await app.files.delete_file(other, file.id)
    assert await stored_keys(store) == {file.id}
    await app.files.delete_file(me, file.id)
    with pytest.raises(NotFound):
        await app.files.get_file(me, file.id)
    assert await stored_keys(store) == set()


async def test_a_file_a_lesson_uses_stays_until_the_lesson_goes(app, store):
    teacher = await a_member(app, Role.INSTRUCTOR)
    course = await a_draft_course(app, teacher)
    file = await app.uploads.upload(
        teacher, form(PDF, purpose="lesson_material", course_id=course.id)
    )
    lesson_id = await a_lesson_using(app, teacher, course.id, file)
    with pytest.raises(Conflict, match="a lesson still uses this file"):
        await app.files.delete_file(teacher, file.id)
    assert await content_of(app, teacher, file.id) == PDF
    await app.outline.delete_lesson(teacher, lesson_id)
    await app.files.delete_file(teacher, file.id)
    assert await stored_keys(store) == set()


async def test_an_admin_may_delete_a_file_a_stranger_cannot_even_see(app, store):
    owner, stranger = await a_member(app), await a_member(app)
    admin = await a_member(app, Role.ADMIN)
    _, course = await a_course_with_students(app, owner)
    file = await app.uploads.upload(owner, form(PDF, purpose="submission", course_id=course.id))
    with pytest.raises(NotFound):
        await app.files.delete_file(stranger, file.id)
    await app.files.delete_file(admin, file.id)
    with pytest.raises(NotFound):
        await app.files.get_file(owner, file.id)
    assert await stored_keys(store) == set()


# --- direct uploads ------------------------------------------------------------------------


async def test_a_direct_upload_is_recorded_once_its_bytes_have_arrived(app):
    me = a_user()
    ticket = await app.direct_uploads.start_direct_upload(me, announced(len(PNG)))
    with pytest.raises(Conflict):
        await app.direct_uploads.complete_direct_upload(me, ticket.session.id)
    await sent(app, ticket, PNG)
    file = await app.direct_uploads.complete_direct_upload(me, ticket.session.id)
    assert (file.size, file.content_type, file.filename) == (len(PNG), "image/png", "big.png")
    assert file.sha256 == hashlib.sha256(PNG).hexdigest()
    assert await content_of(app, None, file.id) == PNG
    with pytest.raises(NotFound):
        await app.direct_uploads.complete_direct_upload(me, ticket.session.id)


async def test_a_direct_upload_takes_bytes_only_with_its_token_and_completes_only_for_its_owner(
    app,
):
    me, other = a_user(), a_user()
    ticket = await app.direct_uploads.start_direct_upload(me, announced(len(PNG)))
    with pytest.raises(NotFound):
        await app.direct_uploads.receive_direct(ticket.session.id, "guess", chunks_of(PNG))
    await sent(app, ticket, PNG)
    with pytest.raises(NotFound):
        await app.direct_uploads.complete_direct_upload(other, ticket.session.id)
    assert (await app.direct_uploads.complete_direct_upload(me, ticket.session.id)).owner_id == (
        me.id
    )


async def test_a_direct_upload_gets_no_more_than_it_announced(app, store):
    me = a_user()
    ticket = await app.direct_uploads.start_direct_upload(me, announced(100))
    with pytest.raises(PayloadTooLarge):
        await sent(app, ticket, PNG)
    assert await stored_keys(store) == set()
    await sent(app, ticket, PNG[:50])
    with pytest.raises(Conflict):
        await app.direct_uploads.complete_direct_upload(me, ticket.session.id)


async def test_a_direct_upload_of_the_wrong_type_is_refused_on_completion(app, store):
    me = a_user()
    ticket = await app.direct_uploads.start_direct_upload(me, announced(len(TEXT)))
    await sent(app, ticket, TEXT)
    with pytest.raises(UnsupportedContent):
        await app.direct_uploads.complete_direct_upload(me, ticket.session.id)
    assert await stored_keys(store) == set()
    assert (await app.files.list_files(me)).items == []


async def test_a_direct_upload_over_the_limit_or_for_no_purpose_never_starts(app):
    me = a_user()
    with pytest.raises(PayloadTooLarge):
        await app.direct_uploads.start_direct_upload(me, announced(LIMIT + 1))
    with pytest.raises(RuleViolated) as refused:
        await app.direct_uploads.start_direct_upload(me, announced(10, purpose="selfie"))
    assert refused.value.field == "purpose"
    app.clock.advance(3_601)
    assert await app.stores.upload_sessions.expired(app.clock.now(), 10) == []


async def test_a_direct_upload_on_the_disk_store_keeps_one_object_under_the_files_id(tmp_path):
    app = use_cases(tmp_path, file_store="local")
    me = a_user()
    pdf_avatar = PDF * 1000
    ticket = await app.direct_uploads.start_direct_upload(me, announced(len(pdf_avatar)))
    await sent(app, ticket, pdf_avatar)
    with pytest.raises(UnsupportedContent):
        await app.direct_uploads.complete_direct_upload(me, ticket.session.id)
    ticket = await app.direct_uploads.start_direct_upload(me, announced(len(PNG)))
    await sent(app, ticket, PNG)
    file = await app.direct_uploads.complete_direct_upload(me, ticket.session.id)
    assert await read_all(await app.files.content(file, 0, 7)) == PNG[:8]
    stored = [p.name for p in (tmp_path / "files" / "objects").rglob("*") if p.is_file()]
    assert stored == [file.id]


async def test_bytes_sent_to_a_direct_upload_after_completion_never_reach_the_file(app, store):
    """A presigned PUT stays valid after completion, and a slow PUT may finish after it:
    neither may change the bytes that were checked, hashed and recorded."""
    me = a_user()
    ticket = await app.direct_uploads.start_direct_upload(me, announced(len(PNG)))
    await sent(app, ticket, PNG)
    file = await app.direct_uploads.complete_direct_upload(me, ticket.session.id)
    late = b"<html><script>alert(1)</script>" + bytes(len(PNG))
    await store.write(ticket.session.storage_key, chunks_of(late), LIMIT)
    assert await content_of(app, None, file.id) == PNG
    assert (await app.files.get_file(None, file.id)).sha256 == hashlib.sha256(PNG).hexdigest()
