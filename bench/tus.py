"""Issue 13 figure: a resumable (tus) upload vs today's multipart upload of the same file,
through `ocp serve` as `make run` starts it (embedded database, disk store, metrics and the
JSON access log on): throughput of each, alternating rounds, as tus / multipart (aim >= 0.9).
The tus upload is sent in PATCH parts of `--part-mib` (a client that may lose its
connection keeps each part small enough to resend).

    .venv/bin/python bench/tus.py [--mib 1024] [--part-mib 64] [--rounds 2]
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time
from collections.abc import Iterator

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.files import CHUNK, PNG, multipart  # noqa: E402
from bench.harness import median, ocp_server  # noqa: E402

BOUNDARY = "bench-boundary-0123456789abcdef"


def part(offset: int, length: int, block: bytes) -> Iterator[bytes]:
    """Bytes `offset .. offset + length` of the file `bench.files.content` makes."""
    sent = 0
    while sent < length:
        at = offset + sent
        piece = (PNG + block[len(PNG) :]) if at < CHUNK else block
        start = at % CHUNK
        take = min(CHUNK - start, length - sent)
        yield piece[start : start + take]
        sent += take


def tus_upload(client: httpx.Client, base: str, auth: dict, total: int, part_bytes: int,
               block: bytes) -> str:  # fmt: skip
    meta = (
        "filename "
        + base64.b64encode(b"big.png").decode()
        + ",purpose "
        + (base64.b64encode(b"avatar").decode())
    )
    made = client.post(
        f"{base}/api/v1/files/tus",
        headers={
            **auth,
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(total),
            "Upload-Metadata": meta,
        },  # fmt: skip
    )
    made.raise_for_status()
    url = base + made.headers["location"]
    offset = 0
    answer = made
    while offset < total:
        length = min(part_bytes, total - offset)
        answer = client.patch(
            url,
            content=part(offset, length, block),
            headers={
                **auth,
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },  # fmt: skip
        )
        assert answer.status_code == 204, answer.text
        offset = int(answer.headers["upload-offset"])
    return answer.headers["ocp-file-id"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--part-mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    total = args.mib * CHUNK
    block = os.urandom(CHUNK)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as scratch:
        env = {
            "OCP_DATA_DIR": scratch,
            "OCP_FILE_STORE": "local",
            "OCP_BCRYPT_ROUNDS": "4",
            "OCP_MAIL": "memory",
            "OCP_MAX_UPLOAD_BYTES": str(total + CHUNK),
            "OCP_JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
            "OCP_LOG_FORMAT": "json",
        }
        with ocp_server(env) as base, httpx.Client(timeout=600) as client:
            body = {"email": "tus@example.com", "password": "bench password", "full_name": "T"}
            client.post(f"{base}/api/v1/auth/register", json=body).raise_for_status()
            token = client.post(
                f"{base}/api/v1/auth/token",
                data={"username": body["email"], "password": body["password"]},
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            form = {**auth, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
            plain, resumable = [], []
            for _ in range(args.rounds):
                started = time.perf_counter()
                answer = client.post(
                    f"{base}/api/v1/files", content=multipart(total, block), headers=form
                )
                assert answer.status_code == 201, answer.text
                plain.append(total / (time.perf_counter() - started))
                started = time.perf_counter()
                tus_upload(client, base, auth, total, args.part_mib * CHUNK, block)
                resumable.append(total / (time.perf_counter() - started))
    mib = 1 << 20
    print(f"upload of {args.mib} MiB, disk store, `make run` stack, {args.rounds} rounds")
    print(f"multipart POST /files : {median(plain) / mib:7.1f} MiB/s")
    print(f"tus, {args.part_mib} MiB parts   : {median(resumable) / mib:7.1f} MiB/s")
    print(f"tus / multipart       : {median(resumable) / median(plain):7.2f}   (aim >= 0.9)")


if __name__ == "__main__":
    main()
