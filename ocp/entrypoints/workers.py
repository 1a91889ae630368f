"""Several uvicorn workers for `ocp serve --workers N`, each listening on its own socket bound
to the same port with SO_REUSEPORT, so the kernel spreads new connections evenly.

uvicorn's own supervisor shares one listening socket: whichever worker wakes first accepts a
whole burst of connections and, with keep-alive, keeps them, while the others idle (measured:
two workers served no more than one). Here a worker that dies is replaced; SIGTERM or SIGINT
is passed on to every worker, which drains its requests and closes its clients.

Draining (`DrainingServer`, one worker or several): on SIGTERM /readyz answers 503 at once;
with OCP_DRAIN_DELAY_S the server keeps accepting for that long, so a load balancer polling
/readyz takes it out before connections are refused, then stops as uvicorn does.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.connection import wait
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import Any

import uvicorn

from ocp.entrypoints.draining import DRAIN

log = logging.getLogger("ocp")
_spawn = multiprocessing.get_context("spawn")
_STARTUP_FAILURE = 3  # uvicorn's exit code when a worker cannot start


def reuse_port_supported() -> bool:
    """Linux balances connections across SO_REUSEPORT sockets; BSD and macOS do not (one
    socket gets them all), so elsewhere uvicorn's shared socket serves."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _listener(host: str, port: int, *, share: bool = True) -> socket.socket:
    """A socket bound to `host:port`; with `share`, beside the other workers' (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if share:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def port_is_free(host: str, port: int) -> bool:
    """Whether nobody listens on `host:port`, another `ocp serve` included: its workers'
    SO_REUSEPORT sockets would let ours bind beside them (same user) and share its traffic,
    so the check binds without SO_REUSEPORT."""
    try:
        _listener(host, port, share=False).close()
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", host, port, exc)
        return False
    return True


class DrainingServer(uvicorn.Server):
    """uvicorn's server, draining first: any stop signal marks the process draining (/readyz
    answers 503); the first SIGTERM, with `delay_s`, lets it serve on for that long before
    uvicorn's graceful shutdown (stop accepting, finish requests under way, lifespan's end).
    Another signal meanwhile stops it at once, as uvicorn would."""

    def __init__(self, config: uvicorn.Config, *, delay_s: float = 0.0) -> None:
        super().__init__(config)
        self.delay_s = delay_s
        self._stop_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        DRAIN.begin()
        if sig == signal.SIGTERM and self.delay_s > 0 and self._stop_at is None:
            self._stop_at = time.monotonic() + self.delay_s
            log.info("draining: /readyz answers 503; stopping in %g s", self.delay_s)
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._stop_at is not None and time.monotonic() >= self._stop_at:
            self._stop_at = None
            super().handle_exit(signal.SIGTERM, None)  # as if the signal came now
        return await super().on_tick(counter)


def serve_one(options: dict[str, Any], drain_delay_s: float = 0.0) -> int:
    """One uvicorn server in this process (what `uvicorn.run` does for one worker), draining
    as `DrainingServer` does; 0 after it ran, 3 when it could not start."""
    server = DrainingServer(uvicorn.Config(**options), delay_s=drain_delay_s)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    return 0 if server.started else _STARTUP_FAILURE


def _worker(options: dict[str, Any], drain_delay_s: float = 0.0) -> None:
    # Out of the terminal's process group: Ctrl-C reaches the supervisor alone, which passes
    # one SIGTERM on (a second signal would make uvicorn cut requests short).
    os.setpgrp()
    config = uvicorn.Config(**options)
    server = DrainingServer(config, delay_s=drain_delay_s)
    try:
        sock = _listener(config.host, config.port)
    except OSError as exc:
        log.error("worker cannot listen on %s:%d: %s", config.host, config.port, exc)
        sys.exit(_STARTUP_FAILURE)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(_STARTUP_FAILURE)


def _forget(pid: int | None) -> None:
    """Drop a dead worker's live gauges (in-flight requests) from the shared metrics."""
    if pid is not None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def serve_workers(
    options: dict[str, Any],
    workers: int,
    stop_timeout_s: float = 30,
    drain_delay_s: float = 0.0,
) -> int:
    """Run `workers` uvicorn servers with `options` (uvicorn.Config keywords) until SIGTERM
    or SIGINT; 0 after a clean stop, 1 when the workers could not start. Each drains for
    `drain_delay_s` before it stops (`DrainingServer`)."""
    host, port = options["host"], options["port"]
    if not port_is_free(host, port):  # fail now, not in every worker, when the port is taken
        return 1
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}

    def start() -> SpawnProcess:
        process = _spawn.Process(target=_worker, args=(options, drain_delay_s), daemon=False)
        process.start()
        return process

    processes = [start() for _ in range(workers)]
    log.info("serving on %s:%d with %d workers (SO_REUSEPORT)", host, port, workers)
    failed = False
    try:
        while not stopping:
            wait([p.sentinel for p in processes], timeout=0.5)
            for n, process in enumerate(processes):
                if stopping or process.is_alive():
                    continue
                if process.exitcode == _STARTUP_FAILURE:
                    log.error("worker %s could not start; stopping", process.pid)
                    failed = stopping = True
                    break
                log.warning(
                    "worker %s exited (%s); starting another", process.pid, process.exitcode
                )
                _forget(process.pid)
                processes[n] = start()
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + drain_delay_s + stop_timeout_s
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.error("worker %s did not stop in time; killing it", process.pid)
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if failed else 0
