"""Draining: after SIGTERM /readyz answers 503 (load balancers stop sending traffic) while
/healthz still answers; the server, with a drain delay, keeps serving before it stops. The
whole sequence over a socket is tests/integration/test_graceful_shutdown.py's."""

from __future__ import annotations

import signal

import pytest
import uvicorn

from ocp.entrypoints import workers
from ocp.entrypoints.draining import Drain
from ocp.entrypoints.http.routers import ops


@pytest.fixture
def drain(monkeypatch) -> Drain:
    """A flag of the test's own, where the route and the server look for the process's."""
    fresh = Drain()
    monkeypatch.setattr(ops, "DRAIN", fresh)
    monkeypatch.setattr(workers, "DRAIN", fresh)
    return fresh


async def test_readyz_answers_503_draining_while_healthz_still_answers(client, drain):
    assert (await client.get("/readyz")).status_code == 200
    drain.begin()
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "draining", "checks": {}, "failed": []}
    assert (await client.get("/healthz")).json() == {"status": "ok"}


def a_server(delay_s: float) -> workers.DrainingServer:
    return workers.DrainingServer(uvicorn.Config(app=None, log_config=None), delay_s=delay_s)


def test_with_a_delay_sigterm_drains_first_and_a_second_signal_stops_at_once(drain):
    server = a_server(delay_s=60)
    server.handle_exit(signal.SIGTERM, None)
    assert drain.draining and not server.should_exit  # still serving, readiness says leave
    server.handle_exit(signal.SIGTERM, None)
    assert server.should_exit


def test_without_a_delay_sigterm_stops_as_uvicorn_does_yet_says_draining(drain):
    server = a_server(delay_s=0)
    server.handle_exit(signal.SIGTERM, None)
    assert drain.draining and server.should_exit


async def test_the_delay_over_the_server_stops(drain):
    server = a_server(delay_s=60)
    server.handle_exit(signal.SIGTERM, None)
    assert await server.on_tick(1) is False  # within the delay: serving on
    server._stop_at = 0.0  # as if the delay had elapsed (no sleeping in tests)
    assert await server.on_tick(1) is True
