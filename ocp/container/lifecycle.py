"""Start-up and shutdown in one place: the embedded database when no URI is set, indexes
(idempotent), the bootstrap admin and demo catalog; closing clients."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ocp.adapters.mongo import ensure_indexes
from ocp.adapters.mongo.embedded import EmbeddedDatabase
from ocp.settings import Settings

if TYPE_CHECKING:
    from ocp.container import Container

log = logging.getLogger("ocp")


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
    """Start-up in one place: the embedded database if needed, indexes (idempotent), then the
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
        await ensure_indexes(container.stores())
        for queue in (
            container.event_log,
            container.audit_log,
            container.trash_bin,
            container.webhooks,
            container.deliveries,
            container.jobs,
            container.idempotency_store,
            container.rate_counter,
        ):
            await queue().ensure_indexes()
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
