"""Starting servers and driving load for the benchmarks: uvicorn in its own process, wrk."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
from dependency_injector import providers
from fastapi import FastAPI
from pymongo import AsyncMongoClient, monitoring

from ocp.container import Container
from ocp.entrypoints.http.app import create_app
from ocp.settings import Settings
from tests.integration.commands import sent_by_a_request
from tests.integration.processes import free_port, serving


@contextmanager
def uvicorn_process(
    app: str, *, factory: bool = False, env: dict[str, str] | None = None, workers: int = 1
) -> Iterator[tuple[str, int]]:
    """`app` as `module:attribute`, served on a free loopback port by uvicorn: its base URL
    and its process id (for RSS samples)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]
    if factory:
        command.append("--factory")
    # Run in a scratch directory, the checkout on the import path: no developer's `.env`
    # (nor ./var) of the checkout reaches the app under measurement.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as scratch:
        process = subprocess.Popen(
            [*command, "--app-dir", root], env={**os.environ, **(env or {})}, cwd=scratch
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{app} did not start") from None
                    time.sleep(0.1)
            yield base, process.pid
        finally:
            process.terminate()
            process.wait(30)


@contextmanager
def uvicorn_server(
    app: str, *, factory: bool = False, env: dict[str, str] | None = None, workers: int = 1
) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port: its base URL."""
    with uvicorn_process(app, factory=factory, env=env, workers=workers) as (base, _):
        yield base


def wrk(
    url: str, *, seconds: int = 8, connections: int = 32, headers: dict[str, str] | None = None
) -> float:
    """Requests per second that wrk (one thread) gets from `url`."""
    if not shutil.which("wrk"):
        sys.exit("the benchmarks drive load with wrk: apt-get install -y wrk")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url} answered {errors.group(1)} errors:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@contextmanager
def ocp_process(
    env: dict[str, str], *, workers: int = 1, log_to: str = os.devnull
) -> Iterator[tuple[str, int]]:
    """`ocp serve` itself (its logging, metrics and workers), on a free loopback port, its
    output to `log_to`: its base URL and process id. Started as the integration suites start
    it (tests/integration/processes.py): in its data dir (env's OCP_DATA_DIR, required), with
    no OCP_ variable of the caller's environment."""
    env = dict(env)
    data_dir = Path(env.pop("OCP_DATA_DIR"))
    with serving(data_dir, log_to=Path(log_to), OCP_WORKERS=str(workers), **env) as server:
        port = int(server.base.rsplit(":", 1)[1])
        # Each worker listens on its own socket (SO_REUSEPORT): wait until all of them do, or
        # the first connections all go to the first worker up.
        deadline = time.monotonic() + 60
        while shutil.which("ss") and listeners(port) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        yield server.base, server.process.pid


@contextmanager
def ocp_server(env: dict[str, str], *, workers: int = 1, log_to: str = os.devnull) -> Iterator[str]:
    """`ocp serve` on a free loopback port: its base URL; see `ocp_process`."""
    with ocp_process(env, workers=workers, log_to=log_to) as (base, _):
        yield base


def listeners(port: int) -> int:
    """How many sockets listen on `port` on this machine."""
    out = subprocess.run(
        ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=False
    ).stdout
    return len(out.splitlines())


class CommandCounter(monitoring.CommandListener):
    """Counts the database commands the app sends, by name and collection."""

    def __init__(self) -> None:
        self.names: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not sent_by_a_request(event):
            return
        target = event.command.get(event.command_name)
        where = f" {target}" if isinstance(target, str) else ""
        self.names[f"{event.command_name}{where}"] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@asynccontextmanager
async def ocp_on_mongo(
    uri: str, db: str, data_dir: Path
) -> AsyncIterator[tuple[Container, FastAPI, CommandCounter]]:
    """OCP in this process on the MongoDB at `uri` (database `db`), started, its database
    commands counted: the container, the app and the counter."""
    counter = CommandCounter()
    settings = Settings(
        _env_file=None,
        database="mongo",
        mongodb_uri=uri,
        mongodb_db=db,
        mail="memory",
        file_store="memory",
        bcrypt_rounds=4,
        data_dir=data_dir,
        jwt_secret="bench-secret-that-is-long-enough-for-hs256-0123456789",
    )
    container = Container.for_settings(settings)
    container.mongo_client.override(
        providers.Singleton(AsyncMongoClient, uri, tz_aware=True, event_listeners=[counter])
    )
    app = create_app(container)
    async with app.router.lifespan_context(app):
        yield container, app, counter
