"""Fixtures for every suite: an in-memory container and an HTTP client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ocp.container import Container
from tests.builders import app_client, test_settings


@pytest.fixture
def container(tmp_path: Path) -> Container:
    return Container.for_settings(test_settings(tmp_path))


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(container) as http:
        yield http
