"""The composition root: the one package that sees every layer and picks adapters from settings.

Swapping a backend (memory or MongoDB, disk or S3, outbox or SMTP) is a settings change and
nothing else. Tests build this same container and override providers.
"""

from __future__ import annotations

from typing import Any

from dependency_injector import containers, providers
from pymongo import AsyncMongoClient

from ocp.adapters.mail.outbox import OutboxMailer
from ocp.adapters.mail.smtp import SmtpMailer
from ocp.adapters.memory.courses import (
    InMemoryCourseRepository,
    InMemoryEnrollments,
    InMemoryLessonRepository,
)
from ocp.adapters.memory.files import (
    InMemoryFileRepository,
    InMemoryFileStore,
    InMemoryUploadSessionRepository,
)
from ocp.adapters.memory.health import AlwaysReady
from ocp.adapters.memory.identity import (
    InMemoryLoginThrottle,
    InMemoryMailer,
    InMemoryOneTimeTokenStore,
    InMemoryRefreshTokenStore,
    InMemoryUserRepository,
)
from ocp.adapters.memory.learning import (
    InMemoryAssignmentRepository,
    InMemoryCourseCounters,
    InMemoryEnrollmentRepository,
    InMemoryReviewRepository,
    InMemorySubmissionRepository,
)
from ocp.adapters.mongo.courses import (
    MongoCourseRepository,
    MongoEnrollments,
    MongoLessonRepository,
)
from ocp.adapters.mongo.files import MongoFileRepository, MongoUploadSessionRepository
from ocp.adapters.mongo.health import MongoPing
from ocp.adapters.mongo.identity import (
    MongoLoginThrottle,
    MongoOneTimeTokenStore,
    MongoRefreshTokenStore,
    MongoUserRepository,
)
from ocp.adapters.mongo.learning import (
    MongoAssignmentRepository,
    MongoCourseCounters,
    MongoEnrollmentRepository,
    MongoReviewRepository,
    MongoSubmissionRepository,
)
from ocp.adapters.security.passwords import BcryptPasswordHasher
from ocp.adapters.security.tokens import JwtTokenIssuer
from ocp.adapters.sniff import MagicNumberSniffer
from ocp.adapters.storage.disk import DiskFileStore
from ocp.adapters.storage.s3 import S3FileStore
from ocp.adapters.system import SystemClock, TimeOrderedIds
from ocp.application.courses import CourseService
from ocp.application.demo import DemoCatalog
from ocp.application.files import (
    AllUsages,
    CoursesForFiles,
    FilePolicy,
    FileService,
    OwnAvatarFiles,
    OwnCourseFiles,
)
from ocp.application.identity import IdentityPolicy, IdentityService
from ocp.application.learning import (
    AssignmentService,
    EnrollmentService,
    GradedSubmissionFiles,
    ReviewService,
    SubmissionFiles,
)
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


def _secret(settings: Settings) -> str:
    return settings.signing_secret()


def _smtp_password(settings: Settings) -> str | None:
    return settings.smtp_password.get_secret_value() if settings.smtp_password else None


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(TimeOrderedIds)

    # --- database --------------------------------------------------------------------------
    database_kind = providers.Callable(lambda s: s.database, settings)
    embedded_database = providers.Object(None)  # set by start() when it launches one
    mongo_client = providers.Singleton(_mongo_client, settings)
    mongo_database = providers.Singleton(
        lambda client, s: client[s.mongodb_db], mongo_client, settings
    )

    readiness_checks = providers.Dict(
        database=providers.Selector(
            database_kind,
            memory=providers.Singleton(AlwaysReady),
            mongo=providers.Singleton(MongoPing, mongo_client),
        ),
    )

    # --- identity --------------------------------------------------------------------------
    users = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryUserRepository),
        mongo=providers.Singleton(MongoUserRepository, mongo_database),
    )
    refresh_tokens = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryRefreshTokenStore),
        mongo=providers.Singleton(MongoRefreshTokenStore, mongo_database),
    )
    one_time_tokens = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryOneTimeTokenStore),
        mongo=providers.Singleton(MongoOneTimeTokenStore, mongo_database),
    )
    login_throttle = providers.Selector(
        database_kind,
        memory=providers.Singleton(
            InMemoryLoginThrottle,
            max_failures=settings.provided.login_max_failures,
            window_s=settings.provided.login_window_s,
        ),
        mongo=providers.Singleton(
            MongoLoginThrottle,
            mongo_database,
            max_failures=settings.provided.login_max_failures,
            window_s=settings.provided.login_window_s,
        ),
    )
    password_hasher = providers.Singleton(
        BcryptPasswordHasher, rounds=settings.provided.bcrypt_rounds
    )
    token_issuer = providers.Singleton(
        JwtTokenIssuer,
        secret=providers.Callable(_secret, settings),
        issuer=settings.provided.jwt_issuer,
        audience=settings.provided.jwt_audience,
        access_ttl_s=settings.provided.access_token_ttl_s,
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
    identity_policy = providers.Singleton(
        IdentityPolicy,
        refresh_ttl_s=settings.provided.refresh_token_ttl_s,
        refresh_reuse_grace_s=settings.provided.refresh_reuse_grace_s,
        password_reset_url=settings.provided.password_reset_url,
        email_verification_url=settings.provided.email_verification_url,
    )
    identity_service = providers.Factory(
        IdentityService,
        users=users,
        refresh_tokens=refresh_tokens,
        one_time_tokens=one_time_tokens,
        hasher=password_hasher,
        tokens=token_issuer,
        throttle=login_throttle,
        mailer=mailer,
        clock=clock,
        ids=ids,
        policy=identity_policy,
    )

    # --- courses (issue 3): providers go here ---------------------------------------------
    courses = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryCourseRepository),
        mongo=providers.Singleton(MongoCourseRepository, mongo_database),
    )
    lessons = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryLessonRepository),
        mongo=providers.Singleton(MongoLessonRepository, mongo_database),
    )
    enrollments = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryEnrollments),
        mongo=providers.Singleton(MongoEnrollments, mongo_database),
    )
    course_service = providers.Factory(
        CourseService,
        courses=courses,
        lessons=lessons,
        enrollments=enrollments,
        users=users,
        clock=clock,
        ids=ids,
    )
    demo_catalog = providers.Factory(
        DemoCatalog,
        identity=identity_service,
        catalog=course_service,
        users=users,
        courses=courses,
        lessons=lessons,
        clock=clock,
        ids=ids,
    )

    # --- files (issue 4): providers go here -----------------------------------------------
    file_store = providers.Selector(
        providers.Callable(lambda s: s.file_store, settings),
        memory=providers.Singleton(InMemoryFileStore),
        local=providers.Singleton(
            DiskFileStore, root=providers.Callable(lambda s: s.data_dir / "files", settings)
        ),
        s3=providers.Singleton(
            S3FileStore,
            bucket=settings.provided.s3_bucket,
            endpoint_url=settings.provided.s3_endpoint_url,
            region=settings.provided.s3_region,
            prefix=settings.provided.s3_prefix,
        ),
    )
    file_records = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryFileRepository),
        mongo=providers.Singleton(MongoFileRepository, mongo_database),
    )
    upload_sessions = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryUploadSessionRepository),
        mongo=providers.Singleton(MongoUploadSessionRepository, mongo_database),
    )
    content_sniffer = providers.Singleton(MagicNumberSniffer)
    file_policy = providers.Singleton(
        FilePolicy,
        max_upload_bytes=settings.provided.max_upload_bytes,
        direct_upload_ttl_s=settings.provided.direct_upload_ttl_s,
        presign_ttl_s=settings.provided.s3_presign_ttl_s,
        redirect_downloads=settings.provided.s3_redirect_downloads,
        gc_grace_s=settings.provided.files_gc_grace_s,
    )
    # What files know of courses: who relates to a course, which lessons use a file.
    file_course_access = providers.Singleton(CoursesForFiles, courses, enrollments, lessons)
    # Whatever still needs a file blocks its deletion: lessons now, graded submissions (5).
    file_usage = providers.Singleton(AllUsages, file_course_access)
    file_service = providers.Factory(
        FileService,
        files=file_records,
        uploads=upload_sessions,
        store=file_store,
        sniffer=content_sniffer,
        clock=clock,
        ids=ids,
        policy=file_policy,
        courses=file_course_access,
        usage=file_usage,
    )
    avatar_files = providers.Singleton(OwnAvatarFiles, file_records)
    course_files = providers.Singleton(OwnCourseFiles, file_records)

    # --- learning (issue 5) -----------------------------------------------------------------
    # `enrollment_records` writes the `enrollments` collection `enrollments` above reads.
    enrollment_records = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryEnrollmentRepository, enrollments),
        mongo=providers.Singleton(MongoEnrollmentRepository, mongo_database),
    )
    course_counters = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryCourseCounters, courses),
        mongo=providers.Singleton(MongoCourseCounters, mongo_database),
    )
    assignments = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryAssignmentRepository),
        mongo=providers.Singleton(MongoAssignmentRepository, mongo_database),
    )
    submissions = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemorySubmissionRepository),
        mongo=providers.Singleton(MongoSubmissionRepository, mongo_database),
    )
    reviews = providers.Selector(
        database_kind,
        memory=providers.Singleton(InMemoryReviewRepository),
        mongo=providers.Singleton(MongoReviewRepository, mongo_database),
    )
    submission_files = providers.Singleton(SubmissionFiles, file_records)
    graded_submission_files = providers.Singleton(GradedSubmissionFiles, submissions)
    enrollment_service = providers.Factory(
        EnrollmentService,
        courses=courses,
        lessons=lessons,
        enrollments=enrollment_records,
        counters=course_counters,
        users=users,
        clock=clock,
        ids=ids,
    )
    assignment_service = providers.Factory(
        AssignmentService,
        courses=courses,
        enrollments=enrollment_records,
        assignments=assignments,
        submissions=submissions,
        files=submission_files,
        users=users,
        clock=clock,
        ids=ids,
    )
    review_service = providers.Factory(
        ReviewService,
        courses=courses,
        enrollments=enrollment_records,
        reviews=reviews,
        counters=course_counters,
        clock=clock,
        ids=ids,
    )

    @classmethod
    def for_settings(cls, settings: Settings) -> Container:
        container = cls()
        container.settings.override(providers.Object(settings))
        return container


# Files are declared after the capabilities that use them, so their uses are bound here:
# avatars for identity, and the file store's readiness.
Container.identity_service.add_kwargs(avatar_files=Container.avatar_files)
Container.course_service.add_kwargs(files=Container.course_files)
Container.readiness_checks.add_kwargs(file_store=Container.file_store)
# learning (issue 5): a file attached to a graded submission cannot be deleted.
Container.file_usage.add_args(Container.graded_submission_files)


from ocp.container.lifecycle import (  # noqa: E402 - they take the Container defined above
    launch_embedded_database,
    start,
    stop,
)

__all__ = ["Container", "launch_embedded_database", "start", "stop"]
