"""Every OCP_ variable, typed, documented and validated once at start-up."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

# HS256 wants a key at least as long as its hash (RFC 7518 3.2); the token issuer refuses a
# shorter one, so a short key must stop start-up rather than fail every sign-in later.
JWT_SECRET_MIN_BYTES = 32


RATE = r"^[1-9][0-9]{0,8}/(second|minute|hour|day)$"

# The settings that hold a secret. Each may come from a file instead, OCP_<NAME>_FILE=/path (a
# mounted Docker or Kubernetes secret), so the value never sits in the environment, where
# `ps e`, /proc/<pid>/environ and crash reports can read it.
SECRET_SETTINGS = (
    "jwt_secret",
    "smtp_password",
    "metrics_token",
    "bootstrap_admin_password",
    "mongodb_uri",  # may hold a password
)

# Where Docker (swarm and compose) mounts secrets; read when it exists and OCP_SECRETS_DIR
# names no other directory.
DEFAULT_SECRETS_DIR = Path("/run/secrets")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OCP_",
        env_file=".env",
        extra="ignore",
        validate_default=True,
        # An error names the variable, never echoes the input: that holds every secret.
        hide_input_in_errors=True,
    )

    env: Literal["development", "production"] = Field(
        "development",
        description="production refuses the defaults that are only safe on a developer's "
        "machine (`production_problems`)",
    )
    secrets_dir: Path | None = Field(
        None,
        description="a directory where a file named like a variable (`ocp_jwt_secret`, any "
        "case) holds its value; unset: /run/secrets when it exists",
    )
    host: str = Field("127.0.0.1", description="where `ocp serve` listens")
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes")
    header_timeout_s: float = Field(
        10, gt=0, le=300, description="a request's head must arrive within this many seconds"
    )
    body_idle_timeout_s: float = Field(
        30, gt=0, le=3600, description="a request body that sends nothing for this long is dropped"
    )
    drain_delay_s: float = Field(
        0,
        ge=0,
        le=300,
        description="after SIGTERM, keep serving this long with /readyz answering 503 (load "
        "balancers take the process out), then stop accepting and finish the requests under way",
    )
    refresh_reuse_grace_s: int = Field(
        10,
        ge=0,
        le=300,
        description="a spent refresh token replayed this soon gets the same new pair (two tabs "
        "refreshing at once); later, a replay revokes the session",
    )
    public_base_url: str | None = Field(
        None,
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="the URL clients reach the API at (links the API hands out, such as a "
        "direct-upload URL); unset: the listening address, http://OCP_HOST:OCP_PORT",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For "
        "and X-Forwarded-Proto are believed; empty: nobody's",
    )
    data_dir: Path = Field(Path("./var"), description="embedded database, files, mail outbox")

    database: Literal["mongo", "memory"] = Field(
        "mongo", description="memory keeps everything in the process (tests, experiments)"
    )
    mongodb_uri: str | None = Field(None, description="unset: start the embedded database")
    mongodb_db: str = Field("ocp", min_length=1, max_length=60)
    mongodb_timeout_ms: int = Field(5000, ge=100, description="server selection timeout")
    mongodb_appname: str = Field(
        "ocp", min_length=1, max_length=128, description="client name the server sees"
    )
    auto_migrate: bool | None = Field(
        None,
        description="migrate the database schema at start (`ocp db migrate`) instead of "
        "refusing to start on an older one; unset: on unless OCP_ENV=production",
    )

    file_store: Literal["local", "s3", "memory"] = "local"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_public_endpoint_url: str | None = Field(
        None,
        pattern=r"^(https?://[^/?#\s]+/?)?$",
        description="where browsers reach the store: presigned URLs (direct uploads, "
        "redirected downloads) are signed for this host; unset: OCP_S3_ENDPOINT_URL",
    )
    s3_create_bucket: bool = Field(
        False,
        description="at start, create the bucket when missing and allow OCP_CORS_ORIGINS to "
        "PUT, GET and HEAD in it (bucket CORS)",
    )
    s3_region: str = "us-east-1"
    s3_prefix: str = Field("", pattern=r"^[A-Za-z0-9/_.-]*$", description="key prefix in bucket")
    s3_presign_ttl_s: int = Field(300, ge=10, le=604_800, description="presigned download URLs")
    s3_redirect_downloads: bool = Field(
        False, description="with s3, downloads answer 307 to a presigned URL of the store"
    )
    direct_upload_ttl_s: int = Field(3_600, ge=60, le=604_800, description="direct upload window")
    files_gc_grace_s: int = Field(
        3_600, ge=0, description="`ocp files gc` spares objects younger than this"
    )

    jwt_secret: SecretStr | None = Field(
        None, description=f"HS256 key, at least {JWT_SECRET_MIN_BYTES} bytes (UTF-8)"
    )
    jwt_issuer: str = "ocp"
    jwt_audience: str = "ocp-api"
    access_token_ttl_s: int = Field(900, ge=30, le=86_400)
    refresh_token_ttl_s: int = Field(1_209_600, ge=300)
    bcrypt_rounds: int = Field(12, ge=4, le=16)

    bootstrap_admin_email: str | None = Field(None, description="set with the password, or neither")
    bootstrap_admin_password: SecretStr | None = None

    login_max_failures: int = Field(5, ge=1)
    login_window_s: int = Field(900, ge=1)

    max_upload_bytes: int = Field(2_147_483_648, ge=1)
    max_json_bytes: int = Field(1_048_576, ge=1)

    mail: Literal["outbox", "smtp", "memory"] = "outbox"
    mail_from: str = "OCP <no-reply@ocp.local>"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    password_reset_url: str = Field("", description="link in reset mails; {token} is replaced")
    email_verification_url: str = Field("", description="link in verification mails")
    email_change_url: str = Field("", description="link in email-change confirmation mails")

    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated allowed browser origins"
    )
    demo_seed: bool = Field(False, description="fill an empty database with a demo catalog")

    # rate limits (docs/retries.md), written N/second|minute|hour|day, shared by every process
    rate_limit_register: str = Field(
        "20/hour", pattern=RATE, description="/auth/register per client address"
    )
    rate_limit_login: str = Field(
        "60/minute", pattern=RATE, description="/auth/token per client address"
    )
    rate_limit_mail: str = Field(
        "5/hour",
        pattern=RATE,
        description="password-reset and verification requests per email; 4 times that per "
        "client address",
    )
    rate_limit_writes: str = Field(
        "600/minute", pattern=RATE, description="POSTs and uploads per user"
    )

    # events, webhooks and jobs (docs/events.md)
    webhooks_allow_http: bool = Field(False, description="allow http:// webhook endpoints")
    webhooks_allow_private: bool = Field(
        False,
        description="allow webhook endpoints on loopback and private addresses (never link-local)",
    )
    bulk_sync_max: int = Field(
        1000, ge=1, le=5000, description="bulk enrollments up to this many rows answer at once"
    )
    webhook_timeout_s: float = Field(
        10.0, gt=0, le=60, description="one delivery attempt, from connecting to reading"
    )
    worker_lease_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="how long a worker holds a claimed delivery or job before another may "
        "take it over (longer than one delivery attempt)",
    )
    worker_in_process: bool = Field(
        True,
        description="run the worker (webhooks, mail, jobs) inside each server process; off "
        "when `ocp worker` runs on its own",
    )

    public_max_age_s: int = Field(
        10,
        ge=0,
        le=86_400,
        description="max-age of public reads (anonymous catalog pages, course detail, modules, "
        "preview lessons); caches may serve them 60 s longer while revalidating",
    )

    # in-process caches (docs/caching.md): what every request reads, kept true by a change feed
    cache_enabled: bool = Field(
        True,
        description="answer authentication, course and public catalog reads from memory, "
        "invalidated by a change stream (every process within milliseconds); off: every "
        "request reads the database",
    )
    cache_users: int = Field(50_000, ge=1, le=10_000_000, description="users kept per process")
    cache_sessions: int = Field(
        100_000, ge=1, le=10_000_000, description="sessions (token families) kept per process"
    )
    cache_courses: int = Field(10_000, ge=1, le=1_000_000, description="courses kept per process")
    cache_catalog_pages: int = Field(
        2_000, ge=1, le=1_000_000, description="public catalog pages kept per process"
    )
    cache_lessons: int = Field(20_000, ge=1, le=10_000_000, description="lessons kept per process")

    # observability
    metrics_enabled: bool = Field(True, description="serve Prometheus metrics at /metrics")
    metrics_token: str | None = Field(
        None, description="when set, /metrics needs `Authorization: Bearer <this token>`"
    )
    metrics_max_age_s: float = Field(
        1.0, ge=0, le=60, description="a scrape is rendered at most this often; others share it"
    )
    metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="when set, `ocp serve` answers /metrics on this port only, not the API's",
    )
    log_format: Literal["json", "console"] | None = Field(
        None, description="one line per request; unset: json in production, else console"
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field(
        "info", description="`warning` silences the per-request lines"
    )
    hsts: bool | None = Field(None, description="Strict-Transport-Security; unset: in production")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [proxy.strip() for proxy in value.split(",") if proxy.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: list[str]) -> list[str]:
        for proxy in value:
            ipaddress.ip_network(proxy, strict=False)  # ValueError: not an address or CIDR
        return value

    @property
    def public_base(self) -> str:
        """Where clients reach this API, without a trailing slash."""
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _lease_outlasts_an_attempt(self) -> Settings:
        if self.worker_lease_s <= self.webhook_timeout_s:
            raise ValueError("OCP_WORKER_LEASE_S must be longer than OCP_WEBHOOK_TIMEOUT_S")
        return self

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.file_store == "s3" and not self.s3_bucket:
            raise ValueError("OCP_S3_BUCKET is required when OCP_FILE_STORE=s3")
        return self

    @model_validator(mode="after")
    def _production_refuses_unsafe_defaults(self) -> Settings:
        problems = self.production_problems() if self.env == "production" else []
        if problems:
            raise ValueError(
                "OCP_ENV=production refuses to start:\n" + "\n".join(f"- {p}" for p in problems)
            )
        return self

    def production_problems(self) -> list[str]:
        """What a development default would get wrong in production, every one at once, so
        an operator fixes the deployment in one round."""
        problems = []
        if self.mail == "outbox":
            problems.append(
                "OCP_MAIL=outbox writes mail to files under OCP_DATA_DIR that nobody reads: "
                "set OCP_MAIL=smtp and OCP_SMTP_*"
            )
        if self.jwt_secret is None:
            problems.append(
                "OCP_JWT_SECRET is not set, so a key would be generated on this host alone: "
                "set OCP_JWT_SECRET or OCP_JWT_SECRET_FILE, the same on every replica"
            )
        if self.file_store == "local" and "data_dir" not in self.model_fields_set:
            problems.append(
                "OCP_FILE_STORE=local keeps files under the default OCP_DATA_DIR (./var, "
                "wherever the process starts): set OCP_DATA_DIR to a persistent volume, or "
                "use OCP_FILE_STORE=s3"
            )
        if self.metrics_enabled and self.metrics_token is None and self.metrics_port is None:
            problems.append(
                "/metrics is open to whoever reaches the API: set OCP_METRICS_TOKEN (a bearer "
                "token), or OCP_METRICS_PORT to serve it on a port of its own, or "
                "OCP_METRICS_ENABLED=false"
            )
        return problems

    @model_validator(mode="after")
    def _secrets_are_usable(self) -> Settings:
        """Caught here, not by the first request: a short key would pass the health checks
        and then fail every sign-in, half a bootstrap admin would silently make none."""
        if (
            self.jwt_secret is not None
            and len(self.jwt_secret.get_secret_value().encode("utf-8")) < JWT_SECRET_MIN_BYTES
        ):
            raise ValueError(f"OCP_JWT_SECRET must be at least {JWT_SECRET_MIN_BYTES} bytes")
        password = self.bootstrap_admin_password
        if bool(self.bootstrap_admin_email) != bool(password and password.get_secret_value()):
            raise ValueError(
                "OCP_BOOTSTRAP_ADMIN_EMAIL and OCP_BOOTSTRAP_ADMIN_PASSWORD go together: "
                "set both, or neither"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Highest first: arguments, the environment, OCP_<NAME>_FILE, `.env`, the secrets
        directory."""
        variables = {**_variables_of(dotenv_settings), **_variables_of(env_settings)}
        arguments = (
            init_settings.init_kwargs if isinstance(init_settings, InitSettingsSource) else {}
        )
        directory = _secrets_directory(
            arguments.get("secrets_dir") or variables.get("ocp_secrets_dir")
        )
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            SecretFileSettingsSource(settings_cls, variables),
            dotenv_settings,
        ]
        if directory is not None:
            sources.append(SecretsSettingsSource(settings_cls, secrets_dir=directory))
        return tuple(sources)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def migrates_at_start(self) -> bool:
        return self.env != "production" if self.auto_migrate is None else self.auto_migrate

    @property
    def sends_hsts(self) -> bool:
        return self.env == "production" if self.hsts is None else self.hsts

    @property
    def log_style(self) -> Literal["json", "console"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.env == "production" else "console"

    def signing_secret(self) -> str:
        """The JWT key: configured, or generated once and kept under the data dir (development)."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            # Several workers may start at once: write aside, then link into place; whoever
            # links first wins and everyone reads the winner's key.
            self.data_dir.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f"jwt-secret.{os.getpid()}.tmp")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return path.read_text().strip()


class SecretFileSettingsSource(PydanticBaseSettingsSource):
    """OCP_<NAME>_FILE=/path for each of SECRET_SETTINGS: the value is the file's content
    without its trailing newline. A variable and its _FILE both set is refused: which one
    wins would be a guess."""

    def __init__(self, settings_cls: type[BaseSettings], variables: Mapping[str, str | None]):
        super().__init__(settings_cls)
        self.variables = variables  # lower-case names, as pydantic-settings reads them

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads every secret at once

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in SECRET_SETTINGS:
            variable = f"OCP_{name.upper()}"
            path = self.variables.get(f"{variable}_FILE".lower())
            if path is None:
                continue
            if self.variables.get(variable.lower()) is not None:
                raise SettingsError(f"set {variable} or {variable}_FILE, not both")
            if not path:
                raise SettingsError(f"{variable}_FILE is empty: name the file that holds it")
            try:
                values[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                raise SettingsError(f"{variable}_FILE={path} cannot be read: {reason}") from None
        return values


def _variables_of(source: PydanticBaseSettingsSource) -> Mapping[str, str | None]:
    """The variables a source read (lower-case names): the environment's or `.env`'s."""
    if isinstance(source, EnvSettingsSource | DotEnvSettingsSource):
        return source.env_vars
    return {}


def _secrets_directory(configured: object) -> Path | None:
    if configured:
        directory = Path(str(configured))
        if not directory.is_dir():
            raise SettingsError(f"OCP_SECRETS_DIR={directory} is not a directory")
        return directory
    return DEFAULT_SECRETS_DIR if DEFAULT_SECRETS_DIR.is_dir() else None


def refusals(error: ValidationError | SettingsError) -> list[str]:
    """Why the configuration was refused, one entry per problem, naming variables and never
    echoing a value (a start-up error ends up in logs, and the value may be a secret)."""
    if isinstance(error, SettingsError):
        return [str(error)]
    messages = []
    for problem in error.errors(include_url=False, include_context=False, include_input=False):
        message = problem["msg"].removeprefix("Value error, ")
        if problem["loc"]:
            message = f"OCP_{str(problem['loc'][0]).upper()}: {message}"
        messages.append(message)
    return messages
