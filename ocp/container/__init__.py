"""The composition root: the one package that sees every layer and picks adapters from settings.

It reads top to bottom: settings; the stores of every collection (memory or MongoDB, chosen
once, below); the file store (memory, disk or S3), mail (outbox, SMTP or memory) and security
adapters; one provider per port; then one provider per use case. Swapping a backend is a
settings change and nothing else. Tests build this same container and override providers.
"""

from __future__ import annotations

import os
import secrets
import socket
from typing import Any

from dependency_injector import containers, providers
from pymongo import AsyncMongoClient

from ocp.adapters.cache import (
    FOLLOWED,
    CacheSizes,
    ChangeFeed,
    LocalFeed,
    NoFeed,
    cached_stores,
)
from ocp.adapters.cache.webhooks import CachedWebhookRepository
from ocp.adapters.mail.outbox import OutboxMailer
from ocp.adapters.mail.smtp import SmtpMailer
from ocp.adapters.memory import memory_stores
from ocp.adapters.memory.audit import InMemoryAuditLog
from ocp.adapters.memory.events import (
    InMemoryDeliveryRepository,
    InMemoryEventLog,
    InMemoryJobRepository,
    InMemorySubjectProbe,
    InMemoryWebhookRepository,
)
from ocp.adapters.memory.files import InMemoryFileStore
from ocp.adapters.memory.health import AlwaysReady
from ocp.adapters.memory.idempotency import InMemoryIdempotencyStore
from ocp.adapters.memory.identity import InMemoryMailer
from ocp.adapters.memory.limits import InMemoryRateCounter
from ocp.adapters.memory.trash import InMemoryTrashBin
from ocp.adapters.mongo import mongo_stores
from ocp.adapters.mongo.audit import MongoAuditLog
from ocp.adapters.mongo.changes import MongoChangeFeed
from ocp.adapters.mongo.events import (
    MongoDeliveryRepository,
    MongoEventLog,
    MongoJobRepository,
    MongoSubjectProbe,
    MongoWebhookRepository,
)
from ocp.adapters.mongo.health import MongoPing
from ocp.adapters.mongo.idempotency import MongoIdempotencyStore
from ocp.adapters.mongo.limits import MongoRateCounter
from ocp.adapters.mongo.migrations import SCHEMA_VERSION, MongoSchema
from ocp.adapters.mongo.trash import MongoTrashBin
from ocp.adapters.observability.timing import Timed, instrumented
from ocp.adapters.security.passwords import BcryptPasswordHasher
from ocp.adapters.security.tokens import JwtTokenIssuer
from ocp.adapters.sniff import MagicNumberSniffer
from ocp.adapters.storage.disk import DiskFileStore
from ocp.adapters.storage.s3 import S3FileStore
from ocp.adapters.system import SystemClock, TimeOrderedIds
from ocp.adapters.webhooks import HttpWebhookSender
from ocp.application.audit import AuditService
from ocp.application.courses import CatalogService, CourseService, OutlineService
from ocp.application.courses.trash import TrashService
from ocp.application.demo import DemoCatalog
from ocp.application.events.dispatch import Dispatcher, Subscribers
from ocp.application.events.jobs import JobQueue, JobRunner, JobService
from ocp.application.events.recorder import Doorbell, EventRecorder
from ocp.application.events.webhooks import WebhookService
from ocp.application.files import DirectUploadService, FilePolicy, FileService, UploadService
from ocp.application.files.direct import RunningDigests
from ocp.application.identity import (
    AccountService,
    AdminService,
    IdentityPolicy,
    PasswordService,
    ProfileService,
    SessionService,
)
from ocp.application.identity.passwords import (
    EMAIL_CHANGE_JOB,
    EMAIL_CHANGED_JOB,
    EMAIL_VERIFICATION_JOB,
    PASSWORD_RESET_JOB,
    EmailChangedNotice,
    EmailChangeMail,
    PasswordResetMail,
    VerificationMail,
)
from ocp.application.learning import (
    AssignmentService,
    EnrollmentService,
    GradebookService,
    ProgressService,
    ReviewService,
)
from ocp.application.learning.enrollment import BULK_ENROLLMENT_JOB, BulkEnrollmentJob
from ocp.application.limits import Limiter
from ocp.application.ports.files import FileStore
from ocp.application.ports.stores import Stores
from ocp.container.embedded import EmbeddedDatabaseSlot
from ocp.container.lifecycle import (
    SchemaOutdated,
    launch_embedded_database,
    migrate_schema,
    ready_schema,
    schema_versions,
    start,
    stop,
)
from ocp.entrypoints.http.presenter import SchemaPresenter
from ocp.settings import Settings


def _mongo_client(settings: Settings) -> AsyncMongoClient[dict[str, Any]]:
    if not settings.mongodb_uri:
        raise RuntimeError("no MongoDB URI: the app's lifespan starts the embedded database first")
    return AsyncMongoClient(
        settings.mongodb_uri,
        tz_aware=True,
        serverSelectionTimeoutMS=settings.mongodb_timeout_ms,
        retryWrites=True,
        retryReads=True,
        appname=settings.mongodb_appname,
    )


def _observed_stores(stores: Stores, settings: Settings) -> Stores:
    if not settings.metrics_enabled:
        return stores
    return instrumented(stores, time_calls=settings.database == "mongo")


def _cached_stores(stores: Stores, feed: ChangeFeed, settings: Settings) -> Stores:
    if not settings.cache_enabled:
        return stores
    sizes = CacheSizes(
        users=settings.cache_users,
        sessions=settings.cache_sessions,
        courses=settings.cache_courses,
        catalog_pages=settings.cache_catalog_pages,
        lessons=settings.cache_lessons,
    )
    return cached_stores(stores, feed, sizes)


def _cached_webhooks(store: Any, feed: ChangeFeed, settings: Settings) -> Any:
    return CachedWebhookRepository(store, feed) if settings.cache_enabled else store


def _observed_file_store(store: FileStore, settings: Settings) -> FileStore:
    if not settings.metrics_enabled or settings.file_store == "memory":
        return store
    timed: FileStore = Timed(store, backend="file_store", port="file_store")
    return timed


def _smtp_password(settings: Settings) -> str | None:
    return settings.smtp_password.get_secret_value() if settings.smtp_password else None


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings)
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(TimeOrderedIds)

    # --- the database: memory or MongoDB, for every collection at once ---------------------
    database_kind = providers.Callable(lambda s: s.database, settings)
    embedded_database = providers.Singleton(EmbeddedDatabaseSlot)  # filled by start()
    mongo_client = providers.Singleton(_mongo_client, settings)
    mongo_database = providers.Singleton(
        lambda client, s: client[s.mongodb_db], mongo_client, settings
    )
    # Its recorded version, checked at start; migrated by `ocp db migrate` (lifecycle.py).
    schema = providers.Singleton(MongoSchema, mongo_database, clock)
    # Caches in front of the stores, outermost (the timings under them are database calls),
    # kept true by the change feed of the same technology; started and stopped by lifecycle.
    change_feed = providers.Selector(
        providers.Callable(lambda s: s.database if s.cache_enabled else "off", settings),
        memory=providers.Singleton(LocalFeed),
        mongo=providers.Singleton(MongoChangeFeed, mongo_database, collections=FOLLOWED),
        off=providers.Singleton(NoFeed),
    )
    raw_stores = providers.Selector(
        database_kind,
        memory=providers.Singleton(
            memory_stores,
            login_max_failures=settings.provided.login_max_failures,
            login_window_s=settings.provided.login_window_s,
        ),
        mongo=providers.Singleton(
            mongo_stores,
            mongo_database,
            login_max_failures=settings.provided.login_max_failures,
            login_window_s=settings.provided.login_window_s,
        ),
    )
    stores = providers.Singleton(
        _cached_stores,
        providers.Singleton(_observed_stores, raw_stores, settings),
        change_feed,
        settings,
    )
    # The outbox and the work queues: written and read by the worker, never cached.
    event_log = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryEventLog),
        mongo=providers.Singleton(MongoEventLog, mongo_database),
    )
    subject_probe = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemorySubjectProbe, raw_stores),
        mongo=providers.Singleton(MongoSubjectProbe, mongo_database),
    )
    webhooks = providers.Singleton(
        _cached_webhooks,
        providers.Selector(
            database_kind,
            memory=providers.Singleton(InMemoryWebhookRepository),
            mongo=providers.Singleton(MongoWebhookRepository, mongo_database),
        ),
        change_feed,
        settings,
    )
    deliveries = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryDeliveryRepository),
        mongo=providers.Singleton(MongoDeliveryRepository, mongo_database),
    )
    rate_counter = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryRateCounter),
        mongo=providers.Singleton(MongoRateCounter, mongo_database),
    )
    idempotency_store = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryIdempotencyStore),
        mongo=providers.Singleton(MongoIdempotencyStore, mongo_database),
    )
    jobs = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryJobRepository),
        mongo=providers.Singleton(MongoJobRepository, mongo_database),
    )

    # --- the other adapters ------------------------------------------------------------------
    s3_file_store = providers.Singleton(  # also prepared at start (OCP_S3_CREATE_BUCKET)
        S3FileStore,
        bucket=settings.provided.s3_bucket,
        endpoint_url=settings.provided.s3_endpoint_url,
        public_endpoint_url=settings.provided.s3_public_endpoint_url,
        region=settings.provided.s3_region,
        prefix=settings.provided.s3_prefix,
    )
    file_store = providers.Singleton(
        _observed_file_store,
        providers.Selector(
            providers.Callable(lambda s: s.file_store, settings),
            memory=providers.Singleton(InMemoryFileStore),
            local=providers.Singleton(
                DiskFileStore, root=providers.Callable(lambda s: s.data_dir / "files", settings)
            ),
            s3=s3_file_store,
        ),
        settings,
    )
    mailer = providers.Selector(
        providers.Callable(lambda s: s.mail, settings),
        outbox=providers.Singleton(
            OutboxMailer,
            directory=providers.Callable(lambda s: s.data_dir / "outbox", settings),
            sender=settings.provided.mail_from,
        ),
        smtp=providers.Singleton(
            SmtpMailer,
            host=settings.provided.smtp_host,
            port=settings.provided.smtp_port,
            username=settings.provided.smtp_username,
            password=providers.Callable(_smtp_password, settings),
            starttls=settings.provided.smtp_starttls,
            use_ssl=settings.provided.smtp_ssl,
            sender=settings.provided.mail_from,
        ),
        memory=providers.Singleton(InMemoryMailer),
    )
    password_hasher = providers.Singleton(
        BcryptPasswordHasher, rounds=settings.provided.bcrypt_rounds
    )
    token_issuer = providers.Singleton(
        JwtTokenIssuer,
        secret=providers.Callable(lambda s: s.signing_secret(), settings),
        issuer=settings.provided.jwt_issuer,
        audience=settings.provided.jwt_audience,
        access_ttl_s=settings.provided.access_token_ttl_s,
    )
    content_sniffer = providers.Singleton(MagicNumberSniffer)
    webhook_sender = providers.Singleton(
        HttpWebhookSender,
        allow_http=settings.provided.webhooks_allow_http,
        allow_private=settings.provided.webhooks_allow_private,
        timeout_s=settings.provided.webhook_timeout_s,
    )
    limiter = providers.Singleton(Limiter, rate_counter, clock)
    deliveries_bell = providers.Singleton(Doorbell)  # deliveries made here: the worker sends
    jobs_bell = providers.Singleton(Doorbell)  # jobs queued here: the worker runs them
    event_presenter = providers.Singleton(SchemaPresenter)
    worker_name = providers.Singleton(
        lambda: f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    )
    readiness_checks = providers.Dict(
        database=providers.Selector(
            database_kind,
            memory=providers.Singleton(AlwaysReady),
            mongo=providers.Singleton(MongoPing, mongo_client),
        ),
        file_store=file_store,
    )

    # --- one provider per collection port ------------------------------------------------------
    users = stores.provided.users
    refresh_tokens = stores.provided.refresh_tokens
    one_time_tokens = stores.provided.one_time_tokens
    login_throttle = stores.provided.login_throttle
    courses = stores.provided.courses
    lessons = stores.provided.lessons
    enrollments = stores.provided.enrollments
    assignments = stores.provided.assignments
    submissions = stores.provided.submissions
    reviews = stores.provided.reviews
    files = stores.provided.files
    upload_sessions = stores.provided.upload_sessions

    # --- policies from settings ----------------------------------------------------------------
    identity_policy = providers.Singleton(
        IdentityPolicy,
        refresh_ttl_s=settings.provided.refresh_token_ttl_s,
        refresh_reuse_grace_s=settings.provided.refresh_reuse_grace_s,
        password_reset_url=settings.provided.password_reset_url,
        email_verification_url=settings.provided.email_verification_url,
        email_change_url=settings.provided.email_change_url,
    )
    file_policy = providers.Singleton(
        FilePolicy,
        max_upload_bytes=settings.provided.max_upload_bytes,
        direct_upload_ttl_s=settings.provided.direct_upload_ttl_s,
        presign_ttl_s=settings.provided.s3_presign_ttl_s,
        redirect_downloads=settings.provided.s3_redirect_downloads,
        gc_grace_s=settings.provided.files_gc_grace_s,
    )

    # --- use cases -------------------------------------------------------------------------------
    audit_log = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryAuditLog),
        mongo=providers.Singleton(MongoAuditLog, mongo_database),
    )
    audit_service = providers.Factory(AuditService, log=audit_log)
    subscribers = providers.Singleton(
        Subscribers, webhooks=webhooks, deliveries=deliveries, audit=audit_log
    )
    event_recorder = providers.Singleton(
        EventRecorder,
        log_=event_log,
        presenter=event_presenter,
        clock=clock,
        ids=ids,
        subscribers=subscribers,
        deliveries_bell=deliveries_bell,
    )
    job_queue = providers.Singleton(JobQueue, jobs=jobs, clock=clock, ids=ids, doorbell=jobs_bell)
    job_service = providers.Factory(JobService, jobs=jobs)
    webhook_service = providers.Factory(
        WebhookService,
        webhooks=webhooks,
        deliveries=deliveries,
        events=event_log,
        recorder=event_recorder,
        sender=webhook_sender,
        clock=clock,
        ids=ids,
    )
    session_service = providers.Factory(
        SessionService,
        users=users,
        refresh_tokens=refresh_tokens,
        hasher=password_hasher,
        tokens=token_issuer,
        throttle=login_throttle,
        clock=clock,
        ids=ids,
        policy=identity_policy,
    )
    password_service = providers.Factory(
        PasswordService,
        users=users,
        refresh_tokens=refresh_tokens,
        one_time_tokens=one_time_tokens,
        hasher=password_hasher,
        tokens=token_issuer,
        throttle=login_throttle,
        mailer=mailer,
        queue=job_queue,
        clock=clock,
        policy=identity_policy,
    )
    profile_service = providers.Factory(
        ProfileService,
        users=users,
        files=files,
        hasher=password_hasher,
        clock=clock,
        ids=ids,
        events=event_recorder,
    )
    admin_service = providers.Factory(
        AdminService,
        users=users,
        refresh_tokens=refresh_tokens,
        profiles=profile_service,
        clock=clock,
        events=event_recorder,
    )
    trash_bin = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryTrashBin),
        mongo=providers.Singleton(MongoTrashBin, mongo_database),
    )
    trash_service = providers.Factory(
        TrashService,
        trash=trash_bin,
        courses=courses,
        lessons=lessons,
        assignments=assignments,
        enrollments=enrollments,
        clock=clock,
    )
    course_service = providers.Factory(
        CourseService,
        courses=courses,
        lessons=lessons,
        enrollments=enrollments,
        users=users,
        files=files,
        clock=clock,
        ids=ids,
        events=event_recorder,
        trash=trash_bin,
        assignments=assignments,
    )
    outline_service = providers.Factory(
        OutlineService,
        courses=courses,
        lessons=lessons,
        enrollments=enrollments,
        files=files,
        clock=clock,
        ids=ids,
        trash=trash_bin,
    )
    catalog_service = providers.Factory(CatalogService, courses=courses)
    demo_catalog = providers.Factory(
        DemoCatalog,
        profiles=profile_service,
        authoring=course_service,
        users=users,
        courses=courses,
        lessons=lessons,
        clock=clock,
        ids=ids,
    )
    upload_service = providers.Factory(
        UploadService,
        files=files,
        uploads=upload_sessions,
        store=file_store,
        sniffer=content_sniffer,
        courses=courses,
        enrollments=enrollments,
        clock=clock,
        ids=ids,
        policy=file_policy,
        events=event_recorder,
    )
    direct_upload_service = providers.Factory(
        DirectUploadService,
        digests=providers.Singleton(RunningDigests),
        files=files,
        uploads=upload_sessions,
        store=file_store,
        sniffer=content_sniffer,
        courses=courses,
        enrollments=enrollments,
        clock=clock,
        ids=ids,
        policy=file_policy,
        events=event_recorder,
    )
    file_service = providers.Factory(
        FileService,
        files=files,
        uploads=upload_sessions,
        store=file_store,
        courses=courses,
        lessons=lessons,
        enrollments=enrollments,
        submissions=submissions,
        clock=clock,
        policy=file_policy,
    )
    account_service = providers.Factory(
        AccountService,
        users=users,
        refresh_tokens=refresh_tokens,
        one_time_tokens=one_time_tokens,
        hasher=password_hasher,
        throttle=login_throttle,
        enrollments=enrollments,
        submissions=submissions,
        reviews=reviews,
        files=files,
        file_service=file_service,
        clock=clock,
        events=event_recorder,
    )
    enrollment_service = providers.Factory(
        EnrollmentService,
        courses=courses,
        enrollments=enrollments,
        users=users,
        clock=clock,
        ids=ids,
        queue=job_queue,
        bulk_sync_max=settings.provided.bulk_sync_max,
        events=event_recorder,
    )
    progress_service = providers.Factory(
        ProgressService,
        courses=courses,
        lessons=lessons,
        enrollments=enrollments,
        users=users,
        clock=clock,
        events=event_recorder,
    )
    assignment_service = providers.Factory(
        AssignmentService,
        courses=courses,
        enrollments=enrollments,
        assignments=assignments,
        submissions=submissions,
        files=files,
        clock=clock,
        ids=ids,
        events=event_recorder,
        trash=trash_bin,
    )
    gradebook_service = providers.Factory(
        GradebookService,
        courses=courses,
        enrollments=enrollments,
        assignments=assignments,
        submissions=submissions,
        users=users,
    )
    review_service = providers.Factory(
        ReviewService,
        courses=courses,
        enrollments=enrollments,
        reviews=reviews,
        clock=clock,
        ids=ids,
        events=event_recorder,
    )

    # --- the worker ----------------------------------------------------------------------------
    dispatcher = providers.Singleton(
        Dispatcher,
        events=event_log,
        probe=subject_probe,
        webhooks=webhooks,
        deliveries=deliveries,
        sender=webhook_sender,
        clock=clock,
        owner=worker_name,
        subscribers=subscribers,
        lease_s=settings.provided.worker_lease_s,
    )
    job_runner = providers.Singleton(
        JobRunner,
        jobs=jobs,
        handlers=providers.Dict(
            {
                PASSWORD_RESET_JOB: providers.Factory(PasswordResetMail, password_service),
                EMAIL_VERIFICATION_JOB: providers.Factory(VerificationMail, password_service),
                EMAIL_CHANGE_JOB: providers.Factory(EmailChangeMail, password_service),
                EMAIL_CHANGED_JOB: providers.Factory(EmailChangedNotice, password_service),
                BULK_ENROLLMENT_JOB: providers.Factory(
                    BulkEnrollmentJob, service=enrollment_service, users=users, clock=clock
                ),
            }
        ),
        clock=clock,
        owner=worker_name,
        lease_s=settings.provided.worker_lease_s,
    )

    @classmethod
    def for_settings(cls, settings: Settings) -> Container:
        container = cls()
        container.settings.override(providers.Object(settings))
        return container


__all__ = [
    "SCHEMA_VERSION",
    "Container",
    "SchemaOutdated",
    "launch_embedded_database",
    "migrate_schema",
    "ready_schema",
    "schema_versions",
    "start",
    "stop",
]
