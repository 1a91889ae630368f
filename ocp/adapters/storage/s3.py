"""The S3 store (AWS, MinIO, Ceph, R2 ...) through boto3, every call in a worker thread.

Small objects go up in one PUT; from `PART_BYTES` on, as a multipart upload that is aborted
on any failure or cancellation, so no half object is ever visible. Direct uploads and
downloads may use presigned URLs.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import anyio
import anyio.to_thread
import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ocp.adapters.storage import batches, byte_range, checked_key
from ocp.application.ports.common import DependencyUnavailable
from ocp.application.ports.files import ObjectInfo, PresignedRequest, WrittenObject
from ocp.domain.errors import NotFound, RuleViolated

PART_BYTES = 8 << 20  # S3 parts must be at least 5 MiB (but the last)
READ_BYTES = 1 << 20
T = TypeVar("T")
_MISSING = ("404", "NoSuchKey", "NotFound")


class S3FileStore:
    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        prefix: str = "",
        client: Any = None,
    ) -> None:
        self._bucket = bucket
        self._prefix = prefix
        self._client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region,
            config=Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
                max_pool_connections=32,
                signature_version="s3v4",
                # MinIO and most self-hosted endpoints want path-style addressing.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
            ),
        )

    def _key(self, key: str) -> str:
        return self._prefix + checked_key(key)

    async def _call(self, method: Callable[..., T], /, **params: Any) -> T:
        try:
            return await anyio.to_thread.run_sync(lambda: method(**params))
        except (BotoCoreError, ClientError) as exc:
            raise DependencyUnavailable("file store") from exc

    async def _object_call(self, method: Callable[..., T], /, **params: Any) -> T:
        """`_call` on one object: a missing object is `NotFound`."""
        try:
            return await anyio.to_thread.run_sync(lambda: method(**params))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise NotFound("no such stored object") from None
            raise DependencyUnavailable("file store") from exc
        except BotoCoreError as exc:
            raise DependencyUnavailable("file store") from exc

    async def write(self, key: str, content: AsyncIterable[bytes], max_bytes: int) -> WrittenObject:
        name = self._key(key)
        digest = hashlib.sha256()
        size = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        done = False
        try:
            last: list[bytes] = []  # a batch short of a part: the content's end
            async for batch in batches(content, max_bytes=max_bytes, batch_bytes=PART_BYTES):
                batched = sum(map(len, batch))
                size += batched
                if batched < PART_BYTES:
                    last = batch
                    continue
                if upload_id is None:
                    started = await self._call(
                        self._client.create_multipart_upload, Bucket=self._bucket, Key=name
                    )
                    upload_id = started["UploadId"]
                await self._upload_part(name, upload_id, parts, digest, batch)
            if upload_id is None:
                data = b"".join(last)
                await anyio.to_thread.run_sync(digest.update, data)
                await self._call(self._client.put_object, Bucket=self._bucket, Key=name, Body=data)
            else:
                if last:
                    await self._upload_part(name, upload_id, parts, digest, last)
                await self._call(
                    self._client.complete_multipart_upload,
                    Bucket=self._bucket,
                    Key=name,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
            done = True
        finally:
            if not done and upload_id is not None:
                with anyio.CancelScope(shield=True):
                    try:
                        await self._call(
                            self._client.abort_multipart_upload,
                            Bucket=self._bucket,
                            Key=name,
                            UploadId=upload_id,
                        )
                    except DependencyUnavailable:
                        pass  # the bucket's lifecycle rule for incomplete uploads cleans up
        return WrittenObject(key, size, digest.hexdigest())

    async def _upload_part(
        self,
        name: str,
        upload_id: str,
        parts: list[dict[str, Any]],
        digest: Any,
        batch: list[bytes],
    ) -> None:
        data = b"".join(batch)
        number = len(parts) + 1

        def send() -> Any:
            digest.update(data)
            return self._client.upload_part(
                Bucket=self._bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=data
            )

        try:
            answer = await anyio.to_thread.run_sync(send)
        except (BotoCoreError, ClientError) as exc:
            raise DependencyUnavailable("file store") from exc
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        name = self._key(key)
        info = await self.stat(key)
        if info is None:
            raise NotFound("no such stored object")
        first, length = byte_range(info.size, start, end)
        if length == 0:

            async def nothing() -> AsyncIterator[bytes]:
                return
                yield  # pragma: no cover

            return nothing()
        answer = await self._object_call(
            self._client.get_object,
            Bucket=self._bucket,
            Key=name,
            Range=f"bytes={first}-{first + length - 1}",
        )
        body = answer["Body"]

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while True:
                    try:
                        data = await anyio.to_thread.run_sync(body.read, READ_BYTES)
                    except (BotoCoreError, ClientError) as exc:
                        raise DependencyUnavailable("file store") from exc
                    if not data:
                        break
                    yield data
            finally:
                body.close()

        return chunks()

    async def append(
        self,
        key: str,
        offset: int,
        content: AsyncIterable[bytes],
        max_size: int,
        sha256: bytes | None = None,
        running: Any | None = None,
    ) -> int:
        """Not yet: resumable (tus) uploads on S3 need multipart parts buffered to 5 MiB
        (issue 13, open); the disk and memory stores take them today."""
        raise RuleViolated("resumable uploads are not available with the S3 file store yet")

    async def stat(self, key: str) -> ObjectInfo | None:
        try:
            answer = await self._object_call(
                self._client.head_object, Bucket=self._bucket, Key=self._key(key)
            )
        except NotFound:
            return None
        return ObjectInfo(key, int(answer["ContentLength"]), answer["LastModified"])

    async def move(self, src: str, dst: str) -> None:
        """A server-side copy (up to 5 GB, S3's limit for one copy), then the source goes;
        a presigned PUT to `src` can only ever recreate `src`."""
        await self._object_call(
            self._client.copy_object,
            Bucket=self._bucket,
            Key=self._key(dst),
            CopySource={"Bucket": self._bucket, "Key": self._key(src)},
        )
        await self.delete(src)

    async def delete(self, key: str) -> None:
        await self._call(self._client.delete_object, Bucket=self._bucket, Key=self._key(key))

    async def list_objects(self) -> AsyncIterator[ObjectInfo]:
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Bucket": self._bucket, "Prefix": self._prefix}
            if token:
                params["ContinuationToken"] = token
            page = await self._call(self._client.list_objects_v2, **params)
            for entry in page.get("Contents", []):
                key = entry["Key"][len(self._prefix) :]
                yield ObjectInfo(key, int(entry["Size"]), entry["LastModified"])
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    async def remove_stale_drafts(self, older_than: datetime) -> int:
        """Abort multipart uploads a crashed process left unfinished (they cost storage)."""
        answer = await self._call(
            self._client.list_multipart_uploads, Bucket=self._bucket, Prefix=self._prefix
        )
        removed = 0
        for upload in answer.get("Uploads", []):
            if upload["Initiated"] < older_than:
                await self._call(
                    self._client.abort_multipart_upload,
                    Bucket=self._bucket,
                    Key=upload["Key"],
                    UploadId=upload["UploadId"],
                )
                removed += 1
        return removed

    async def presign_put(self, key: str, ttl_s: int) -> PresignedRequest | None:
        url = self._client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self._bucket, "Key": self._key(key)},
            ExpiresIn=ttl_s,
            HttpMethod="PUT",
        )
        return PresignedRequest("PUT", url, {})

    async def presign_get(
        self, key: str, ttl_s: int, filename: str, content_type: str
    ) -> str | None:
        disposition = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": self._key(key),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
            },
            ExpiresIn=ttl_s,
        )
        return url

    async def ready(self) -> bool:
        try:
            await self._call(self._client.head_bucket, Bucket=self._bucket)
            return True
        except DependencyUnavailable:
            return False

    async def close(self) -> None:
        """Release the connection pool; the app's lifespan calls it at shutdown."""
        self._client.close()
