"""The file store contract on S3, against moto's server mode over HTTP (boto3 talks to a real
socket, as it would to MinIO or AWS), plus multipart uploads and presigned URLs."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

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


# --- browsers reach the store by another name; the bucket made at start -----------------


def public_twin(endpoint: str) -> str:
    """The same moto server under another host name, as a browser would name MinIO's
    published port while the API reaches it on the compose network."""
    return endpoint.replace("127.0.0.1", "localhost")


async def test_presigned_urls_are_signed_for_the_public_host_and_work_there(s3_endpoint, bucket):
    public = public_twin(s3_endpoint)
    store = S3FileStore(bucket, endpoint_url=s3_endpoint, public_endpoint_url=public)
    put = await store.presign_put("browser", ttl_s=60)
    assert urlsplit(put.url).netloc == urlsplit(public).netloc
    async with httpx.AsyncClient() as browser:
        sent = await browser.request(put.method, put.url, content=b"from a browser")
        assert sent.status_code == 200, sent.text
        url = await store.presign_get("browser", 60, "b.txt", "text/plain")
        assert urlsplit(url).netloc == urlsplit(public).netloc
        got = await browser.get(url)
    assert got.status_code == 200 and got.content == b"from a browser"
    # The server's own calls go to the internal endpoint.
    assert await read_all(await store.open("browser")) == b"from a browser"
    await store.close()


def cors_rules(endpoint: str, name: str) -> list[dict]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    return client.get_bucket_cors(Bucket=name)["CORSRules"]


async def test_ensure_bucket_creates_it_with_cors_for_browsers_and_is_idempotent(s3_endpoint):
    store = S3FileStore("ocp-made-at-start", endpoint_url=s3_endpoint)
    origins = ["https://app.example", "http://localhost:5173"]
    await store.ensure_bucket(origins)
    await store.write("kept", chunks_of(b"still here"), max_bytes=100)
    await store.ensure_bucket(origins)  # a second process starting: nothing lost, no error
    assert await read_all(await store.open("kept")) == b"still here"
    [rule] = cors_rules(s3_endpoint, "ocp-made-at-start")
    assert rule["AllowedOrigins"] == origins
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD", "PUT"]
    assert rule["ExposeHeaders"] == ["ETag"]
    await store.close()


async def test_the_api_creates_its_bucket_and_hands_browsers_the_public_host(tmp_path, s3_endpoint):
    from ocp.container import Container
    from tests.builders import app_client, signed_up, test_settings

    public = public_twin(s3_endpoint)
    container = Container.for_settings(
        test_settings(
            tmp_path,
            file_store="s3",
            s3_bucket="ocp-api-made",
            s3_endpoint_url=s3_endpoint,
            s3_public_endpoint_url=public,
            s3_create_bucket=True,
            s3_redirect_downloads=True,
            cors_origins=["https://app.example"],
        )
    )
    async with app_client(container) as client, httpx.AsyncClient() as browser:
        assert cors_rules(s3_endpoint, "ocp-api-made")[0]["AllowedOrigins"] == [
            "https://app.example"
        ]
        me = await signed_up(client, container)
        ticket = (
            await client.post(
                "/api/v1/files/uploads",
                json={"filename": "d.png", "size": len(PNG), "content_type": "image/png"}
                | {"purpose": "avatar"},
                headers=me.auth,
            )
        ).json()
        assert ticket["url"].startswith(public + "/")
        sent = await browser.request(
            ticket["method"], ticket["url"], content=PNG, headers=ticket["headers"]
        )
        assert sent.status_code == 200
        done = await client.post(
            f"/api/v1/files/uploads/{ticket['upload_id']}/complete", headers=me.auth
        )
        assert done.status_code == 201, done.text  # verified through the internal endpoint
        redirect = await client.get(f"/api/v1/files/{done.json()['id']}/content")
        assert redirect.status_code == 307
        assert redirect.headers["location"].startswith(public + "/")
        assert (await browser.get(redirect.headers["location"])).content == PNG


async def test_head_of_a_redirected_download_answers_itself(s3_api):
    """A presigned GET is signed for GET: HEAD is answered by the API, from the record."""
    from tests.builders import signed_up, upload

    client, container = s3_api
    me = await signed_up(client, container)
    file = (await upload(client, me, PNG, "avatar")).json()
    head = await client.head(f"/api/v1/files/{file['id']}/content")
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(PNG))
    assert head.headers["etag"] == f'"{file["sha256"]}"'


async def test_a_part_the_store_refused_stays_in_the_tail_and_nothing_is_lost(
    s3_store, small_parts, monkeypatch
):
    """The store fails one part's upload mid-append: what arrived is still kept whole (the
    refused part's bytes wait in the tail), and the upload resumes and completes intact."""
    from ocp.application.ports.common import DependencyUnavailable as Down

    data = hashlib.sha256(b"tail").digest() * ((12 << 20) // 32)
    real = s3_store._put_part
    calls = 0

    async def flaky(name, upload_id, number, part):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Down("file store")
        return await real(name, upload_id, number, part)

    monkeypatch.setattr(s3_store, "_put_part", flaky)
    with pytest.raises(Down):
        await s3_store.append("k", 0, chunks_of(data[: 11 << 20], 1 << 20), len(data))
    kept = await s3_store.appended("k")
    assert kept == 10 << 20  # every byte that arrived: one part stored, the refused one in the tail
    monkeypatch.setattr(s3_store, "_put_part", real)
    await s3_store.append("k", kept, chunks_of(data[kept:], 1 << 20), len(data))
    await s3_store.seal("k")
    assert await read_all(await s3_store.open("k")) == data
