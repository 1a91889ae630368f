"""Resumable uploads with a real tus client (`tuspy`) against `ocp serve` on the disk store
and SecantusDB: an upload dropped halfway resumes where the server says it stands, sends only
the missing bytes, and ends as the same checked, hashed file record."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import httpx
from tusclient import client as tus

from tests.builders import JWT_SECRET, PASSWORD, png_bytes
from tests.integration.processes import serving

CHUNK = 1 << 20  # 1 MiB parts


def test_an_upload_dropped_halfway_resumes_with_only_the_missing_bytes(
    mongo_uri: str, tmp_path: Path
):
    content = png_bytes(os.urandom(8 * CHUNK - 64))
    with serving(
        tmp_path,
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB="tus_process",
        OCP_JWT_SECRET=JWT_SECRET,
        OCP_FILE_STORE="local",
    ) as server:
        email = "tus@example.com"
        httpx.post(
            f"{server.base}/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": "Tus"},
        ).raise_for_status()
        token = httpx.post(
            f"{server.base}/api/v1/auth/token", data={"username": email, "password": PASSWORD}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        endpoint = f"{server.base}/api/v1/files/tus"
        metadata = {"filename": "big.png", "purpose": "avatar"}

        first = tus.TusClient(endpoint, headers=auth).uploader(
            file_stream=io.BytesIO(content), chunk_size=CHUNK, metadata=metadata
        )
        for _ in range(4):  # half of it, then the connection is gone
            first.upload_chunk()
        assert first.offset == 4 * CHUNK
        url = first.url

        sent: list[int] = []
        resumed = tus.TusClient(endpoint, headers=auth).uploader(
            file_stream=io.BytesIO(content), chunk_size=CHUNK, url=url, metadata=metadata
        )
        assert resumed.offset == 4 * CHUNK  # asked the server (HEAD) where it stands
        while resumed.offset < len(content):
            before = resumed.offset
            resumed.upload_chunk()
            sent.append(resumed.offset - before)
        assert sum(sent) == len(content) - 4 * CHUNK  # only the missing bytes

        head = httpx.head(url, headers={**auth, "Tus-Resumable": "1.0.0"})
        file_id = head.headers["ocp-file-id"]
        record = httpx.get(f"{server.base}/api/v1/files/{file_id}", headers=auth).json()
        assert record["size"] == len(content) and record["content_type"] == "image/png"
        assert record["sha256"] == hashlib.sha256(content).hexdigest()
        body = httpx.get(f"{server.base}/api/v1/files/{file_id}/content", headers=auth)
        assert hashlib.sha256(body.content).hexdigest() == record["sha256"]
