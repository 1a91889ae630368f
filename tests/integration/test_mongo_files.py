"""The file repository contracts on MongoDB (SecantusDB)."""

from __future__ import annotations

import pytest

from ocp.adapters.mongo.files import MongoFileRepository, MongoUploadSessionRepository
from tests.contracts.files import FileRepositoryContract, UploadSessionRepositoryContract


async def _indexed(store):
    await store.ensure_indexes()
    await store.ensure_indexes()
    return store


class TestMongoFileRepository(FileRepositoryContract):
    @pytest.fixture
    async def files(self, mongo_db):
        return await _indexed(MongoFileRepository(mongo_db))


class TestMongoUploadSessions(UploadSessionRepositoryContract):
    @pytest.fixture
    async def uploads(self, mongo_db):
        return await _indexed(MongoUploadSessionRepository(mongo_db))


async def test_listing_a_users_files_uses_an_index(mongo_db):
    await _indexed(MongoFileRepository(mongo_db))
    plan = (
        await mongo_db["files"]
        .find({"owner_id": "u1", "purpose": "avatar"})
        .sort("_id", -1)
        .explain()
    )
    assert "COLLSCAN" not in str(plan["queryPlanner"]["winningPlan"])


async def test_the_api_on_mongodb_and_disk_records_and_serves_files(tmp_path, mongo_uri):
    from ocp.container import Container
    from tests.support import app_client, signed_up
    from tests.support import test_settings as settings_for
    from tests.unit.test_files_http import PNG, upload

    container = Container.for_settings(
        settings_for(
            tmp_path,
            database="mongo",
            mongodb_uri=mongo_uri,
            mongodb_db="files_http",
            file_store="local",
        )
    )
    async with app_client(container) as client:
        me = await signed_up(client, container)
        file = (await upload(client, me, PNG, "avatar")).json()
        got = await client.get(f"/api/v1/files/{file['id']}/content", headers={"Range": "bytes=-4"})
        assert got.status_code == 206 and got.content == PNG[-4:]
        listed = await client.get("/api/v1/files", headers=me.auth)
        assert [f["id"] for f in listed.json()["items"]] == [file["id"]]
        assert (
            await client.delete(f"/api/v1/files/{file['id']}", headers=me.auth)
        ).status_code == 204
        await container.mongo_client().drop_database("files_http")
