"""Real servers for the integration suites: one SecantusDB process per test session (a real
MongoDB wire protocol on a TCP socket), and a fresh database name per test."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from ocp.adapters.mongo.embedded import EmbeddedDatabase
from ocp.container import Container
from tests.builders import app_client, test_settings

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = EmbeddedDatabase(tmp_path_factory.mktemp("secantus") / "db", test_commands=True)
    uri = server.start()
    yield uri
    server.stop()


@pytest.fixture(scope="session")
async def mongo_client(mongo_uri: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True)
    yield client
    await client.close()


@pytest.fixture
async def mongo_db(
    mongo_client: AsyncMongoClient[dict[str, Any]],
) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    name = f"test_{next(_databases)}"
    yield mongo_client[name]
    await mongo_client.drop_database(name)


@pytest.fixture
def mongo_container(tmp_path: Path, mongo_uri: str) -> Container:
    """The whole app wired to MongoDB (SecantusDB), each test on its own database."""
    return Container.for_settings(
        test_settings(
            tmp_path, database="mongo", mongodb_uri=mongo_uri, mongodb_db=f"app_{next(_databases)}"
        )
    )


@pytest.fixture
async def mongo_client_http(mongo_container: Container) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(mongo_container) as http:
        yield http
