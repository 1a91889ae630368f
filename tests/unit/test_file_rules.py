"""Files without HTTP: sniffing, filenames, ranges, and the use cases on in-memory adapters
(garbage collection, direct uploads, avatars and course attachments)."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest

from ocp.adapters.sniff import MagicNumberSniffer
from ocp.application.files import DirectUploadRequest
from ocp.domain.errors import NotFound, RuleViolated, UnsupportedContent
from ocp.domain.files import FilePurpose, StoredFile, check_content_type, sanitize_filename
from ocp.entrypoints.http.problems import RangeNotSatisfiable
from ocp.entrypoints.http.routers.files import parse_range
from tests.builders import PDF, a_user, png_bytes, use_cases
from tests.contracts.files import chunks_of

sniff = MagicNumberSniffer().sniff


def two_mp3_frames() -> bytes:
    """Two MPEG-1 Layer III frames, 128 kbit/s at 44.1 kHz: 417 bytes each."""
    frame = b"\xff\xfb\x90\x64" + bytes(413)
    return frame + frame


def zipped(*names: str, first: tuple[str, str] | None = None) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if first:
            archive.writestr(zipfile.ZipInfo(first[0]), first[1], compress_type=zipfile.ZIP_STORED)
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (png_bytes(b"...."), "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x10\x00\x10\x00\x00\x00\x00,....", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"%PDF-1.4\n", "application/pdf"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00", "video/mp4"),
        (b"\x00\x00\x00\x20ftypheic\x00\x00", None),
        (b"\x1a\x45\xdf\xa3\x01\x00\x00\x00\x00\x00\x00\x1fB\x82\x84webm", "video/webm"),
        (b"OggS\x00\x02", "audio/ogg"),
        (b"ID3\x03\x00\x00\x00\x00\x01\x7f", "audio/mpeg"),
        (two_mp3_frames(), "audio/mpeg"),
        ("plain text, naïve café\n".encode(), "text/plain"),
        (b"\xef\xbb\xbfwith a BOM", "text/plain"),
        (b"binary\x00data", None),
        (b"\x1b[31mescape codes", None),
        (b"<html><script>alert(1)</script>", "text/plain"),  # served as text, nosniff
        (b"MZ\x90\x00\x03", None),
        (b"\xc3", None),  # a cut character in a complete content is not text
    ],
)
def test_the_bytes_decide_the_type(head, kind):
    assert sniff(head, complete=True) == kind


def test_a_character_cut_at_the_end_of_a_partial_head_is_still_text():
    assert sniff("é".encode() * 10 + "é".encode()[:1], complete=False) == "text/plain"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (zipped("a.txt"), "application/zip"),
        (
            zipped("[Content_Types].xml", "_rels/.rels", "word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            zipped("[Content_Types].xml", "ppt/presentation.xml"),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        (
            zipped("[Content_Types].xml", "xl/workbook.xml"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            zipped("content.xml", first=("mimetype", "application/vnd.oasis.opendocument.text")),
            "application/vnd.oasis.opendocument.text",
        ),
        (
            zipped("OEBPS/x.html", first=("mimetype", "application/epub+zip")),
            "application/epub+zip",
        ),
    ],
)
def test_zip_based_documents_are_told_apart(data, kind):
    assert sniff(data[:16_384], complete=True) == kind


def test_each_purpose_has_its_allow_list():
    assert check_content_type(FilePurpose.AVATAR, "image/webp") == "image/webp"
    assert check_content_type(FilePurpose.LESSON_MATERIAL, "video/mp4") == "video/mp4"
    assert check_content_type(FilePurpose.SUBMISSION, "text/plain") == "text/plain"
    for purpose, kind in [
        (FilePurpose.AVATAR, "application/pdf"),
        (FilePurpose.COURSE_COVER, "text/plain"),
        (FilePurpose.SUBMISSION, "video/mp4"),
        (FilePurpose.LESSON_MATERIAL, None),
    ]:
        with pytest.raises(UnsupportedContent):
            check_content_type(purpose, kind)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("report.pdf", "report.pdf"),
        ("../../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\thesis.docx", "thesis.docx"),
        ("line\nbreak\r.txt", "line break .txt"),
        ("nul\x00byte.png", "nulbyte.png"),
        ("  ..hidden.  ", "hidden"),
        ("", "file"),
        ("/", "file"),
        ("e\u0301cole.txt", "\u00e9cole.txt"),  # NFC
    ],
)
def test_filenames_are_sanitized(sent, kept):
    assert sanitize_filename(sent) == kept


def test_a_long_filename_keeps_its_extension():
    name = sanitize_filename("x" * 300 + ".tar.gz")
    assert len(name) == 200 and name.endswith(".gz")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=0-", (0, 999)),
        ("bytes=-1", (999, 999)),
        ("bytes=990-2000", (990, 999)),
        ("bytes=0-1,5-6", None),  # several ranges: the whole content
        ("items=0-1", None),  # another unit: ignored
    ],
)
def test_range_headers(header, expected):
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-4", "bytes=x-", "bytes=-0", "bytes="])
def test_unsatisfiable_ranges(header):
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1000)


# --- use cases -----------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path):
    return use_cases(
        tmp_path, max_upload_bytes=10_000, direct_upload_ttl_s=600, files_gc_grace_s=60
    )


@pytest.fixture
def store(app):
    return app.container.file_store()


PNG = png_bytes(b"\x00" * 100)


def form(content: bytes, *, fail_after_file: bool = False, **fields: str):
    """A multipart form as `UploadService.upload` reads it: the file part, then the fields."""

    async def read(on_file):
        await on_file(chunks_of(content), fields.pop("filename", "a.png"))
        if fail_after_file:
            raise RuleViolated("is not a field of this form", field="extra")
        return fields

    return read


async def test_gc_removes_only_old_objects_nothing_points_to(app, store):
    user = a_user()
    kept = await app.uploads.upload(user, form(PNG, purpose="avatar"))
    await store.write("orphan", chunks_of(b"left behind"), max_bytes=100)
    await store.write("fresh-orphan", chunks_of(b"being recorded"), max_bytes=100)
    for key in (kept.storage_key, "orphan"):
        store.age(key, app.clock.now() - timedelta(hours=2))
    store.age("fresh-orphan", app.clock.now())
    report = await app.files.collect_garbage(batch=1)
    assert report.objects_removed == 1
    assert {i.key async for i in store.list_objects()} == {kept.storage_key, "fresh-orphan"}


async def test_gc_forgets_expired_uploads_and_then_their_objects(app, store):
    user = a_user()
    ticket = await app.direct_uploads.start_direct_upload(
        user, DirectUploadRequest("a.png", len(PNG), "image/png", "avatar")
    )
    await app.direct_uploads.receive_direct(ticket.session.id, ticket.token, chunks_of(PNG))
    store.age(ticket.session.storage_key, app.clock.now())
    assert (await app.files.collect_garbage()).objects_removed == 0  # a live upload's object
    app.clock.advance(3600)  # the upload expired and its object is past the grace
    report = await app.files.collect_garbage()
    assert (report.sessions_removed, report.objects_removed) == (1, 1)
    assert await app.stores.upload_sessions.get(ticket.session.id) is None
    assert [i async for i in store.list_objects()] == []


async def test_an_expired_direct_upload_takes_no_bytes(app):
    user = a_user()
    ticket = await app.direct_uploads.start_direct_upload(
        user, DirectUploadRequest("a.png", len(PNG), "image/png", "avatar")
    )
    app.clock.advance(601)
    with pytest.raises(NotFound):
        await app.direct_uploads.receive_direct(ticket.session.id, ticket.token, chunks_of(PNG))


async def test_a_refused_upload_leaves_no_content_behind(app, store):
    user = a_user()
    with pytest.raises(UnsupportedContent):
        await app.uploads.upload(user, form(b"just text", purpose="avatar"))
    with pytest.raises(RuleViolated):
        await app.uploads.upload(user, form(PNG, purpose="nope"))
    with pytest.raises(RuleViolated):
        await app.uploads.upload(user, form(PNG))  # no purpose
    with pytest.raises(RuleViolated):  # a part after the file is refused: the file goes too
        await app.uploads.upload(user, form(PNG, purpose="avatar", fail_after_file=True))
    with pytest.raises(RuleViolated):  # a course of which the uploader is not staff
        await app.uploads.upload(user, form(PDF, purpose="lesson_material", course_id="c1"))
    assert [i async for i in store.list_objects()] == []
    assert (await app.files.list_files(user)).items == []


async def test_a_client_gone_mid_upload_leaves_no_content_behind(app, store):
    user = a_user()

    async def vanishing(on_file):
        async def chunks():
            yield PNG[:50]
            raise ConnectionResetError("the client went away")

        await on_file(chunks(), "a.png")
        return {"purpose": "avatar"}

    with pytest.raises(ConnectionResetError):
        await app.uploads.upload(user, vanishing)
    assert [i async for i in store.list_objects()] == []


def test_a_file_is_attachable_only_by_its_owner_for_its_purpose_and_course():
    cover = StoredFile(
        id="f1",
        owner_id="u1",
        purpose=FilePurpose.COURSE_COVER,
        filename="c.png",
        content_type="image/png",
        size=1,
        sha256="0" * 64,
        storage_key="f1",
        created_at=datetime(2026, 1, 31, tzinfo=UTC),
        course_id="c1",
    )
    assert cover.attachable_by("u1", FilePurpose.COURSE_COVER, "c1")
    assert not cover.attachable_by("u1", FilePurpose.COURSE_COVER, "c2")
    assert not cover.attachable_by("u1", FilePurpose.LESSON_MATERIAL, "c1")
    assert not cover.attachable_by("u2", FilePurpose.COURSE_COVER, "c1")
    avatar = replace(cover, purpose=FilePurpose.AVATAR, course_id=None)
    assert avatar.attachable_by("u1", FilePurpose.AVATAR)
    assert not avatar.attachable_by("u2", FilePurpose.AVATAR)


@pytest.mark.parametrize(
    "head",
    [
        b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",
        png_bytes()[:-1] + b"\x00",  # the IHDR CRC does not match
        png_bytes(width=0),
        b"GIF89a<script>alert(1)</script>",
        b"%PDF<html><script>alert(1)</script>",
        b"%PDF-1.7\n<html><body><script>alert(1)</script>",
        b"\xff\xd8\xff<html>",
        b"RIFF\x00\x00\x00\x00WEBP<html>",
        "plain words, but in UTF-16".encode("utf-16"),
        "plain words, but in UTF-16".encode("utf-16-be"),
        b"\xff\xff\xff\xff",  # frame sync, then a reserved version and layer
        b"\xff\xfb\xf0\x64",  # bitrate index 15
    ],
)
def test_a_signature_in_front_of_something_else_is_no_such_file(head):
    assert sniff(head, True) not in ("image/png", "image/gif", "image/jpeg", "image/webp")
    assert sniff(head, True) not in ("application/pdf", "audio/mpeg")
