"""Fixtures for every suite: an in-memory container and an HTTP client on it, and the use
cases on fresh in-memory stores (`app`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ocp.container import Container
from tests.builders import UseCases, app_client, test_settings, use_cases


@pytest.fixture
def container(tmp_path: Path) -> Container:
    return Container.for_settings(test_settings(tmp_path))


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(container) as http:
        yield http


@pytest.fixture
def app(tmp_path: Path) -> UseCases:
    """Every use case on fresh in-memory stores with a manual clock (see `use_cases`)."""
    return use_cases(tmp_path)
