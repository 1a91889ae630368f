"""Schema migrations on MongoDB (SecantusDB): `ocp db migrate` builds the indexes once and
records the version; every process reads it at start and refuses an older schema unless it
may migrate itself (OCP_AUTO_MIGRATE, on in development and in these tests)."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import inspect
import itertools
import json
import logging
import os
import pkgutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from pymongo import AsyncMongoClient, monitoring

from ocp import container as composition
from ocp.adapters import mongo as mongo_adapters
from ocp.adapters.mongo.migrations import (
    SCHEMA_ID,
    SCHEMA_VERSION,
    STEPS,
    LeaseLost,
    MongoSchema,
    Step,
    index_owners,
)
from ocp.adapters.system import SystemClock
from ocp.container import Container
from tests.builders import test_settings

# The indexes the repositories declare, digested, for each schema version. A change to any
# `ensure_indexes` reaches existing databases only through a new migration step: add one
# (bump the version) and record the new digest under it.
DECLARED_INDEXES = {1: "3d91ef0eac9c032c"}

_names = itertools.count(1)


def fresh_name() -> str:
    return f"migrations_{next(_names)}"


async def indexes_of(db: Any) -> dict[str, list[str]]:
    """Every collection's index names, but `_id_`."""
    found = {}
    for collection in sorted(await db.list_collection_names()):
        names = [ix["name"] async for ix in await db[collection].list_indexes()]
        found[collection] = sorted(n for n in names if n != "_id_")
    return {c: names for c, names in found.items() if names}


def schema(db: Any, **options: Any) -> MongoSchema:
    return MongoSchema(db, SystemClock(), **options)


def settings_for(tmp_path: Path, mongo_uri: str, name: str, **overrides: Any) -> Any:
    return test_settings(
        tmp_path, database="mongo", mongodb_uri=mongo_uri, mongodb_db=name, **overrides
    )


def run_ocp(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`ocp ...` as its own process, with the OCP_ variables `env` (none of the caller's)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OCP_")}
    environment.update(OCP_DATA_DIR=str(tmp_path), OCP_BCRYPT_ROUNDS="4", **env)
    return subprocess.run(
        [sys.executable, "-m", "ocp.entrypoints.cli", *args],
        env=environment,
        cwd=tmp_path,  # no `.env` of the checkout reaches it
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- ocp db migrate -------------------------------------------------------------------------


async def test_migrating_an_empty_database_creates_the_indexes_and_records_the_version(mongo_db):
    migration = await schema(mongo_db).migrate()

    assert (migration.before, migration.after) == (0, SCHEMA_VERSION)
    assert [step.version for step in migration.applied] == [s.version for s in STEPS]
    indexes = await indexes_of(mongo_db)
    assert "email_key_1" in indexes["users"] and "slug_1" in indexes["courses"]
    assert "status_due" in indexes["deliveries"] and "expiry" in indexes["idempotency_keys"]
    recorded = await mongo_db["meta"].find_one({"_id": SCHEMA_ID})
    assert recorded["version"] == SCHEMA_VERSION and recorded["applied_at"] is not None
    assert [step["version"] for step in recorded["steps"]] == [s.version for s in STEPS]
    assert recorded["lease"] is None, "the lease is handed back"


async def test_migrating_again_changes_nothing(mongo_db):
    await schema(mongo_db).migrate()
    indexes = await indexes_of(mongo_db)
    recorded = await mongo_db["meta"].find_one({"_id": SCHEMA_ID})

    again = await schema(mongo_db).migrate()

    assert (again.before, again.after, again.applied) == (SCHEMA_VERSION, SCHEMA_VERSION, [])
    assert await indexes_of(mongo_db) == indexes
    assert await mongo_db["meta"].find_one({"_id": SCHEMA_ID}) == recorded


async def test_two_migrations_at_once_apply_each_step_once_and_both_succeed(mongo_db):
    first, second = await asyncio.gather(schema(mongo_db).migrate(), schema(mongo_db).migrate())

    assert first.after == second.after == SCHEMA_VERSION
    assert len(first.applied) + len(second.applied) == len(STEPS)
    recorded = await mongo_db["meta"].find_one({"_id": SCHEMA_ID})
    assert [step["version"] for step in recorded["steps"]] == [s.version for s in STEPS]
    assert "email_key_1" in (await indexes_of(mongo_db))["users"]


async def test_a_migration_waits_for_the_one_holding_the_lease(mongo_db):
    running, release = asyncio.Event(), asyncio.Event()
    runs = []

    async def slow(db: Any) -> None:
        runs.append(1)
        running.set()
        await release.wait()

    steps = (Step(1, "slow", slow),)
    holder = asyncio.create_task(schema(mongo_db, steps=steps).migrate())
    await running.wait()
    waiter = asyncio.create_task(schema(mongo_db, steps=steps).migrate())
    await asyncio.sleep(0.5)  # the waiter polls meanwhile; nothing may happen before release
    assert not waiter.done() and runs == [1]
    release.set()

    held, waited = await holder, await waiter
    assert [s.name for s in held.applied] == ["slow"] and waited.applied == []
    assert held.after == waited.after == 1 and runs == [1]


async def test_a_dead_migrations_lease_is_taken_over_once_it_runs_out(mongo_db):
    past = SystemClock().now() - timedelta(seconds=1)
    await mongo_db["meta"].insert_one(
        {"_id": SCHEMA_ID, "version": 0, "steps": [], "lease": {"owner": "dead", "until": past}}
    )

    migration = await schema(mongo_db).migrate()

    assert migration.after == SCHEMA_VERSION and migration.applied


async def test_a_migration_that_lost_its_lease_stops_without_recording(mongo_db):
    async def overtaken(db: Any) -> None:  # stalled past the lease; another took it over
        await db["meta"].update_one({"_id": SCHEMA_ID}, {"$set": {"lease.owner": "another"}})

    with pytest.raises(LeaseLost):
        await schema(mongo_db, steps=(Step(1, "overtaken", overtaken),)).migrate()

    recorded = await mongo_db["meta"].find_one({"_id": SCHEMA_ID})
    assert recorded["version"] == 0 and recorded["lease"]["owner"] == "another"


async def test_a_newer_schema_is_left_as_it_is(mongo_db):
    await mongo_db["meta"].insert_one({"_id": SCHEMA_ID, "version": SCHEMA_VERSION + 1})

    migration = await schema(mongo_db).migrate()

    assert (migration.after, migration.applied) == (SCHEMA_VERSION + 1, [])
    assert await indexes_of(mongo_db) == {}


# --- what the steps cover ---------------------------------------------------------------------


def test_the_steps_are_numbered_one_by_one():
    assert [step.version for step in STEPS] == list(range(1, len(STEPS) + 1))
    assert SCHEMA_VERSION == STEPS[-1].version


async def test_every_mongo_repository_that_declares_indexes_is_migrated(mongo_db):
    declaring = set()
    for module in pkgutil.walk_packages(mongo_adapters.__path__, "ocp.adapters.mongo."):
        for _, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            is_protocol = getattr(cls, "_is_protocol", False)
            if cls.__module__ == module.name and hasattr(cls, "ensure_indexes") and not is_protocol:
                declaring.add(cls.__qualname__)
    migrated = {type(owner).__qualname__ for owner in index_owners(mongo_db)}
    assert declaring - migrated == set(), (
        "these repositories declare indexes no migration step creates: add them to "
        "index_owners in ocp/adapters/mongo/migrations.py (and a step, see DECLARED_INDEXES)"
    )


async def test_a_change_to_the_declared_indexes_comes_with_a_new_schema_version(mongo_db):
    await schema(mongo_db).migrate()
    specs = []
    for collection in sorted(await mongo_db.list_collection_names()):
        async for ix in await mongo_db[collection].list_indexes():
            if ix["name"] == "_id_":
                continue
            options = {k: ix[k] for k in ("unique", "expireAfterSeconds", "sparse") if k in ix}
            specs.append([collection, ix["name"], list(ix["key"].items()), options])
    digest = hashlib.sha256(json.dumps(specs).encode()).hexdigest()[:16]
    assert DECLARED_INDEXES.get(SCHEMA_VERSION) == digest, (
        f"the declared indexes are now {digest} (listed below), not what schema version "
        f"{SCHEMA_VERSION} recorded: databases already at that version would never get the "
        "change. Add a migration step (running `_declared_indexes` again, dropping what went) "
        "and record the digest under its version in DECLARED_INDEXES.\n"
        + "\n".join(map(str, specs))
    )


# --- start-up -----------------------------------------------------------------------------------


async def test_start_refuses_an_older_schema_without_auto_migrate(
    tmp_path, mongo_uri, mongo_client
):
    name = fresh_name()
    await mongo_client[name]["users"].insert_one({"_id": "u1"})  # data from before migrations
    container = Container.for_settings(settings_for(tmp_path, mongo_uri, name, auto_migrate=False))
    try:
        with pytest.raises(composition.SchemaOutdated, match="run `ocp db migrate`"):
            await composition.start(container)
        assert await indexes_of(mongo_client[name]) == {}, "nothing was built"
    finally:
        await mongo_client.drop_database(name)


async def test_start_migrates_with_auto_migrate(tmp_path, mongo_uri, mongo_client):
    name = fresh_name()
    container = Container.for_settings(settings_for(tmp_path, mongo_uri, name))
    assert container.settings().migrates_at_start, "development and tests migrate at start"
    await composition.start(container)
    try:
        assert await container.schema().recorded_version() == SCHEMA_VERSION
        assert "email_key_1" in (await indexes_of(mongo_client[name]))["users"]
    finally:
        await composition.stop(container)
        await mongo_client.drop_database(name)


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.seen.append((event.command_name, event.command.get(event.command_name)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.mark.parametrize("auto_migrate", [True, False], ids=["auto-migrate", "no auto-migrate"])
async def test_a_start_on_a_current_schema_builds_no_index_and_reads_the_version_once(
    tmp_path, mongo_uri, mongo_client, auto_migrate
):
    name = fresh_name()
    await schema(mongo_client[name]).migrate()
    commands = Commands()
    container = Container.for_settings(
        settings_for(tmp_path, mongo_uri, name, auto_migrate=auto_migrate)
    )
    container.mongo_client.override(
        providers.Singleton(
            lambda: AsyncMongoClient(mongo_uri, tz_aware=True, event_listeners=[commands])
        )
    )
    await composition.start(container)
    try:
        assert not [c for c in commands.seen if c[0] in ("createIndexes", "dropIndexes")]
        assert [c for c in commands.seen if c[1] == "meta"] == [("find", "meta")]
    finally:
        await composition.stop(container)
        await mongo_client.drop_database(name)


async def test_a_newer_schema_starts_with_a_warning(tmp_path, mongo_uri, mongo_client, caplog):
    name = fresh_name()
    await mongo_client[name]["meta"].insert_one({"_id": SCHEMA_ID, "version": SCHEMA_VERSION + 1})
    container = Container.for_settings(settings_for(tmp_path, mongo_uri, name, auto_migrate=False))
    with caplog.at_level(logging.WARNING, logger="ocp"):
        await composition.start(container)
    try:
        assert "newer than this release's" in caplog.text
    finally:
        await composition.stop(container)
        await mongo_client.drop_database(name)


# --- the commands, as processes ----------------------------------------------------------------


def test_ocp_db_migrate_applies_once_and_then_reports_up_to_date(tmp_path, mongo_uri):
    env = {"OCP_MONGODB_URI": mongo_uri, "OCP_MONGODB_DB": fresh_name()}

    before = run_ocp(tmp_path, "db", "version", **env)
    assert before.returncode == 1, before.stderr
    assert f"version 0, older than this release's {SCHEMA_VERSION}" in before.stdout

    first = run_ocp(tmp_path, "db", "migrate", **env)
    assert first.returncode == 0, first.stderr
    assert "applied schema step 1:" in first.stdout
    assert f"the database schema is at version {SCHEMA_VERSION}: up to date" in first.stdout

    second = run_ocp(tmp_path, "db", "migrate", **env)
    assert second.returncode == 0, second.stderr
    assert "applied" not in second.stdout and "up to date" in second.stdout

    after = run_ocp(tmp_path, "db", "version", **env)
    assert after.returncode == 0 and "up to date" in after.stdout


@pytest.mark.parametrize("command", [["serve"], ["worker"]])
def test_serve_and_worker_refuse_an_older_schema_in_one_line(tmp_path, mongo_uri, command):
    env = {
        "OCP_MONGODB_URI": mongo_uri,
        "OCP_MONGODB_DB": fresh_name(),
        "OCP_AUTO_MIGRATE": "false",
        "OCP_WORKER_IN_PROCESS": "false",
    }
    refused = run_ocp(tmp_path, *command, **env)

    assert refused.returncode == 2, refused.stdout + refused.stderr
    (line,) = [x for x in refused.stderr.splitlines() if x.startswith("error:")]
    assert f"version 0 and this release needs {SCHEMA_VERSION}" in line
    assert "run `ocp db migrate`" in line and "Traceback" not in refused.stderr
