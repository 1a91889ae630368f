"""The files API on MongoDB (SecantusDB) and the disk store, as a client uses it."""

from __future__ import annotations


async def test_the_api_on_mongodb_and_disk_records_and_serves_files(tmp_path, mongo_uri):
    from ocp.container import Container
    from tests.builders import PNG, app_client, signed_up, upload
    from tests.builders import test_settings as settings_for

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
