"""Resumable uploads (tus 1.0) as a client drives them (in-memory adapters): create, send in
parts, ask where it stands, resume after a lost part, checksums, termination, and the same
checks and file record as `POST /files` at the end."""

from __future__ import annotations

import base64
import hashlib

from ocp.domain.users import Role
from tests.builders import PNG, signed_up

TUS = {"Tus-Resumable": "1.0.0"}
STREAM = {"Content-Type": "application/offset+octet-stream"}


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def create(client, account, length: int, **meta: str):
    return await client.post(
        "/api/v1/files/tus",
        headers={
            **TUS,
            **account.auth,
            "Upload-Length": str(length),
            "Upload-Metadata": metadata(**meta),
        },
    )


async def test_an_upload_sent_in_parts_becomes_the_same_file_as_a_form_upload(client, container):
    student = await signed_up(client, container)
    options = await client.options("/api/v1/files/tus")
    assert options.status_code == 204 and options.headers["tus-version"] == "1.0.0"
    assert "checksum" in options.headers["tus-extension"]
    assert options.headers["tus-checksum-algorithm"] == "sha256"

    made = await create(client, student, len(PNG), filename="me.png", purpose="avatar")
    assert made.status_code == 201, made.text
    where = made.headers["location"]
    assert made.headers["upload-offset"] == "0" and "upload-expires" in made.headers
    half = len(PNG) // 2
    first = await client.patch(
        where, content=PNG[:half], headers={**TUS, **STREAM, **student.auth, "Upload-Offset": "0"}
    )
    assert first.status_code == 204 and first.headers["upload-offset"] == str(half)
    assert "ocp-file-id" not in first.headers
    # The connection dropped: the client asks where it stands and sends only the rest.
    head = await client.head(where, headers={**TUS, **student.auth})
    assert head.status_code == 200 and head.headers["upload-offset"] == str(half)
    assert head.headers["upload-length"] == str(len(PNG))
    stale = await client.patch(
        where, content=PNG, headers={**TUS, **STREAM, **student.auth, "Upload-Offset": "0"}
    )
    assert stale.status_code == 409
    last = await client.patch(
        where,
        content=PNG[half:],
        headers={**TUS, **STREAM, **student.auth, "Upload-Offset": str(half)},
    )
    assert last.status_code == 204 and last.headers["upload-offset"] == str(len(PNG))
    file_id = last.headers["ocp-file-id"]
    stored = (await client.get(f"/api/v1/files/{file_id}", headers=student.auth)).json()
    assert stored["content_type"] == "image/png" and stored["size"] == len(PNG)
    assert stored["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert stored["filename"] == "me.png" and stored["purpose"] == "avatar"
    again = await client.head(where, headers={**TUS, **student.auth})
    assert again.headers["ocp-file-id"] == file_id


async def test_an_upload_is_only_its_owners_and_checksums_are_checked(client, container):
    owner = await signed_up(client, container)
    other = await signed_up(client, container)
    made = await create(client, owner, len(PNG), filename="a.png", purpose="avatar")
    where = made.headers["location"]
    assert (await client.head(where, headers={**TUS, **other.auth})).status_code == 404
    assert (await client.head(where, headers=TUS)).status_code == 401
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    refused = await client.patch(
        where,
        content=PNG,
        headers={
            **TUS,
            **STREAM,
            **owner.auth,
            "Upload-Offset": "0",
            "Upload-Checksum": f"sha256 {wrong}",
        },  # fmt: skip
    )
    assert refused.status_code == 460
    head = await client.head(where, headers={**TUS, **owner.auth})
    assert head.headers["upload-offset"] == "0"  # the part was cut off again
    right = base64.b64encode(hashlib.sha256(PNG).digest()).decode()
    done = await client.patch(
        where,
        content=PNG,
        headers={
            **TUS,
            **STREAM,
            **owner.auth,
            "Upload-Offset": "0",
            "Upload-Checksum": f"sha256 {right}",
        },  # fmt: skip
    )
    assert done.status_code == 204 and "ocp-file-id" in done.headers


async def test_the_last_byte_runs_the_upload_checks_and_termination_forgets(client, container):
    teacher = await signed_up(client, container, Role.INSTRUCTOR)
    text = b"not a png at all, just text" * 10
    made = await create(client, teacher, len(text), filename="x.png", purpose="avatar")
    where = made.headers["location"]
    refused = await client.patch(
        where, content=text, headers={**TUS, **STREAM, **teacher.auth, "Upload-Offset": "0"}
    )
    assert refused.status_code == 415  # sniffed: not an image, as POST /files says
    assert (await client.head(where, headers={**TUS, **teacher.auth})).status_code == 404
    too_big = await create(client, teacher, 10**12, filename="big.bin", purpose="avatar")
    assert too_big.status_code == 413
    gone = await create(client, teacher, 10, filename="a.png", purpose="avatar")
    place = gone.headers["location"]
    assert (await client.delete(place, headers={**TUS, **teacher.auth})).status_code == 204
    assert (await client.head(place, headers={**TUS, **teacher.auth})).status_code == 404
    plain = await client.patch(
        place, content=b"x", headers={**TUS, **teacher.auth, "Upload-Offset": "0"}
    )
    assert plain.status_code == 422  # not application/offset+octet-stream
