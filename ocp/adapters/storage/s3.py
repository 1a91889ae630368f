"""The S3 store (AWS, MinIO, Ceph, R2 ...) through boto3, every call in a worker thread.

Small objects go up in one PUT; from `PART_BYTES` on, as a multipart upload that is aborted
on any failure or cancellation, so no half object is ever visible. Direct uploads and
downloads may use presigned URLs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
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
from ocp.domain.errors import ChecksumMismatch, Conflict, NotFound

PART_BYTES = 8 << 20  # S3 parts must be at least 5 MiB (but the last)
READ_BYTES = 1 << 20
HOLD_BYTES = 256 << 10  # an append looks at its hold at least this often
MANIFEST = ".tus"  # suffix of an appended object's manifest (keys themselves have no dot)
RENEW_S = 15.0  # an append renews its hold this often ...
STALE_S = 60.0  # ... and one not renewed for this long is gone (its process died)
_LOST_RACE = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")
T = TypeVar("T")
_MISSING = ("404", "NoSuchKey", "NotFound")
log = logging.getLogger("ocp")


class S3FileStore:
    """`endpoint_url` is where this process reaches the store; `public_endpoint_url`, when
    set, where a browser does (the presigned URLs it is handed name that host: SigV4 signs
    the host, so they are made by a client of that endpoint, never rewritten)."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        public_endpoint_url: str | None = None,
        region: str = "us-east-1",
        prefix: str = "",
        client: Any = None,
    ) -> None:
        self._bucket = bucket
        self._prefix = prefix
        self._client = client or _client(endpoint_url, region)
        # Makes no request: it only signs URLs.
        self._presigner = (
            _client(public_endpoint_url, region) if public_endpoint_url else self._client
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

    # --- appending (resumable uploads) ------------------------------------------------
    # An object being appended to is a multipart upload of `key` plus a small manifest
    # object `key.tus` (JSON: the upload id, the ETags of its parts, the bytes kept, the
    # object holding the tail, who is appending and since when). Parts are all PART_BYTES
    # long; what is left over (less than a part: S3 wants 5 MiB but for the last) waits in a
    # tail object `key.tus-<random>` until the next append or `seal`. Every change of the
    # manifest is a conditional PUT (If-Match / If-None-Match), so two appends never both
    # commit: the second is `Conflict`. The parts an append uploads count only once its
    # manifest names them, so a part cut off (checksum mismatch, a holder taken over) is
    # simply overwritten or left out; S3 checks each part's ETag when the upload completes.

    async def append(
        self,
        key: str,
        offset: int,
        content: AsyncIterable[bytes],
        max_size: int,
        sha256: bytes | None = None,
        running: Any | None = None,
    ) -> int:
        name = self._key(key)
        state = await self._hold(name, offset)
        buffer = bytearray(await self._tail_of(state))
        etags = list(state.etags)
        digest = hashlib.sha256()
        size = offset
        failed = True
        try:
            async for batch in batches(
                content, max_bytes=max_size - offset, batch_bytes=HOLD_BYTES
            ):
                data = b"".join(batch)
                await anyio.to_thread.run_sync(_feed, data, digest if sha256 else None, running)
                buffer += data
                size += len(data)
                while len(buffer) >= PART_BYTES:
                    part = bytes(buffer[:PART_BYTES])
                    etags.append(await self._put_part(name, state.upload_id, len(etags) + 1, part))
                    # Only once the part is stored: a failed upload leaves its bytes to the
                    # tail, so the parts and the tail always add up to the size committed.
                    del buffer[:PART_BYTES]
                if time.time() - state.held_at > RENEW_S:
                    state = await self._save(name, replace(state, held_at=time.time()))
            if sha256 is not None and digest.digest() != sha256:
                raise ChecksumMismatch("the bytes do not match Upload-Checksum")
            failed = False
        finally:
            # What arrived is kept (a resumed upload goes on from it), unless a checksum
            # cannot vouch for it: then the manifest goes back as it was, unheld.
            with anyio.CancelScope(shield=True):
                if sha256 is None or not failed:
                    await self._commit(name, state, etags, bytes(buffer), size)
                else:
                    await self._save(name, replace(state, holder=None))
                    size = offset
        return size

    async def appended(self, key: str) -> int | None:
        state = await self._appending(self._key(key))
        return state.size if state is not None else None

    async def seal(self, key: str) -> None:
        name = self._key(key)
        state = await self._appending(name)
        if state is None:
            raise NotFound("nothing was appended under this key")
        state = await self._hold(name, state.size, state)
        tail = await self._tail_of(state)
        if not state.etags:  # less than a part: one plain object
            await self._call(self._client.put_object, Bucket=self._bucket, Key=name, Body=tail)
            await self._abort(name, state.upload_id)
        else:
            etags = list(state.etags)
            if tail:
                etags.append(await self._put_part(name, state.upload_id, len(etags) + 1, tail))
            await self._call(
                self._client.complete_multipart_upload,
                Bucket=self._bucket,
                Key=name,
                UploadId=state.upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]
                },
            )
        await self._forget(name, state)

    async def _appending(self, name: str) -> _Appending | None:
        try:
            answer = await self._object_call(
                self._client.get_object, Bucket=self._bucket, Key=name + MANIFEST
            )
        except NotFound:
            return None
        body = await anyio.to_thread.run_sync(answer["Body"].read)
        return _Appending.parse(body, answer["ETag"])

    async def _hold(self, name: str, offset: int, state: _Appending | None = None) -> _Appending:
        """The manifest, now held by this call (made, with the multipart upload, at offset 0);
        `Conflict` when the bytes kept are not `offset` or another append holds it."""
        state = state or await self._appending(name)
        holder = secrets.token_hex(8)
        if state is None:
            if offset != 0:
                raise Conflict(f"the upload is at offset 0, not {offset}")
            started = await self._call(
                self._client.create_multipart_upload, Bucket=self._bucket, Key=name
            )
            fresh = _Appending(started["UploadId"], [], 0, None, holder, time.time(), "")
            try:
                return await self._save(name, fresh)
            except Conflict:
                await self._abort(name, fresh.upload_id)
                raise
        if state.holder is not None and time.time() - state.held_at < STALE_S:
            raise Conflict("another part of this upload is being written; try again shortly")
        if state.size != offset:
            raise Conflict(f"the upload is at offset {state.size}, not {offset}")
        return await self._save(name, replace(state, holder=holder, held_at=time.time()))

    async def _save(self, name: str, state: _Appending) -> _Appending:
        """Put the manifest only over the version this call read (or none): else `Conflict`."""
        condition = {"IfMatch": state.etag} if state.etag else {"IfNoneMatch": "*"}
        try:
            answer = await anyio.to_thread.run_sync(
                lambda: self._client.put_object(
                    Bucket=self._bucket,
                    Key=name + MANIFEST,
                    Body=state.dumps(),
                    ContentType="application/json",
                    **condition,
                )
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _LOST_RACE:
                raise Conflict("another part of this upload was written meanwhile") from None
            raise DependencyUnavailable("file store") from exc
        except BotoCoreError as exc:
            raise DependencyUnavailable("file store") from exc
        return replace(state, etag=answer["ETag"])

    async def _commit(
        self, name: str, state: _Appending, etags: list[str], tail: bytes, size: int
    ) -> None:
        """Name the parts uploaded and the new tail in the manifest, and let go of it."""
        tail_name = None
        if tail:
            tail_name = f"{name}{MANIFEST}-{secrets.token_hex(8)}"
            await self._call(self._client.put_object, Bucket=self._bucket, Key=tail_name, Body=tail)
        try:
            await self._save(
                name, replace(state, etags=etags, size=size, tail=tail_name, holder=None)
            )
        except BaseException:
            if tail_name:
                await self._call(self._client.delete_object, Bucket=self._bucket, Key=tail_name)
            raise
        if state.tail and state.tail != tail_name:
            await self._call(self._client.delete_object, Bucket=self._bucket, Key=state.tail)

    async def _tail_of(self, state: _Appending) -> bytes:
        if not state.tail:
            return b""
        answer = await self._call(self._client.get_object, Bucket=self._bucket, Key=state.tail)
        data: bytes = await anyio.to_thread.run_sync(answer["Body"].read)
        return data

    async def _put_part(self, name: str, upload_id: str, number: int, data: bytes) -> str:
        answer = await self._call(
            self._client.upload_part,
            Bucket=self._bucket,
            Key=name,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
        )
        etag: str = answer["ETag"]
        return etag

    async def _abort(self, name: str, upload_id: str) -> None:
        try:
            await self._call(
                self._client.abort_multipart_upload,
                Bucket=self._bucket,
                Key=name,
                UploadId=upload_id,
            )
        except DependencyUnavailable:
            pass  # gone already, or the bucket's lifecycle rule for incomplete uploads cleans up

    async def _forget(self, name: str, state: _Appending) -> None:
        """The manifest and tail go (the multipart upload is completed or aborted)."""
        for extra in filter(None, (state.tail, name + MANIFEST)):
            await self._call(self._client.delete_object, Bucket=self._bucket, Key=extra)

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
        name = self._key(key)
        state = await self._appending(name)
        if state is not None:  # an upload given up: its parts, tail and manifest go too
            await self._abort(name, state.upload_id)
            await self._forget(name, state)
        await self._call(self._client.delete_object, Bucket=self._bucket, Key=name)

    async def list_objects(self) -> AsyncIterator[ObjectInfo]:
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Bucket": self._bucket, "Prefix": self._prefix}
            if token:
                params["ContinuationToken"] = token
            page = await self._call(self._client.list_objects_v2, **params)
            for entry in page.get("Contents", []):
                # an appended object's manifest and tail count as the object itself
                key = entry["Key"][len(self._prefix) :].split(".", 1)[0]
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
                appending = await self._appending(upload["Key"])
                if appending is not None and appending.upload_id == upload["UploadId"]:
                    continue  # a resumable upload still going: `delete` ends it
                await self._call(
                    self._client.abort_multipart_upload,
                    Bucket=self._bucket,
                    Key=upload["Key"],
                    UploadId=upload["UploadId"],
                )
                removed += 1
        return removed

    async def presign_put(self, key: str, ttl_s: int) -> PresignedRequest | None:
        url = self._presigner.generate_presigned_url(
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
        url: str = self._presigner.generate_presigned_url(
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

    async def ensure_bucket(self, cors_origins: Sequence[str]) -> None:
        """Create the bucket when it is missing (idempotent: several processes may start at
        once) and let `cors_origins` PUT, GET and HEAD in it, reading ETag, for direct
        uploads and redirected downloads from browsers. A store without bucket CORS (MinIO
        answers NotImplemented; it allows every origin itself) keeps its own rules."""
        try:
            await anyio.to_thread.run_sync(
                lambda: self._client.create_bucket(Bucket=self._bucket, **self._location())
            )
            log.info("created the bucket %s", self._bucket)
        except ClientError as exc:
            if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise DependencyUnavailable("file store") from exc
        except BotoCoreError as exc:
            raise DependencyUnavailable("file store") from exc
        if not cors_origins:
            return
        rules = {
            "CORSRules": [
                {
                    "AllowedOrigins": list(cors_origins),
                    "AllowedMethods": ["PUT", "GET", "HEAD"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        }
        try:
            await anyio.to_thread.run_sync(
                lambda: self._client.put_bucket_cors(Bucket=self._bucket, CORSConfiguration=rules)
            )
        except ClientError as exc:
            if _code(exc) != "NotImplemented":
                raise DependencyUnavailable("file store") from exc
            log.warning("the store of bucket %s keeps its own CORS rules", self._bucket)
        except BotoCoreError as exc:
            raise DependencyUnavailable("file store") from exc

    def _location(self) -> dict[str, Any]:
        region = self._client.meta.region_name
        if not region or region == "us-east-1":  # the one region S3 refuses to be told
            return {}
        return {"CreateBucketConfiguration": {"LocationConstraint": region}}

    async def close(self) -> None:
        """Release the connection pools; the app's lifespan calls it at shutdown."""
        self._client.close()
        if self._presigner is not self._client:
            self._presigner.close()


def _client(endpoint_url: str | None, region: str) -> Any:
    return boto3.client(
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


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _feed(data: bytes, *digests: Any) -> None:
    for digest in digests:
        if digest is not None:
            digest.update(data)


@dataclass(frozen=True, slots=True)
class _Appending:
    """The manifest of an object being appended to; `etag` is the manifest's own version."""

    upload_id: str
    etags: list[str]
    size: int
    tail: str | None
    holder: str | None
    held_at: float
    etag: str

    @classmethod
    def parse(cls, body: bytes, etag: str) -> _Appending:
        data = json.loads(body)
        return cls(
            data["upload_id"],
            list(data["etags"]),
            int(data["size"]),
            data.get("tail"),
            data.get("holder"),
            float(data.get("held_at", 0)),
            etag,
        )

    def dumps(self) -> bytes:
        fields = {
            "upload_id": self.upload_id,
            "etags": self.etags,
            "size": self.size,
            "tail": self.tail,
            "holder": self.holder,
            "held_at": self.held_at,
        }
        return json.dumps(fields).encode()
