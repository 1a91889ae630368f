"""`ocp serve` as its own process for the integration suites (and the benchmarks, through
bench/harness.py): start it on a free port, wait for /healthz, and stop it with SIGTERM
(drain, then close clients) when the test is done."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path | None = None

    def output(self) -> str:
        """Everything the process printed; only once it has exited."""
        if self.log is not None:
            return self.log.read_text(errors="replace")
        assert self.process.stdout is not None
        return self.process.stdout.read().decode(errors="replace")


def wait_until(check, *, seconds: float = 30, message: str = "the condition never held"):
    """Poll `check` until it returns something truthy, or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


@contextmanager
def serving(data_dir: Path, *, log_to: Path | None = None, **env: str) -> Iterator[Server]:
    """`ocp serve` on `data_dir` with the OCP_ variables `env` (none of the caller's), its
    output kept for `Server.output` or appended to `log_to`. It runs in `data_dir`, so no
    `.env` of the developer's checkout reaches it (ocp is installed, imports still work)."""
    port = free_port()
    data_dir = data_dir.resolve()
    environment = _environment(data_dir, {"OCP_PORT": str(port), **env})
    with open(log_to, "ab") if log_to is not None else nullcontext() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ocp.entrypoints.cli", "serve"],
            env=environment,
            cwd=data_dir,
            stdout=log if log is not None else subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_to)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, server.output()
            try:
                if httpx.get(f"{server.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.1)
        yield server
    finally:
        _stop(process)


@contextmanager
def served(data_dir: Path, **env: str) -> Iterator[str]:
    """The base URL of a server process; see `serving`."""
    with serving(data_dir, **env) as server:
        yield server.base


@contextmanager
def working(data_dir: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`ocp worker` on `data_dir` with the OCP_ variables `env` (set OCP_MONGODB_URI): its
    output appended to `data_dir/worker.log`; stopped with SIGTERM unless the test killed it."""
    data_dir = data_dir.resolve()
    environment = _environment(data_dir, env)
    with open(data_dir / "worker.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ocp.entrypoints.cli", "worker"],
            env=environment,
            cwd=data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        _stop(process)


def _environment(data_dir: Path, env: dict[str, str]) -> dict[str, str]:
    """A process's environment: the caller's without any OCP_ variable, then `env`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("OCP_")},
        "OCP_DATA_DIR": str(data_dir),
        "OCP_BCRYPT_ROUNDS": "4",
        "OCP_MAIL": "outbox",
        # Suites and benchmarks register many accounts from one address.
        "OCP_RATE_LIMIT_REGISTER": "1000000/hour",
        "OCP_RATE_LIMIT_LOGIN": "1000000/minute",
        "OCP_RATE_LIMIT_MAIL": "1000000/hour",
        "OCP_RATE_LIMIT_WRITES": "1000000/minute",
        **env,
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (unless it has exited), then up to 30 s to drain; killed if it will not."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
