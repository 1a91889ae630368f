"""Contracts of the file ports, written once and run against every adapter.

`FileStoreContract` needs a `store` fixture (memory, disk, S3); the repository contracts
need `files` and `uploads` fixtures (memory, MongoDB).
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from ocp.domain.errors import (
    ChecksumMismatch,
    Conflict,
    NotFound,
    PayloadTooLarge,
    RuleViolated,
)
from ocp.domain.files import FilePurpose, StoredFile, UploadSession
from tests.contracts import FromStores

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
MIB = 1 << 20


async def chunks_of(data: bytes, size: int = 65_536):
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


async def read_all(stream) -> bytes:
    return b"".join([chunk async for chunk in stream])


class Boom(Exception):
    pass


async def failing_after(data: bytes, error: BaseException):
    yield data
    raise error


async def keys_of(store) -> set[str]:
    return {info.key async for info in store.list_objects()}


class FileStoreContract:
    async def test_write_returns_size_and_sha256_and_reads_back(self, store):
        data = bytes(range(256)) * 1000
        written = await store.write("k1", chunks_of(data), max_bytes=len(data))
        assert (written.size, written.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        assert await read_all(await store.open("k1")) == data
        info = await store.stat("k1")
        assert info.size == len(data) and info.key == "k1"

    async def test_move_puts_the_object_under_the_new_key_beyond_the_old_ones_reach(self, store):
        await store.write("staged", chunks_of(b"checked bytes"), max_bytes=100)
        await store.move("staged", "final")
        assert await keys_of(store) == {"final"}
        await store.write("staged", chunks_of(b"written later"), max_bytes=100)
        assert await read_all(await store.open("final")) == b"checked bytes"
        moved = await store.stat("final")
        assert moved is not None and moved.size == len(b"checked bytes")

    async def test_moving_nothing_is_not_found(self, store):
        with pytest.raises(NotFound):
            await store.move("nothing-here", "final")

    async def test_an_empty_object_is_an_object(self, store):
        written = await store.write("empty", chunks_of(b""), max_bytes=10)
        assert written.size == 0 and (await store.stat("empty")).size == 0
        assert await read_all(await store.open("empty")) == b""

    async def test_a_range_reads_exactly_those_bytes(self, store):
        data = b"0123456789" * 1000
        await store.write("k1", chunks_of(data, 777), max_bytes=10**6)
        assert await read_all(await store.open("k1", 5, 14)) == data[5:15]
        assert await read_all(await store.open("k1", 9990)) == data[9990:]
        assert await read_all(await store.open("k1", 9995, 10**9)) == data[9995:]

    async def test_passing_the_limit_stops_the_write_and_leaves_nothing(self, store):
        with pytest.raises(PayloadTooLarge):
            await store.write("big", chunks_of(b"x" * 5000, 1000), max_bytes=4999)
        assert await store.stat("big") is None
        assert "big" not in await keys_of(store)

    async def test_exactly_the_limit_is_accepted(self, store):
        written = await store.write("k", chunks_of(b"x" * 5000, 1000), max_bytes=5000)
        assert written.size == 5000

    async def test_a_failing_stream_leaves_nothing_and_keeps_the_earlier_object(self, store):
        await store.write("k", chunks_of(b"old"), max_bytes=100)
        with pytest.raises(Boom):
            await store.write("k", failing_after(b"new bytes", Boom()), max_bytes=100)
        assert await read_all(await store.open("k")) == b"old"
        with pytest.raises(Boom):
            await store.write("fresh", failing_after(b"partial", Boom()), max_bytes=100)
        assert await store.stat("fresh") is None
        assert await keys_of(store) == {"k"}

    async def test_missing_objects(self, store):
        assert await store.stat("nope") is None
        with pytest.raises(NotFound):
            await store.open("nope")
        await store.delete("nope")  # nothing happens

    async def test_delete_removes_the_object(self, store):
        await store.write("k", chunks_of(b"abc"), max_bytes=100)
        await store.delete("k")
        assert await store.stat("k") is None
        assert await keys_of(store) == set()

    async def test_list_objects_lists_every_key(self, store):
        for n in range(5):
            await store.write(f"key-{n}", chunks_of(b"x" * n), max_bytes=100)
        found = {info.key: info.size async for info in store.list_objects()}
        assert found == {f"key-{n}": n for n in range(5)}

    @pytest.mark.parametrize("key", ["../etc/passwd", "a/b", "", "x" * 200, "name.png"])
    async def test_keys_that_could_name_a_path_are_refused(self, store, key):
        with pytest.raises(RuleViolated):
            await store.write(key, chunks_of(b"x"), max_bytes=100)

    async def test_the_store_is_ready(self, store):
        assert await store.ready()

    # --- appending (resumable uploads); sizes pass S3's 5 MiB parts --------------------

    async def test_parts_appended_become_one_object_once_sealed(self, store):
        data = hashlib.sha256(b"seed").digest() * (MIB // 32) * 12 + b"end"
        assert await store.appended("k") is None
        offset = 0
        for piece in (data[: 3 * MIB], data[3 * MIB : 10 * MIB], data[10 * MIB :]):
            offset = await store.append("k", offset, chunks_of(piece, MIB), len(data), None)
            assert await store.appended("k") == offset
        assert offset == len(data)
        await store.seal("k")
        assert (await store.stat("k")).size == len(data)
        assert hashlib.sha256(await read_all(await store.open("k"))).digest() == (
            hashlib.sha256(data).digest()
        )

    async def test_the_running_digest_is_fed_exactly_the_bytes_kept(self, store):
        data = b"r" * (6 * MIB)
        running = hashlib.sha256()
        await store.append("k", 0, chunks_of(data[:MIB]), len(data), None, running)
        await store.append("k", MIB, chunks_of(data[MIB:], MIB), len(data), None, running)
        assert running.digest() == hashlib.sha256(data).digest()

    async def test_an_append_at_another_offset_is_a_conflict(self, store):
        with pytest.raises(Conflict):
            await store.append("k", 5, chunks_of(b"abc"), 100)
        await store.append("k", 0, chunks_of(b"abc"), 100)
        for wrong in (0, 2, 4):
            with pytest.raises(Conflict):
                await store.append("k", wrong, chunks_of(b"def"), 100)
        assert await store.appended("k") == 3

    async def test_a_part_that_fails_its_checksum_is_cut_off_again(self, store):
        await store.append("k", 0, chunks_of(b"abc"), 10 * MIB)
        part = b"p" * (6 * MIB)
        with pytest.raises(ChecksumMismatch):
            await store.append("k", 3, chunks_of(part, MIB), 10 * MIB, b"\0" * 32)
        assert await store.appended("k") == 3
        sha = hashlib.sha256(part).digest()
        assert await store.append("k", 3, chunks_of(part, MIB), 10 * MIB, sha) == 3 + len(part)
        await store.seal("k")
        assert await read_all(await store.open("k")) == b"abc" + part

    async def test_what_arrived_before_the_client_went_away_is_kept(self, store):
        data = b"h" * (6 * MIB) + b"t" * MIB
        with pytest.raises(Boom):
            await store.append("k", 0, failing_after(data[: 6 * MIB], Boom()), len(data))
        kept = await store.appended("k")
        assert kept == 6 * MIB
        await store.append("k", kept, chunks_of(data[kept:]), len(data))
        await store.seal("k")
        assert await read_all(await store.open("k")) == data

    async def test_appending_past_the_size_is_refused_and_keeps_the_offset(self, store):
        with pytest.raises(PayloadTooLarge):
            await store.append("k", 0, chunks_of(b"x" * 11), 10)
        assert await store.appended("k") == 0

    async def test_two_appends_at_once_never_interleave(self, store):
        async def slowly(byte: bytes):
            for _ in range(8):
                await asyncio.sleep(0.01)
                yield byte * (MIB // 2)

        outcomes = await asyncio.gather(
            store.append("k", 0, slowly(b"a"), 10 * MIB),
            store.append("k", 0, slowly(b"b"), 10 * MIB),
            return_exceptions=True,
        )
        won = [o for o in outcomes if not isinstance(o, BaseException)]
        assert won == [4 * MIB] and isinstance(next(o for o in outcomes if o not in won), Conflict)
        await store.seal("k")
        content = await read_all(await store.open("k"))
        assert content in (b"a" * 4 * MIB, b"b" * 4 * MIB)

    async def test_an_unfinished_append_is_listed_under_its_key_and_deleted_whole(self, store):
        await store.append("k", 0, chunks_of(b"u" * (6 * MIB), MIB), 10 * MIB)
        assert await store.stat("other") is None
        assert await keys_of(store) == {"k"}
        await store.delete("k")
        assert await store.appended("k") is None
        assert await keys_of(store) == set()
        await store.append("k", 0, chunks_of(b"again"), 10)  # starts afresh
        assert await store.appended("k") == 5

    async def test_an_empty_append_seals_into_an_empty_object(self, store):
        assert await store.append("k", 0, chunks_of(b""), 0) == 0
        await store.seal("k")
        assert (await store.stat("k")).size == 0
        with pytest.raises(NotFound):
            await store.seal("nothing")


def a_file(owner: str = "u1", n: int = 1, **fields) -> StoredFile:
    values = {
        "id": f"f{n:04d}",
        "owner_id": owner,
        "purpose": FilePurpose.LESSON_MATERIAL,
        "filename": f"notes {n}.pdf",
        "content_type": "application/pdf",
        "size": 10 * n,
        "sha256": hashlib.sha256(str(n).encode()).hexdigest(),
        "storage_key": f"f{n:04d}",
        "created_at": NOW,
        "course_id": "c1",
    }
    values.update(fields)
    return StoredFile(**values)


def a_session(n: int = 1, *, expires_in_s: int = 3600, **fields) -> UploadSession:
    values = {
        "id": f"up{n:04d}",
        "owner_id": "u1",
        "purpose": FilePurpose.AVATAR,
        "filename": "me.png",
        "size": 100,
        "declared_type": "image/png",
        "storage_key": f"up-up{n:04d}",
        "token_hash": "h" * 64,
        "created_at": NOW,
        "expires_at": NOW + timedelta(seconds=expires_in_s),
        "course_id": None,
    }
    values.update(fields)
    return UploadSession(**values)


class FileRepositoryContract(FromStores):
    async def test_a_recorded_file_reads_back_equal(self, files):
        file = a_file()
        await files.add(file)
        assert await files.get(file.id) == file
        assert await files.get("nope") is None

    async def test_ids_are_unique(self, files):
        await files.add(a_file())
        with pytest.raises(Conflict):
            await files.add(a_file())

    async def test_get_many_reads_the_existing_ones_at_once(self, files):
        made = [a_file(n=n) for n in (1, 2, 3)]
        for file in made:
            await files.add(file)
        found = await files.get_many(["f0003", "nope", "f0001", "f0003"])
        assert sorted(found, key=lambda f: f.id) == [made[0], made[2]]
        assert await files.get_many([]) == []

    async def test_delete_answers_whether_it_removed_one(self, files):
        await files.add(a_file())
        assert await files.delete("f0001") is True
        assert await files.delete("f0001") is False
        assert await files.get("f0001") is None

    async def test_list_owned_pages_newest_first_with_filters(self, files):
        for n in range(1, 8):
            purpose = FilePurpose.SUBMISSION if n % 2 else FilePurpose.LESSON_MATERIAL
            await files.add(a_file("u1", n, purpose=purpose, course_id=f"c{n % 3}"))
        await files.add(a_file("u2", 99))
        page = await files.list_owned("u1", purpose=None, course_id=None, before_id=None, limit=3)
        assert [f.id for f in page] == ["f0007", "f0006", "f0005"]
        page = await files.list_owned(
            "u1", purpose=None, course_id=None, before_id="f0005", limit=10
        )
        assert [f.id for f in page] == ["f0004", "f0003", "f0002", "f0001"]
        subs = await files.list_owned(
            "u1", purpose=FilePurpose.SUBMISSION, course_id=None, before_id=None, limit=10
        )
        assert [f.id for f in subs] == ["f0007", "f0005", "f0003", "f0001"]
        in_c1 = await files.list_owned("u1", purpose=None, course_id="c1", before_id=None, limit=10)
        assert [f.id for f in in_c1] == ["f0007", "f0004", "f0001"]

    async def test_keys_in_use(self, files):
        await files.add(a_file(n=1))
        await files.add(a_file(n=2))
        assert await files.keys_in_use(["f0001", "orphan", "f0002"]) == {"f0001", "f0002"}
        assert await files.keys_in_use([]) == set()


class UploadSessionRepositoryContract(FromStores):
    async def test_a_session_reads_back_and_is_deleted_once(self, uploads):
        session = a_session()
        await uploads.add(session)
        assert await uploads.get(session.id) == session
        assert await uploads.delete(session.id) is True
        assert await uploads.delete(session.id) is False
        assert await uploads.get(session.id) is None

    async def test_expired_sessions_oldest_first(self, uploads):
        await uploads.add(a_session(1, expires_in_s=-10))
        await uploads.add(a_session(2, expires_in_s=3600))
        await uploads.add(a_session(3, expires_in_s=-100))
        assert [s.id for s in await uploads.expired(NOW, 10)] == ["up0003", "up0001"]
        assert [s.id for s in await uploads.expired(NOW, 1)] == ["up0003"]

    async def test_keys_in_use(self, uploads):
        await uploads.add(a_session(1))
        assert await uploads.keys_in_use(["up-up0001", "other"]) == {"up-up0001"}
