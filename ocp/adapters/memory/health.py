"""Readiness of an in-process backend: it is there as long as the process is."""

from __future__ import annotations


class AlwaysReady:
    async def ready(self) -> bool:
        return True
