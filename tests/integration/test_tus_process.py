"""Resumable uploads with a real tus client (`tuspy`) against `ocp serve` and SecantusDB, on
the disk store and on S3 (moto's server): the connection of a 64 MiB upload drops halfway
through a request; the client asks where the upload stands, sends only the missing bytes,
and the upload ends as the same checked, hashed file record."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tusclient import client as tus

from tests.builders import JWT_SECRET, PASSWORD, png_bytes
from tests.integration.processes import serving

MIB = 1 << 20
SIZE = 64 * MIB


@pytest.fixture(params=["local", "s3"])
def store_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "local":
        return {"OCP_FILE_STORE": "local"}
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = request.getfixturevalue("bucket")
    return {"OCP_FILE_STORE": "s3", "OCP_S3_BUCKET": bucket, "OCP_S3_ENDPOINT_URL": endpoint}


def _patch_then_drop(url: str, token: str, content: bytes, sent: int) -> None:
    """A PATCH announcing all of `content`, whose connection is gone after `sent` bytes."""
    target = urlsplit(url)
    head = (
        f"PATCH {target.path} HTTP/1.1\r\nHost: {target.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
        f"Content-Type: application/offset+octet-stream\r\nContent-Length: {len(content)}\r\n\r\n"
    )
    with socket.create_connection((target.hostname, target.port)) as conn:
        conn.sendall(head.encode())
        for start in range(0, sent, MIB):
            conn.sendall(content[start : min(start + MIB, sent)])
        time.sleep(0.5)  # what is in flight reaches the server


def _settled_offset(url: str, auth: dict[str, str]) -> int:
    """The offset once the dropped request has let go (it stops changing)."""
    seen = -1
    for _ in range(100):
        offset = int(httpx.head(url, headers=auth).headers["upload-offset"])
        if offset == seen and offset > 0:
            return offset
        seen = offset
        time.sleep(0.2)
    raise AssertionError(f"the offset never settled (last {seen})")


def test_an_upload_dropped_halfway_resumes_with_only_the_missing_bytes(
    mongo_uri: str, tmp_path: Path, store_env: dict[str, str]
):
    content = png_bytes(os.urandom(SIZE - 64))
    content += b"\0" * (SIZE - len(content))
    with serving(
        tmp_path,
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB=f"tus_{store_env['OCP_FILE_STORE']}",
        OCP_JWT_SECRET=JWT_SECRET,
        **store_env,
    ) as server:
        email = "tus@example.com"
        httpx.post(
            f"{server.base}/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": "Tus"},
        ).raise_for_status()
        token = httpx.post(
            f"{server.base}/api/v1/auth/token", data={"username": email, "password": PASSWORD}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
        endpoint = f"{server.base}/api/v1/files/tus"
        metadata = {"filename": "big.png", "purpose": "avatar"}

        created = tus.TusClient(endpoint, headers=auth).uploader(
            file_stream=io.BytesIO(content), chunk_size=SIZE, metadata=metadata
        )
        url = created.create_url()
        _patch_then_drop(url, token, content, SIZE // 2)
        kept = _settled_offset(url, auth)
        # All but what was still in buffers when the connection went (the disk store keeps
        # whole 4 MiB batches; S3 keeps every byte that arrived).
        assert SIZE // 2 - 8 * MIB <= kept <= SIZE // 2

        sent: list[int] = []
        resumed = tus.TusClient(endpoint, headers=auth).uploader(
            file_stream=io.BytesIO(content), chunk_size=8 * MIB, url=url, metadata=metadata
        )
        assert resumed.offset == kept  # asked the server (HEAD) where it stands
        while resumed.offset < len(content):
            before = resumed.offset
            resumed.upload_chunk()
            sent.append(resumed.offset - before)
        assert sum(sent) == len(content) - kept  # only the missing bytes

        head = httpx.head(url, headers=auth)
        file_id = head.headers["ocp-file-id"]
        record = httpx.get(f"{server.base}/api/v1/files/{file_id}", headers=auth).json()
        assert record["size"] == len(content) and record["content_type"] == "image/png"
        assert record["sha256"] == hashlib.sha256(content).hexdigest()
        body = httpx.get(
            f"{server.base}/api/v1/files/{file_id}/content", headers=auth, follow_redirects=True
        )
        assert hashlib.sha256(body.content).hexdigest() == record["sha256"]
