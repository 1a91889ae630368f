"""The `ocp` command: serve the API, manage users, and other operator chores."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import logging.config
import os
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from ocp import container as composition
from ocp.application.demo import DEMO_PASSWORD
from ocp.container import Container
from ocp.domain.errors import DomainError
from ocp.domain.users import Role
from ocp.entrypoints.background import worker_of
from ocp.entrypoints.http.observability import logging_config, serve_metrics_port
from ocp.entrypoints.workers import reuse_port_supported, serve_one, serve_workers
from ocp.settings import Settings, refusals


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings()
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    settings.signing_secret()  # made once here, before several workers race to make it
    options: dict[str, Any] = {
        "app": "ocp.entrypoints.http.app:create_app",
        "factory": True,
        "host": host,
        "port": port,
        # uvicorn reads X-Forwarded-For/-Proto only from these peers (not from its default,
        # 127.0.0.1, which would let any local client name its address and scheme).
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": ",".join(settings.trusted_proxies) or None,
        "log_config": logging_config(settings.log_style, settings.log_level),
        "access_log": False,  # ocp.access writes one richer line per request
        "timeout_graceful_shutdown": 20,
        # Slow clients: a head that trickles is cut (protocol.py), an idle keep-alive
        # connection closes after 5 s, a head may not exceed 16 KiB.
        "http": "ocp.entrypoints.protocol:HeaderDeadlineProtocol",
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": 16 * 1024,
    }
    code = 0
    embedded = None
    metrics_server = None
    try:
        # Inside the `try`: whatever fails from here on, the embedded database is stopped.
        embedded = composition.launch_embedded_database(settings)
        if embedded is not None:
            print(
                f"embedded database under {embedded.directory} on port {embedded.port}",
                flush=True,
            )
            os.environ["OCP_MONGODB_URI"] = embedded.uri  # the workers connect to this one
        if not _schema_ready(settings):
            return 2
        if settings.metrics_enabled and workers > 1:
            _share_metrics_between_workers(settings)
        if settings.metrics_enabled and settings.metrics_port is not None:
            # Off the API port (the workers leave /metrics out): served from this process,
            # which, with several workers, adds up their multiprocess files.
            try:
                metrics_server = serve_metrics_port(
                    host,
                    settings.metrics_port,
                    token=settings.metrics_token,
                    max_age_s=settings.metrics_max_age_s,
                )
            except OSError as exc:
                print(f"cannot serve metrics on port {settings.metrics_port}: {exc}", flush=True)
                return 1
            print(f"metrics on http://{host}:{settings.metrics_port}/metrics", flush=True)
        print(f"OCP API on http://{host}:{port}  (docs: http://{host}:{port}/docs)", flush=True)
        # Uvicorn drains requests on SIGTERM, then raises the signal again; make that second
        # one an ordinary exit so the `finally` below still stops the embedded database.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        drain_s = settings.drain_delay_s
        if workers > 1 and reuse_port_supported():
            logging.config.dictConfig(options["log_config"])
            code = serve_workers(options, workers, drain_delay_s=drain_s)
        elif workers > 1:  # uvicorn's own supervisor (macOS, BSD): no drain delay
            uvicorn.run(**options, workers=workers)
        else:
            code = serve_one(options, drain_delay_s=drain_s)
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
        if embedded is not None:
            print("stopping the embedded database ...", flush=True)
            embedded.stop()
    return code


def _schema_ready(settings: Settings) -> bool:
    """The schema checked (or migrated, OCP_AUTO_MIGRATE) once here, before the workers start;
    False when it is refused, said in one line."""
    try:
        asyncio.run(composition.ready_schema(Container.for_settings(settings)))
    except composition.SchemaOutdated as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return False
    return True


def _share_metrics_between_workers(settings: Settings) -> None:
    """prometheus-client's multiprocess mode: each worker writes its samples under one
    directory and /metrics adds them up. Emptied at start, so a previous run's dead workers
    do not count. Only for several workers: a single one serves from this very process,
    whose metrics (in PROMETHEUS_MULTIPROC_DIR when the operator set it) already exist."""
    directory = Path(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.data_dir / "prometheus"
    ).resolve()
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def _with_container(work: Callable[[Container], Awaitable[int]]) -> int:
    """Run `work` against the configured backends, the embedded database included."""

    async def run() -> int:
        container = Container.for_settings(Settings())
        await composition.start(container)
        try:
            return await work(container)
        finally:
            await composition.stop(container)

    try:
        return asyncio.run(run())
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    except composition.SchemaOutdated as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _create_user(args: argparse.Namespace) -> int:
    password = args.password or os.environ.get("OCP_NEW_USER_PASSWORD") or getpass.getpass()

    async def work(container: Container) -> int:
        user = await container.profile_service().register(
            args.email, password, args.name, role=Role(args.role)
        )
        print(f"created {user.role.value} {user.email} with id {user.id}")
        return 0

    return _with_container(work)


def _files_gc(args: argparse.Namespace) -> int:
    async def work(container: Container) -> int:
        report = await container.file_service().collect_garbage()
        print(
            f"removed {report.objects_removed} orphaned object(s) and "
            f"{report.sessions_removed} expired upload(s)"
        )
        return 0

    return _with_container(work)


def _gc(args: argparse.Namespace) -> int:
    async def work(container: Container) -> int:
        purged = await container.trash_service().purge()
        report = await container.file_service().collect_garbage()
        print(
            f"purged {purged} deletion(s) older than 30 days; removed "
            f"{report.objects_removed} orphaned object(s) and "
            f"{report.sessions_removed} expired upload(s)"
        )
        return 0

    return _with_container(work)


def _demo_seed(args: argparse.Namespace) -> int:
    if Settings().env == "production":
        print("error: the demo catalog is never seeded with OCP_ENV=production", file=sys.stderr)
        return 1

    async def work(container: Container) -> int:
        made = await container.demo_catalog().seed()
        if made:
            print(
                f"seeded {made} demo courses; instructors sign in with password {DEMO_PASSWORD!r}"
            )
        else:
            print("the catalog is not empty: nothing seeded")
        return 0

    return _with_container(work)


def _db_migrate(args: argparse.Namespace) -> int:
    settings = Settings()
    if settings.database != "mongo":
        print("OCP_DATABASE=memory keeps nothing between runs: no schema to migrate")
        return 0
    migration = asyncio.run(composition.migrate_schema(Container.for_settings(settings)))
    for step in migration.applied:
        print(f"applied schema step {step.version}: {step.name}")
    print(f"the database schema is at version {migration.after}{_compared(migration.after)}")
    return 0


def _db_version(args: argparse.Namespace) -> int:
    settings = Settings()
    if settings.database != "mongo":
        print("OCP_DATABASE=memory keeps nothing between runs: no schema")
        return 0
    recorded, expected = asyncio.run(composition.schema_versions(Container.for_settings(settings)))
    print(f"the database schema is at version {recorded}{_compared(recorded)}")
    return 1 if recorded < expected else 0


def _compared(recorded: int) -> str:
    expected = composition.SCHEMA_VERSION
    if recorded < expected:
        return f", older than this release's {expected}: run `ocp db migrate`"
    if recorded > expected:
        return f", newer than this release's {expected}: served, as migrations stay compatible"
    return ": up to date"


def _worker(args: argparse.Namespace) -> int:
    """Deliveries, mail and jobs on their own, for deployments that run servers with
    OCP_WORKER_IN_PROCESS=false. Several may run on one database (leases keep them apart).
    SIGTERM: attempts under way finish, a job under way is handed back."""
    settings = Settings()
    if settings.database != "mongo" or not settings.mongodb_uri:
        print(
            "error: `ocp worker` works on a shared database: set OCP_MONGODB_URI "
            "(`make run` runs a worker inside the server already)",
            file=sys.stderr,
        )
        return 2

    async def work(container: Container) -> int:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        worker = worker_of(container)
        worker.start()
        logging.getLogger("ocp").info("worker %s started", container.worker_name())
        await stopping.wait()
        await worker.stop()
        return 0

    return _with_container(work)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocp", description="OCP, the Online Course Portal")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API (embedded database unless configured)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="run webhook deliveries, mail and jobs")
    worker.set_defaults(run=_worker)

    users = commands.add_parser("users", help="manage users").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser("create", help="create a user with any role")
    create.add_argument("--email", required=True)
    create.add_argument("--name", default="Administrator")
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.STUDENT.value)
    create.add_argument("--password", help="prompted for when omitted")
    create.set_defaults(run=_create_user)

    files = commands.add_parser("files", help="file store chores").add_subparsers(
        dest="files_command", required=True
    )
    gc = files.add_parser(
        "gc", help="remove stored objects no file record points to, and expired direct uploads"
    )
    gc.set_defaults(run=_files_gc)
    everything = commands.add_parser(
        "gc", help="purge deletions older than 30 days (no longer restorable), then `files gc`"
    )
    everything.set_defaults(run=_gc)

    db = commands.add_parser("db", help="the database schema").add_subparsers(
        dest="db_command", required=True
    )
    migrate = db.add_parser(
        "migrate", help="bring the schema (indexes) to this release's version, once per deploy"
    )
    migrate.set_defaults(run=_db_migrate)
    version = db.add_parser(
        "version", help="the schema version recorded and this release's (exit 1: older)"
    )
    version.set_defaults(run=_db_version)

    demo = commands.add_parser("demo", help="demo data").add_subparsers(
        dest="demo_command", required=True
    )
    seed = demo.add_parser("seed", help="fill an empty catalog with demo courses (idempotent)")
    seed.set_defaults(run=_demo_seed)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args: Any = build_parser().parse_args(argv)
    try:
        Settings()  # every command reads them: a refused configuration stops it before any work
    except (ValidationError, SettingsError) as exc:
        print("error: the configuration is refused", file=sys.stderr)
        for problem in refusals(exc):
            print(problem, file=sys.stderr)
        return 2
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
