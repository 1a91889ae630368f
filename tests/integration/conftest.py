"""Real servers for the integration suites: one SecantusDB process per test session (a real
MongoDB wire protocol on a TCP socket), and a fresh database name per test."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from ocp.adapters.mongo.embedded import EmbeddedDatabase
from ocp.container import Container
from tests.builders import app_client, test_settings
from tests.integration.processes import free_port

_databases = itertools.count(1)
_buckets = itertools.count(1)


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


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 in server mode: a real HTTP endpoint, as MinIO or AWS would be (the
    credentials are set for this process and the servers it starts)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_SESSION_TOKEN", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"ocp-test-{next(_buckets)}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name
