"""Files without HTTP: sniffing, filenames, ranges, and the use cases on in-memory adapters
(garbage collection, direct uploads, avatars and course attachments)."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest

from ocp.adapters.memory.files import (
    InMemoryFileRepository,
    InMemoryFileStore,
    InMemoryUploadSessionRepository,
)
from ocp.adapters.sniff import MagicNumberSniffer
from ocp.adapters.system import TimeOrderedIds
from ocp.application.files import (
    FilePolicy,
    FileService,
    NewFile,
    OwnAvatarFiles,
    OwnCourseFiles,
)
from ocp.domain.errors import RangeNotSatisfiable, RuleViolated, UnsupportedContent
from ocp.domain.files import FilePurpose, check_content_type, sanitize_filename
from ocp.domain.users import Role
from ocp.entrypoints.http.routers.files import parse_range
from tests.contracts.files import chunks_of
from tests.support import a_user, png_bytes

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


class StepClock:
    def __init__(self) -> None:
        self.at = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def parts():
    return {
        "files": InMemoryFileRepository(),
        "uploads": InMemoryUploadSessionRepository(),
        "store": InMemoryFileStore(),
        "clock": StepClock(),
    }


@pytest.fixture
def service(parts):
    return FileService(
        files=parts["files"],
        uploads=parts["uploads"],
        store=parts["store"],
        sniffer=MagicNumberSniffer(),
        clock=parts["clock"],
        ids=TimeOrderedIds(),
        policy=FilePolicy(max_upload_bytes=10_000, direct_upload_ttl_s=600, gc_grace_s=60),
    )


PNG = png_bytes(b"\x00" * 100)


async def test_gc_removes_only_old_objects_nothing_points_to(service, parts):
    user = a_user()
    store, clock = parts["store"], parts["clock"]
    kept = await service.record(
        user, await service.receive(user, chunks_of(PNG)), NewFile("a.png", "avatar")
    )
    await store.write("orphan", chunks_of(b"left behind"), max_bytes=100)
    await store.write("fresh-orphan", chunks_of(b"being recorded"), max_bytes=100)
    for key in (kept.storage_key, "orphan"):
        store.age(key, clock.now() - timedelta(hours=2))
    store.age("fresh-orphan", clock.now())
    report = await service.collect_garbage(batch=1)
    assert report.objects_removed == 1
    assert {i.key async for i in store.list_objects()} == {kept.storage_key, "fresh-orphan"}


async def test_gc_forgets_expired_uploads_and_then_their_objects(service, parts):
    user = a_user()
    clock, store = parts["clock"], parts["store"]
    from ocp.application.files import DirectUploadRequest

    ticket = await service.start_direct_upload(
        user, DirectUploadRequest("a.png", len(PNG), "image/png", "avatar")
    )
    await service.receive_direct(ticket.session.id, ticket.token, chunks_of(PNG))
    store.age(ticket.session.storage_key, clock.now())
    assert (await service.collect_garbage()).objects_removed == 0  # a live upload's object
    clock.at += timedelta(hours=1)  # the upload expired and its object is past the grace
    report = await service.collect_garbage()
    assert (report.sessions_removed, report.objects_removed) == (1, 1)
    assert await parts["uploads"].get(ticket.session.id) is None
    assert [i async for i in store.list_objects()] == []


async def test_an_expired_direct_upload_takes_no_bytes(service, parts):
    user = a_user()
    from ocp.application.files import DirectUploadRequest
    from ocp.domain.errors import NotFound

    ticket = await service.start_direct_upload(
        user, DirectUploadRequest("a.png", len(PNG), "image/png", "avatar")
    )
    parts["clock"].at += timedelta(seconds=601)
    with pytest.raises(NotFound):
        await service.receive_direct(ticket.session.id, ticket.token, chunks_of(PNG))


async def test_a_refused_record_removes_the_received_content(service, parts):
    user = a_user()
    received = await service.receive(user, chunks_of(b"just text"))
    with pytest.raises(UnsupportedContent):
        await service.record(user, received, NewFile("a.png", "avatar"))
    with pytest.raises(RuleViolated):
        await service.record(
            user, await service.receive(user, chunks_of(PNG)), NewFile("a.png", "nope")
        )
    assert [i async for i in parts["store"].list_objects()] == []


async def test_avatar_and_course_attachment_checks(service, parts):
    owner, other = a_user(), a_user()
    admin = a_user(Role.ADMIN)
    avatar = await service.record(
        owner, await service.receive(owner, chunks_of(PNG)), NewFile("a.png", "avatar")
    )
    cover = await service.record(
        admin,
        await service.receive(admin, chunks_of(PNG)),
        NewFile("c.png", "course_cover", "c1"),
    )
    avatars = OwnAvatarFiles(parts["files"])
    assert await avatars.is_usable_avatar(owner.id, avatar.id)
    assert not await avatars.is_usable_avatar(other.id, avatar.id)
    assert not await avatars.is_usable_avatar(admin.id, cover.id)
    assert not await avatars.is_usable_avatar(owner.id, "missing")
    attach = OwnCourseFiles(parts["files"])
    assert await attach.is_attachable(cover.id, admin.id, "c1", "course_cover")
    assert not await attach.is_attachable(cover.id, admin.id, "c2", "course_cover")
    assert not await attach.is_attachable(cover.id, admin.id, "c1", "lesson_material")
    assert not await attach.is_attachable(cover.id, owner.id, "c1", "course_cover")


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
