"""The file store contract on S3, against moto's server mode over HTTP (boto3 talks to a real
socket, as it would to MinIO or AWS), plus multipart uploads and presigned URLs."""

from __future__ import annotations

import hashlib

import boto3
import httpx
import pytest

from ocp.adapters.storage import s3 as s3_module
from ocp.adapters.storage.s3 import S3FileStore
from ocp.application.ports.common import DependencyUnavailable
from tests.builders import png_bytes
from tests.contracts.files import Boom, FileStoreContract, chunks_of, failing_after, read_all
from tests.integration.processes import free_port


@pytest.fixture
def s3_store(s3_endpoint, bucket):
    return S3FileStore(bucket, endpoint_url=s3_endpoint, region="us-east-1")


class TestS3FileStore(FileStoreContract):
    @pytest.fixture
    def store(self, s3_store, small_parts):
        return s3_store


@pytest.fixture
def small_parts(monkeypatch):
    monkeypatch.setattr(s3_module, "PART_BYTES", 5 * 1024 * 1024)


async def test_a_large_object_goes_up_in_parts_and_reads_back(s3_store, small_parts):
    data = hashlib.sha256(b"seed").digest() * (12 * 1024 * 1024 // 32)  # 12 MiB: 3 parts
    written = await s3_store.write("big", chunks_of(data, 1 << 20), max_bytes=len(data))
    assert written.sha256 == hashlib.sha256(data).hexdigest()
    assert (
        await read_all(await s3_store.open("big", 6_000_000, 6_000_099))
        == data[6_000_000:6_000_100]
    )


async def test_a_failed_multipart_upload_is_aborted(s3_store, s3_endpoint, bucket, small_parts):
    data = b"y" * (6 * 1024 * 1024)
    with pytest.raises(Boom):
        await s3_store.write("half", failing_after(data, Boom()), max_bytes=10**9)
    assert await s3_store.stat("half") is None
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


async def test_presigned_put_and_get_work_over_http(s3_store):
    put = await s3_store.presign_put("direct", ttl_s=60)
    async with httpx.AsyncClient() as http:
        sent = await http.request(put.method, put.url, content=b"hello", headers=put.headers)
        assert sent.status_code == 200
        url = await s3_store.presign_get("direct", 60, "h\u00e9llo.txt", "text/plain")
        got = await http.get(url)
    assert got.content == b"hello"
    assert "filename*=UTF-8''h%C3%A9llo.txt" in got.headers["content-disposition"]


async def test_an_unreachable_endpoint_is_a_dependency_unavailable():
    store = S3FileStore("nope", endpoint_url=f"http://127.0.0.1:{free_port()}")
    assert not await store.ready()
    with pytest.raises(DependencyUnavailable):
        await store.write("k", chunks_of(b"x"), max_bytes=10)


PNG = png_bytes(bytes(200))


@pytest.fixture
async def s3_api(tmp_path, s3_endpoint, bucket):
    from ocp.container import Container
    from tests.builders import app_client, test_settings

    container = Container.for_settings(
        test_settings(
            tmp_path,
            file_store="s3",
            s3_bucket=bucket,
            s3_endpoint_url=s3_endpoint,
            s3_redirect_downloads=True,
        )
    )
    async with app_client(container) as http:
        yield http, container


async def test_the_api_on_s3_uploads_redirects_and_takes_direct_uploads(s3_api):
    from tests.builders import signed_up, upload

    client, container = s3_api
    me = await signed_up(client, container)
    assert (await client.get("/readyz")).json()["checks"]["file_store"] == "ok"
    file = (await upload(client, me, PNG, "avatar")).json()
    redirect = await client.get(f"/api/v1/files/{file['id']}/content")
    assert redirect.status_code == 307
    async with httpx.AsyncClient() as outside:
        assert (await outside.get(redirect.headers["location"])).content == PNG
        ticket = (
            await client.post(
                "/api/v1/files/uploads",
                json={
                    "filename": "d.png",
                    "size": len(PNG),
                    "content_type": "image/png",
                    "purpose": "avatar",
                },
                headers=me.auth,
            )
        ).json()
        assert ticket["url"].startswith("http://127.0.0.1")  # straight to the store
        sent = await outside.request(
            ticket["method"], ticket["url"], content=PNG, headers=ticket["headers"]
        )
        assert sent.status_code == 200
    done = await client.post(
        f"/api/v1/files/uploads/{ticket['upload_id']}/complete", headers=me.auth
    )
    assert done.status_code == 201, done.text
    assert done.json()["sha256"] == hashlib.sha256(PNG).hexdigest()
    # The presigned PUT is still valid: using it again must not change the recorded file.
    async with httpx.AsyncClient() as outside:
        await outside.request(
            ticket["method"], ticket["url"], content=b"not a png" * 30, headers=ticket["headers"]
        )
        redirect = await client.get(f"/api/v1/files/{done.json()['id']}/content")
        assert (await outside.get(redirect.headers["location"])).content == PNG


async def test_an_unfinished_append_is_spared_by_gc_until_deleted(
    s3_store, s3_endpoint, bucket, small_parts
):
    from datetime import UTC, datetime, timedelta

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    await s3_store.append("going", 0, chunks_of(b"g" * (6 << 20), 1 << 20), 10 << 20)
    with pytest.raises(Boom):
        await s3_store.write("crashed", failing_after(b"c" * (6 << 20), Boom()), 10**9)
    client.create_multipart_upload(Bucket=bucket, Key="left-by-a-dead-process")
    assert await s3_store.remove_stale_drafts(datetime.now(UTC) + timedelta(hours=1)) == 1
    assert [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket)["Uploads"]] == ["going"]
    await s3_store.delete("going")  # the upload given up, or expired and collected
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
