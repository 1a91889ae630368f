"""Whether this process is draining: it got SIGTERM and is on its way out, so /readyz answers
503 and load balancers send it no more traffic while the requests under way finish.

One flag per process (a signal is the process's), set by `workers.DrainingServer` and read by
the readiness route.
"""

from __future__ import annotations


class Drain:
    __slots__ = ("_draining",)

    def __init__(self) -> None:
        self._draining = False

    @property
    def draining(self) -> bool:
        return self._draining

    def begin(self) -> None:
        self._draining = True


DRAIN = Drain()
