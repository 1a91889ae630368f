"""Start-up and shutdown in one place: the embedded database when no URI is set, the schema
check (or migration, `OCP_AUTO_MIGRATE`), the bootstrap admin and demo catalog; closing
clients. `migrate_schema` and `schema_versions` are `ocp db migrate` and `ocp db version`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from ocp.adapters.mongo.embedded import EmbeddedDatabase
from ocp.adapters.mongo.migrations import Migration
from ocp.settings import Settings

if TYPE_CHECKING:
    from ocp.container import Container

log = logging.getLogger("ocp")


class SchemaOutdated(Exception):
    """The database's schema is older than this release needs: `ocp db migrate` first."""

    def __init__(self, recorded: int, expected: int) -> None:
        super().__init__(
            f"the database schema is at version {recorded} and this release needs {expected}: "
            "run `ocp db migrate` first (or set OCP_AUTO_MIGRATE=true)"
        )
        self.recorded = recorded
        self.expected = expected


def launch_embedded_database(settings: Settings) -> EmbeddedDatabase | None:
    """Start the embedded database when MongoDB is wanted but no URI is configured, and point
    the settings at it; None when nothing needs starting."""
    if settings.database != "mongo" or settings.mongodb_uri:
        return None
    directory = settings.data_dir / "db"
    if (running := EmbeddedDatabase.running(directory)) is not None:
        settings.mongodb_uri = running.uri  # `make run` serves: never a second server
        return None
    embedded = EmbeddedDatabase(directory)
    settings.mongodb_uri = embedded.start()
    return embedded


async def start(container: Container) -> None:
    """Start-up in one place: the embedded database if needed, the schema, then the
    bootstrap admin. When any step fails, what was started is stopped again before the error
    goes on: nobody else holds the embedded database yet."""
    settings: Settings = container.settings()
    slot = container.embedded_database()
    if slot.database is None:
        slot.database = slot.launched = launch_embedded_database(settings)
    try:
        await _prepare(container, settings)
    except BaseException:
        await stop(container)
        raise


async def _prepare(container: Container, settings: Settings) -> None:
    if settings.file_store == "s3" and settings.s3_create_bucket:
        await container.s3_file_store().ensure_bucket(settings.cors_origins)
    if settings.database == "mongo":
        await check_schema(container, settings)
        container.stores().courses.keep_fences()  # bounds every catalog page's cost
    # Caches answer only once the feed follows changes (docs/caching.md).
    await container.change_feed().start()
    if settings.bootstrap_admin_email and settings.bootstrap_admin_password:
        made = await container.admin_service().ensure_admin(
            settings.bootstrap_admin_email, settings.bootstrap_admin_password.get_secret_value()
        )
        if made:
            log.info("created the bootstrap admin %s", settings.bootstrap_admin_email)
    # A demo catalog for a newcomer, only ever on an empty catalog.
    if settings.demo_seed and settings.env != "production":
        made_courses = await container.demo_catalog().seed()
        if made_courses:
            log.info("seeded a demo catalog of %d courses", made_courses)


async def check_schema(container: Container, settings: Settings) -> None:
    """One read of the recorded schema version when it is current (indexes are built by
    `ocp db migrate`, once per deploy, not by every process at start). Older: migrated here
    with OCP_AUTO_MIGRATE (development's default), else refused. Newer (the code was rolled
    back after a migration): served, since every step keeps the release before it working."""
    schema = container.schema()
    if settings.migrates_at_start:
        migration = await schema.migrate()
        for step in migration.applied:
            log.info("migrated the database schema to version %d: %s", step.version, step.name)
        recorded = migration.after
    else:
        recorded = await schema.recorded_version()
    if recorded < schema.expected:
        raise SchemaOutdated(recorded, schema.expected)
    if recorded > schema.expected:
        log.warning(
            "the database schema is at version %d, newer than this release's %d: serving, "
            "as migrations keep the release before them working",
            recorded,
            schema.expected,
        )


async def ready_schema(container: Container) -> None:
    """`ocp serve`, once before its workers start: `check_schema` on the database alone, so
    a refusal is one line and several workers do not race to migrate (each still checks)."""
    settings: Settings = container.settings()
    if settings.database == "mongo":
        async with _database_alone(container):
            await check_schema(container, settings)


async def migrate_schema(container: Container) -> Migration:
    """`ocp db migrate`: the database alone (the embedded one when no URI is set), brought to
    this release's schema; nothing else starts, since the rest may refuse the old schema."""
    async with _database_alone(container):
        migration: Migration = await container.schema().migrate()
        return migration


async def schema_versions(container: Container) -> tuple[int, int]:
    """`ocp db version`: the version the database records, and the one this release needs."""
    async with _database_alone(container):
        schema = container.schema()
        return await schema.recorded_version(), schema.expected


@asynccontextmanager
async def _database_alone(container: Container) -> AsyncIterator[None]:
    settings: Settings = container.settings()
    embedded = launch_embedded_database(settings)
    try:
        yield
    finally:
        try:
            await container.mongo_client().close()
        finally:
            if embedded is not None:
                embedded.stop()


async def stop(container: Container) -> None:
    """Close the clients, then stop the embedded database whatever closing them raised."""
    settings: Settings = container.settings()
    try:
        await container.event_recorder().settled()  # commits of answered writes
        await container.change_feed().stop()
        if settings.database == "mongo":
            await container.stores().courses.stop_fences()
        if settings.database == "mongo" and settings.mongodb_uri:
            await container.mongo_client().close()
        if settings.file_store == "s3":
            await container.file_store().close()
        await container.webhook_sender().close()
    finally:
        slot = container.embedded_database()
        if slot.database is not None:
            slot.database.stop()
            slot.database = None
