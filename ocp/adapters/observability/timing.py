"""A generic timing proxy: every coroutine method of the wrapped adapter is timed into one
Prometheus histogram, labelled by backend, port and operation. Anything else (attributes,
sync methods, async generators) passes straight through."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Histogram

from ocp.application.ports.stores import Stores

# By port, not by operation: a series per method of every repository (a hundred of them, each
# with its buckets) made most of a 738 KB scrape. Which call is slow is the traces' question.
BACKEND_CALL_SECONDS = Histogram(
    "ocp_backend_call_duration_seconds",
    "Latency of calls to the database and the file store, by port",
    ["backend", "port", "outcome"],
    buckets=(0.001, 0.005, 0.025, 0.1, 0.5, 2.5),
)
LOGIN_FAILURES = Counter("ocp_login_failures_total", "Failed logins recorded by the throttle")
LOGIN_THROTTLES = Counter(
    "ocp_login_throttled_total", "Logins refused because the email is throttled (429)"
)


class Timed:
    """Stands in for `target`; its coroutine methods report their latency, errors included."""

    def __init__(self, target: Any, *, backend: str, port: str) -> None:
        self._target = target
        self._backend = backend
        self._port = port

    @property
    def wrapped(self) -> Any:
        return self._target

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        timed = self._timed(name, attribute)
        # Cache on the proxy: the next lookup finds it without __getattr__.
        object.__setattr__(self, name, timed)
        return timed

    def _timed(
        self, operation: str, method: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        ok = BACKEND_CALL_SECONDS.labels(self._backend, self._port, "ok")
        backend, port = self._backend, self._port

        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = await method(*args, **kwargs)
            except BaseException:
                # Made on the first error only: an empty error histogram beside every port
                # was nine lines of zeros each in every scrape.
                BACKEND_CALL_SECONDS.labels(backend, port, "error").observe(
                    time.perf_counter() - started
                )
                raise
            ok.observe(time.perf_counter() - started)
            return result

        return call

    def __repr__(self) -> str:
        return f"Timed({self._target!r})"


class CountedLoginThrottle:
    """The login throttle, counting each recorded failure and each refusal it decides."""

    def __init__(self, target: Any) -> None:
        self._target = target

    @property
    def wrapped(self) -> Any:
        return self._target

    async def retry_after(self, key: str, now: datetime) -> int | None:
        wait: int | None = await self._target.retry_after(key, now)
        if wait is not None:
            LOGIN_THROTTLES.inc()
        return wait

    async def record_failure(self, key: str, now: datetime) -> None:
        await self._target.record_failure(key, now)
        LOGIN_FAILURES.inc()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def instrumented(stores: Stores, *, time_calls: bool) -> Stores:
    """The stores as the use cases get them when metrics are on: the login throttle counting
    failures and refusals, and with `time_calls` (a database out of process) every store's
    calls timed. Use cases never see the difference."""

    def wrap(name: str, store: Any) -> Any:
        if name == "login_throttle":
            store = CountedLoginThrottle(store)
        return Timed(store, backend="database", port=name) if time_calls else store

    return stores.wrapped(wrap)
