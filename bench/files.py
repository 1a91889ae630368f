"""Issue 4 figures: a large upload through POST /api/v1/files (multipart, disk store) and its
download, each as a throughput ratio to a bare FastAPI route in the same run, plus the OCP
server's peak RSS growth while it streams.

The bare upload route streams the raw request body to disk with sha256 and fsync; the bare
download serves the file with FileResponse. Both servers are uvicorn processes on loopback,
driven by httpx streaming from this process.

    .venv/bin/python bench/files.py [--mib 1024] [--rounds 2]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import struct
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.harness import median, uvicorn_process  # noqa: E402

CHUNK = 1 << 20
BOUNDARY = "bench-boundary-0123456789abcdef"


def _png_head() -> bytes:
    """A PNG signature and a well-formed IHDR chunk: what the sniffer checks of an image."""
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", 4096, 4096, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk


PNG = _png_head()


def bare_app() -> FastAPI:
    """The baseline: raw body to disk with sha256 and fsync; FileResponse back."""
    app = FastAPI()
    root = Path(os.environ["BENCH_BARE_DIR"])

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.put("/raw/{name}")
    async def put_raw(name: str, request: Request) -> dict[str, object]:
        digest = hashlib.sha256()
        size = 0
        with open(root / name, "wb") as handle:  # noqa: ASYNC230 - the bare baseline blocks
            async for chunk in request.stream():
                digest.update(chunk)
                handle.write(chunk)
                size += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        return {"size": size, "sha256": digest.hexdigest()}

    @app.get("/raw/{name}")
    async def get_raw(name: str) -> FileResponse:
        return FileResponse(root / name)

    return app


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class PeakRss:
    """Samples a process's resident set while a transfer runs (VmHWM is not resettable)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            self._stop.wait(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def content(total: int, block: bytes) -> Iterator[bytes]:
    yield PNG + block[len(PNG) :]
    sent = CHUNK
    while sent < total:
        yield block[: min(CHUNK, total - sent)]
        sent += CHUNK


def multipart(total: int, block: bytes) -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n'
        f'avatar\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="big.png"\r\nContent-Type: image/png\r\n\r\n'
    ).encode()
    yield from content(total, block)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def timed(send) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = send()
    return time.perf_counter() - started, response


def download(client: httpx.Client, url: str, headers: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    size = 0
    with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, response.status_code
        for chunk in response.iter_raw(CHUNK):
            size += len(chunk)
    return time.perf_counter() - started, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024, help="file size in MiB")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    total = args.mib * CHUNK
    block = os.urandom(CHUNK)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        bare_dir, data_dir = Path(tmp, "bare"), Path(tmp, "ocp")
        bare_dir.mkdir()
        env = {
            "OCP_DATABASE": "memory",
            "OCP_MAIL": "memory",
            "OCP_FILE_STORE": "local",
            "OCP_DATA_DIR": str(data_dir),
            "OCP_BCRYPT_ROUNDS": "4",
            "OCP_MAX_UPLOAD_BYTES": str(total + CHUNK),
            "OCP_JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
        }
        with (
            uvicorn_process("bench.apps:ocp_in_memory", factory=True, env=env) as (ocp, pid),
            uvicorn_process(
                "bench.files:bare_app", factory=True, env={"BENCH_BARE_DIR": str(bare_dir)}
            ) as (bare, _),
            httpx.Client(timeout=600) as client,
        ):
            client.post(
                f"{ocp}/api/v1/auth/register",
                json={
                    "email": "bench@example.com",
                    "password": "bench password",
                    "full_name": "Bench",
                },
            )
            token = client.post(
                f"{ocp}/api/v1/auth/token",
                data={"username": "bench@example.com", "password": "bench password"},
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            form = {**auth, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
            up_bare, up_ocp, down_bare, down_ocp, growth = [], [], [], [], []
            for n in range(args.rounds):  # alternate, so drift hits both alike
                seconds, answer = timed(
                    lambda: client.put(f"{bare}/raw/f{n}", content=content(total, block))
                )
                assert answer.json()["size"] == total
                up_bare.append(total / seconds)
                before = rss_kib(pid)
                with PeakRss(pid) as peak:
                    seconds, answer = timed(
                        lambda: client.post(
                            f"{ocp}/api/v1/files", content=multipart(total, block), headers=form
                        )
                    )
                    assert answer.status_code == 201, answer.text
                    file_id = answer.json()["id"]
                    assert answer.json()["size"] == total
                    up_ocp.append(total / seconds)
                    seconds, size = download(client, f"{bare}/raw/f{n}", {})
                    assert size == total
                    down_bare.append(total / seconds)
                    seconds, size = download(client, f"{ocp}/api/v1/files/{file_id}/content", auth)
                    assert size == total
                    down_ocp.append(total / seconds)
                growth.append((peak.peak - before) / 1024)
                client.delete(f"{ocp}/api/v1/files/{file_id}", headers=auth)
                (bare_dir / f"f{n}").unlink()
    mib = 1024 * 1024
    ub, uo, db, do = (median(x) / mib for x in (up_bare, up_ocp, down_bare, down_ocp))
    print(f"file size                   : {args.mib} MiB, {args.rounds} round(s)")
    print(f"upload   bare PUT (raw body) : {ub:8.1f} MiB/s  {[round(x / mib) for x in up_bare]}")
    print(f"upload   OCP POST multipart  : {uo:8.1f} MiB/s  {[round(x / mib) for x in up_ocp]}")
    print(f"upload   ratio               : {uo / ub:8.2f}   (aim >= 0.8)")
    print(f"download bare FileResponse   : {db:8.1f} MiB/s  {[round(x / mib) for x in down_bare]}")
    print(f"download OCP /content        : {do:8.1f} MiB/s  {[round(x / mib) for x in down_ocp]}")
    print(f"download ratio               : {do / db:8.2f}   (aim >= 0.9)")
    print(f"OCP peak RSS growth          : {max(growth):8.1f} MiB  (aim < 64)")


if __name__ == "__main__":
    main()
