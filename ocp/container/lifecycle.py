"""Start-up and shutdown in one place: the embedded database when no URI is set, indexes
(idempotent), instrumentation, the bootstrap admin and demo catalog; closing clients."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from dependency_injector import providers

from ocp.adapters.mongo.embedded import EmbeddedDatabase
from ocp.adapters.observability.timing import CountedLoginThrottle, Timed
from ocp.settings import Settings

if TYPE_CHECKING:
    from ocp.container import Container

log = logging.getLogger("ocp")


def database_repositories(container: Container) -> list[str]:
    """The name of every provider that picks its adapter by the database kind (a Selector on
    `database_kind`): every repository, whoever declared it."""
    return [
        name
        for name, provider in container.providers.items()
        if isinstance(provider, providers.Selector) and provider.selector is container.database_kind
    ]


def mongo_index_owners(container: Container) -> list[Any]:
    """Every MongoDB repository declaring its own indexes (`ensure_indexes`), found the way
    `instrument` finds them, so a repository added to the container cannot be missed."""
    return [
        repository
        for name in database_repositories(container)
        if hasattr(repository := getattr(container, name)(), "ensure_indexes")
    ]


def instrument(container: Container) -> None:
    """Observability at the composition root (OCP_METRICS_ENABLED): every repository on the
    database and the file store are wrapped in a timing proxy, the login throttle in a
    counter of failures and refusals. Use cases never see the difference."""
    settings: Settings = container.settings()
    if not settings.metrics_enabled:
        return
    throttle = container.login_throttle()
    if not _wrapped_in(throttle, CountedLoginThrottle):
        container.login_throttle.override(providers.Object(CountedLoginThrottle(throttle)))
    timed: list[tuple[str, str]] = []
    if settings.database == "mongo":
        timed += [("database", name) for name in database_repositories(container)]
    if settings.file_store != "memory":
        timed.append(("file_store", "file_store"))
    for backend, name in timed:
        provider = getattr(container, name)
        adapter = provider()
        if not _wrapped_in(adapter, Timed):
            provider.override(providers.Object(Timed(adapter, backend=backend, port=name)))


def _wrapped_in(adapter: Any, kind: type) -> bool:
    """Whether `adapter` already is, or wraps, a `kind` (start() may run twice)."""
    while adapter is not None:
        if isinstance(adapter, kind):
            return True
        adapter = getattr(adapter, "wrapped", None)
    return False


def launch_embedded_database(settings: Settings) -> EmbeddedDatabase | None:
    """Start the embedded database when MongoDB is wanted but no URI is configured, and point
    the settings at it; None when nothing needs starting."""
    if settings.database != "mongo" or settings.mongodb_uri:
        return None
    embedded = EmbeddedDatabase(settings.data_dir / "db")
    settings.mongodb_uri = embedded.start()
    return embedded


async def start(container: Container) -> None:
    """Start-up in one place: the embedded database if needed, indexes (idempotent), then the
    bootstrap admin. When any step fails, what was started is stopped again before the error
    goes on: nobody else holds the embedded database yet."""
    settings: Settings = container.settings()
    container.embedded_database.override(providers.Object(launch_embedded_database(settings)))
    try:
        await _prepare(container, settings)
    except BaseException:
        await stop(container)
        raise


async def _prepare(container: Container, settings: Settings) -> None:
    instrument(container)
    if settings.database == "mongo":
        for owner in mongo_index_owners(container):
            await owner.ensure_indexes()
    if settings.bootstrap_admin_email and settings.bootstrap_admin_password:
        made = await container.identity_service().ensure_admin(
            settings.bootstrap_admin_email, settings.bootstrap_admin_password.get_secret_value()
        )
        if made:
            log.info("created the bootstrap admin %s", settings.bootstrap_admin_email)
    # courses (issue 3): a demo catalog for a newcomer, only ever on an empty catalog
    if settings.demo_seed and settings.env != "production":
        made_courses = await container.demo_catalog().seed()
        if made_courses:
            log.info("seeded a demo catalog of %d courses", made_courses)


async def stop(container: Container) -> None:
    """Close the clients, then stop the embedded database whatever closing them raised."""
    settings: Settings = container.settings()
    try:
        if settings.database == "mongo" and settings.mongodb_uri:
            await container.mongo_client().close()
        if settings.file_store == "s3":
            await container.file_store().close()
    finally:
        embedded = container.embedded_database()
        if embedded is not None:
            embedded.stop()
