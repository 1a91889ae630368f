"""Production refuses the defaults that are only safe on a developer's machine, all of them in
one message, before any command does work; secrets can come from files instead of the
environment; /metrics is closed by a token or moved to a port of its own."""

from __future__ import annotations

import logging.config
import os
import signal
from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsError

from ocp import settings as settings_module
from ocp.container import Container
from ocp.settings import SECRET_SETTINGS, Settings, refusals
from tests.builders import app_client, test_settings

JWT_SECRET = "production-signing-key-0123456789abcdef"
METRICS_TOKEN = "scrape-token-0123456789"

MAIL_REFUSED = "OCP_MAIL=outbox"
JWT_REFUSED = "OCP_JWT_SECRET is not set"
LOCAL_STORE_REFUSED = "OCP_FILE_STORE=local"
OPEN_METRICS_REFUSED = "/metrics is open"
EVERY_REFUSAL = (MAIL_REFUSED, JWT_REFUSED, LOCAL_STORE_REFUSED, OPEN_METRICS_REFUSED)


@pytest.fixture(autouse=True)
def no_ocp_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only what each test sets: nothing from the developer's shell, `.env` or /run/secrets."""
    for name in [n for n in os.environ if n.startswith("OCP_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings_module, "DEFAULT_SECRETS_DIR", tmp_path / "no-secrets-here")


def production(**values: object) -> Settings:
    """A production configuration that starts, with `values` changed."""
    safe: dict[str, object] = {
        "env": "production",
        "jwt_secret": JWT_SECRET,
        "mail": "smtp",
        "data_dir": "/srv/ocp",
        "metrics_token": METRICS_TOKEN,
    }
    safe.update(values)
    return Settings(_env_file=None, **{k: v for k, v in safe.items() if v is not None})


def refusal_of(**values: object) -> str:
    with pytest.raises(ValidationError) as refused:
        production(**values)
    (message,) = refusals(refused.value)
    return message


def test_a_complete_production_configuration_validates():
    settings = production()
    assert settings.env == "production" and settings.production_problems() == []
    assert production(file_store="s3", s3_bucket="ocp-files", data_dir=None).file_store == "s3"
    assert production(metrics_token=None, metrics_port=9100).metrics_port == 9100
    assert production(metrics_token=None, metrics_enabled=False).metrics_enabled is False


@pytest.mark.parametrize(
    ("unsafe", "refused"),
    [
        ({"mail": "outbox"}, MAIL_REFUSED),
        ({"jwt_secret": None}, JWT_REFUSED),
        ({"data_dir": None}, LOCAL_STORE_REFUSED),
        ({"metrics_token": None}, OPEN_METRICS_REFUSED),
    ],
)
def test_production_refuses_each_unsafe_default(unsafe, refused):
    message = refusal_of(**unsafe)
    assert message.startswith("OCP_ENV=production refuses to start")
    assert [r for r in EVERY_REFUSAL if r in message] == [refused]


def test_production_lists_every_unsafe_default_in_one_message():
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, env="production")
    (message,) = refusals(refused.value)
    for problem in EVERY_REFUSAL:
        assert problem in message
    assert len(message.splitlines()) == 1 + len(EVERY_REFUSAL)  # a heading, a line each


def test_an_explicit_data_dir_counts_even_when_it_is_the_default_path(monkeypatch):
    monkeypatch.setenv("OCP_DATA_DIR", "./var")
    assert production(data_dir=None).data_dir == Path("./var")


def test_production_refuses_an_older_schema_where_development_migrates_it(tmp_path):
    assert not production().migrates_at_start, "production migrates with `ocp db migrate`"
    assert production(auto_migrate=True).migrates_at_start
    assert test_settings(tmp_path).migrates_at_start
    assert not test_settings(tmp_path, auto_migrate=False).migrates_at_start


def test_the_test_builder_is_development_and_never_refused(tmp_path):
    settings = test_settings(tmp_path)
    assert settings.env == "development" and settings.metrics_token is None


def test_a_refusal_never_echoes_a_value():
    with pytest.raises(ValidationError) as refused:
        production(jwt_secret="short-secret-value", mail="outbox")
    assert "short-secret-value" not in str(refused.value)
    assert "short-secret-value" not in " ".join(refusals(refused.value))


# --- the commands refuse before any work ----------------------------------------------------


@pytest.fixture
def ocp_command(monkeypatch, tmp_path):
    """`ocp ...` in this process; `serve` stops where uvicorn would take over."""
    import uvicorn

    from ocp.entrypoints import cli

    # `ocp serve` sets PROMETHEUS_MULTIPROC_DIR itself; set-then-delete lets monkeypatch undo it.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "unset-after-the-test")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    monkeypatch.setattr(uvicorn, "run", lambda **options: None)
    monkeypatch.setattr(cli, "serve_one", lambda options, **drain: 0)
    monkeypatch.setattr(cli, "serve_workers", lambda options, workers, **drain: 0)
    monkeypatch.setattr(logging.config, "dictConfig", lambda config: None)
    previous = signal.getsignal(signal.SIGTERM)
    yield cli
    signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize(
    "command",
    [
        ["serve"],
        ["worker"],
        ["users", "create", "--email", "root@example.com", "--password", "a long password"],
        ["files", "gc"],
        ["demo", "seed"],
        ["db", "migrate"],
    ],
)
def test_every_command_refuses_an_unsafe_production_configuration(
    ocp_command, monkeypatch, capsys, command
):
    monkeypatch.setenv("OCP_ENV", "production")
    monkeypatch.setenv("OCP_DATABASE", "memory")
    assert ocp_command.main(command) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the configuration is refused\nOCP_ENV=production refuses")
    for problem in EVERY_REFUSAL:
        assert problem in err
    assert "Traceback" not in err and "pydantic" not in err


def production_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OCP_ENV", "production")
    monkeypatch.setenv("OCP_DATABASE", "memory")
    monkeypatch.setenv("OCP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OCP_MAIL", "smtp")
    monkeypatch.setenv("OCP_BCRYPT_ROUNDS", "4")
    secret_file = tmp_path / "jwt-secret"
    secret_file.write_text(JWT_SECRET + "\n")
    monkeypatch.setenv("OCP_JWT_SECRET_FILE", str(secret_file))


def test_a_command_runs_on_a_safe_production_configuration(
    ocp_command, monkeypatch, tmp_path, capsys
):
    production_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("OCP_METRICS_TOKEN", METRICS_TOKEN)
    command = ["users", "create", "--email", "root@example.com", "--password", "a long password"]
    assert ocp_command.main([*command, "--role", "admin"]) == 0
    assert "created admin root@example.com" in capsys.readouterr().out


def test_serve_moves_the_metrics_to_their_own_port_with_the_token(
    ocp_command, monkeypatch, tmp_path
):
    production_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("OCP_FILE_STORE", "memory")
    monkeypatch.setenv("OCP_METRICS_PORT", "9465")
    monkeypatch.setenv("OCP_METRICS_TOKEN", METRICS_TOKEN)
    started = []

    class Stopped:
        def shutdown(self) -> None:
            started.append("shutdown")

        def server_close(self) -> None:
            pass

    def serve_metrics_port(host, port, *, token, max_age_s):
        started.append((host, port, token))
        return Stopped()

    monkeypatch.setattr(ocp_command, "serve_metrics_port", serve_metrics_port)
    assert ocp_command.main(["serve", "--workers", "1"]) == 0
    assert started == [("127.0.0.1", 9465, METRICS_TOKEN), "shutdown"]


# --- secrets from files ---------------------------------------------------------------------


@pytest.mark.parametrize("name", SECRET_SETTINGS)
def test_each_secret_can_come_from_a_file_without_its_trailing_newline(monkeypatch, tmp_path, name):
    value = {
        "jwt_secret": JWT_SECRET,
        "mongodb_uri": "mongodb://ocp:p%40ss@db.internal:27017/?replicaSet=rs0",
    }.get(name, "a secret with spaces ")
    secret_file = tmp_path / name
    secret_file.write_text(value + "\n")
    monkeypatch.setenv(f"OCP_{name.upper()}_FILE", str(secret_file))
    if name == "bootstrap_admin_password":
        monkeypatch.setenv("OCP_BOOTSTRAP_ADMIN_EMAIL", "root@example.com")
    read = getattr(Settings(_env_file=None), name)
    assert (read.get_secret_value() if hasattr(read, "get_secret_value") else read) == value


def test_a_variable_and_its_file_both_set_are_refused(monkeypatch, tmp_path):
    secret_file = tmp_path / "jwt"
    secret_file.write_text(JWT_SECRET)
    monkeypatch.setenv("OCP_JWT_SECRET_FILE", str(secret_file))
    monkeypatch.setenv("OCP_JWT_SECRET", JWT_SECRET)
    with pytest.raises(SettingsError, match="set OCP_JWT_SECRET or OCP_JWT_SECRET_FILE, not both"):
        Settings(_env_file=None)


def test_a_variable_in_dotenv_and_its_file_in_the_environment_are_refused(monkeypatch, tmp_path):
    secret_file = tmp_path / "smtp"
    secret_file.write_text("from the file")
    (tmp_path / ".env").write_text("OCP_SMTP_PASSWORD=from-dotenv\n")
    monkeypatch.setenv("OCP_SMTP_PASSWORD_FILE", str(secret_file))
    with pytest.raises(SettingsError, match="not both"):
        Settings()


def test_an_unreadable_or_empty_secret_file_variable_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("OCP_METRICS_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match=r"OCP_METRICS_TOKEN_FILE=.*missing cannot be read"):
        Settings(_env_file=None)
    monkeypatch.setenv("OCP_METRICS_TOKEN_FILE", "")
    with pytest.raises(SettingsError, match="OCP_METRICS_TOKEN_FILE is empty"):
        Settings(_env_file=None)


def test_a_secret_file_passes_the_same_checks_as_the_variable(monkeypatch, tmp_path):
    secret_file = tmp_path / "jwt"
    secret_file.write_text("too short\n")
    monkeypatch.setenv("OCP_JWT_SECRET_FILE", str(secret_file))
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(_env_file=None)


def test_the_ocp_command_reports_a_secret_file_problem_plainly(ocp_command, monkeypatch, capsys):
    monkeypatch.setenv("OCP_JWT_SECRET_FILE", "/nonexistent/jwt")
    assert ocp_command.main(["files", "gc"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: the configuration is refused\n"
        "OCP_JWT_SECRET_FILE=/nonexistent/jwt cannot be read: No such file or directory\n"
    )


# --- the secrets directory ------------------------------------------------------------------


def test_files_in_the_secrets_dir_provide_variables_in_any_case(monkeypatch, tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "ocp_jwt_secret").write_text(JWT_SECRET + "\n")
    (secrets / "OCP_SMTP_PASSWORD").write_text("smtp secret\n")
    monkeypatch.setenv("OCP_SECRETS_DIR", str(secrets))
    settings = Settings(_env_file=None)
    assert settings.jwt_secret is not None and settings.jwt_secret.get_secret_value() == JWT_SECRET
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == "smtp secret"


def test_the_environment_wins_over_the_secrets_dir(monkeypatch, tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "ocp_metrics_token").write_text("from the directory")
    monkeypatch.setenv("OCP_SECRETS_DIR", str(secrets))
    monkeypatch.setenv("OCP_METRICS_TOKEN", "from the environment")
    assert Settings(_env_file=None).metrics_token == "from the environment"


def test_run_secrets_is_read_when_it_exists(monkeypatch, tmp_path):
    run_secrets = tmp_path / "run-secrets"
    monkeypatch.setattr(settings_module, "DEFAULT_SECRETS_DIR", run_secrets)
    assert Settings(_env_file=None).metrics_token is None  # absent: nothing, no warning
    run_secrets.mkdir()
    (run_secrets / "ocp_metrics_token").write_text(METRICS_TOKEN + "\n")
    assert Settings(_env_file=None).metrics_token == METRICS_TOKEN


def test_a_secrets_dir_that_is_not_a_directory_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("OCP_SECRETS_DIR", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match="OCP_SECRETS_DIR=.*missing is not a directory"):
        Settings(_env_file=None)


def test_a_production_configuration_can_come_from_the_secrets_dir_alone(monkeypatch, tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name, value in {
        "OCP_ENV": "production",
        "OCP_JWT_SECRET": JWT_SECRET,
        "OCP_MAIL": "smtp",
        "OCP_DATA_DIR": "/srv/ocp",
        "OCP_METRICS_TOKEN": METRICS_TOKEN,
    }.items():
        (secrets / name).write_text(value + "\n")
    monkeypatch.setenv("OCP_SECRETS_DIR", str(secrets))
    assert Settings(_env_file=None).production_problems() == []


# --- /metrics behind its token, or on its own port -----------------------------------------


async def test_metrics_answer_only_the_bearer_of_the_token_read_from_a_file(monkeypatch, tmp_path):
    token_file = tmp_path / "metrics-token"
    token_file.write_text(METRICS_TOKEN + "\n")
    monkeypatch.setenv("OCP_METRICS_TOKEN_FILE", str(token_file))
    settings = test_settings(tmp_path)
    assert settings.metrics_token == METRICS_TOKEN
    async with app_client(Container.for_settings(settings)) as http:
        anonymous = await http.get("/metrics")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert anonymous.json()["status"] == 401
        wrong = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}x"})
        assert wrong.status_code == 401
        right = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert right.status_code == 200 and "http_requests_total" in right.text


async def test_with_a_metrics_port_the_api_port_has_no_metrics(tmp_path):
    settings = test_settings(tmp_path, metrics_port=9465)
    async with app_client(Container.for_settings(settings)) as http:
        assert (await http.get("/metrics")).status_code == 404
        assert (await http.get("/healthz")).status_code == 200
