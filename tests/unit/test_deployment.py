"""The deployment files, checked statically (no container daemon runs here): the compose file
against the Compose specification's schema and our settings, the Dockerfile with hadolint and
the rules an operator relies on."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from ocp.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_compose_file_follows_the_compose_specification(compose):
    # check-jsonschema ships the compose-spec schema: no network needed.
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_compose_file_names_only_settings_that_exist(compose):
    known = {f"OCP_{name.upper()}" for name in Settings.model_fields}
    for name, service in compose["services"].items():
        used = {key for key in (service.get("environment") or {}) if key.startswith("OCP_")}
        assert used <= known, f"{name} sets unknown variables {used - known}"


def test_the_compose_topology_is_api_replica_set_and_object_store(compose):
    services = compose["services"]
    api = services["api"]
    env = api["environment"]
    # The worker count is OCP_WORKERS (overridable), never a flag that would shadow it.
    assert api["command"][:2] == ["ocp", "serve"] and "--workers" not in api["command"]
    assert env["OCP_WORKERS"].startswith("${OCP_WORKERS:-") and int(env["OCP_WORKERS"][15:-1]) > 1
    # What production refuses never reaches it: real SMTP (Mailpit), metrics on their port.
    assert env["OCP_MAIL"] == "smtp" and "mailpit" in env["OCP_SMTP_HOST"]
    assert env["OCP_METRICS_PORT"] and "9100" not in str(api.get("ports"))
    assert "replicaSet=rs0" in env["OCP_MONGODB_URI"] and env["OCP_FILE_STORE"] == "s3"
    assert env["OCP_S3_BUCKET"] in " ".join(services["minio-init"]["entrypoint"])
    assert "--replSet" in services["mongo"]["command"]
    assert "rs.initiate" in " ".join(services["mongo-init"]["command"])
    for dependency in ("mongo-init", "minio-init"):
        assert api["depends_on"][dependency]["condition"] == "service_completed_successfully"
    for name, service in services.items():
        one_shot = service.get("restart") == "no"
        assert one_shot or "healthcheck" in service, f"{name} has no health check"
        image = service.get("image", "")
        assert not image.endswith(":latest"), f"{name} runs an unpinned image"
        assert "build" in service or ":" in image, f"{name} runs an unpinned image"


def dockerfile() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    return [line.strip() for line in text.replace("\\\n", " ").splitlines() if line.strip()]


def test_the_image_is_pinned_non_root_healthy_and_has_no_dev_extras():
    lines = [line for line in dockerfile() if not line.startswith("#")]
    bases = [line.split()[1] for line in lines if line.upper().startswith("FROM ")]
    assert len(bases) >= 2, "a multi-stage build"
    for base in bases:
        assert ":" in base and not base.endswith(":latest"), base
    users = [line.split()[1] for line in lines if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any(line.upper().startswith("HEALTHCHECK") and "/healthz" in line for line in lines)
    assert not any(re.match(r"ADD\s+https?://", line, re.I) for line in lines)
    assert not any("[dev]" in line or "embedded" in line for line in lines)
    cmd = next(line for line in reversed(lines) if line.upper().startswith("CMD"))
    assert '"serve"' in cmd and '"0.0.0.0"' in cmd and '"--workers"' not in cmd
    assert any(line.startswith("ENV ") and "OCP_WORKERS=" in line for line in lines)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git", "tests"} <= set(ignored)


HADOLINT = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
    "hadolint"
)


@pytest.mark.skipif(HADOLINT is None, reason="hadolint comes with the dev extras")
def test_hadolint_finds_nothing_in_the_dockerfile():
    run = subprocess.run(
        [HADOLINT, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr


MAKE = shutil.which("make")


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
@pytest.mark.parametrize("ci", [True, False], ids=["in CI", "locally"])
def test_without_npm_newman_is_an_error_in_ci_and_a_skip_locally(tmp_path, ci):
    newman = tmp_path / "newman"  # not there yet: make must try to install it
    no_tools = tmp_path / "empty-path"  # no npm on PATH (make's shell needs only builtins)
    no_tools.mkdir()
    env = {"PATH": str(no_tools), **({"CI": "true"} if ci else {})}
    run = subprocess.run(
        [MAKE, "-C", str(ROOT), f"NEWMAN={newman}", str(newman)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert (run.returncode != 0) is ci, run.stdout + run.stderr
    assert "npm not found" in run.stdout + run.stderr
    assert not newman.exists()


def test_the_ci_entry_point_refuses_to_run_without_newman():
    script = (ROOT / ".ci" / "run").read_text()
    assert "CI=true" in script
    check = script.index(".tools/node_modules/.bin/newman ]")
    assert check < script.rindex("make test"), "newman is checked before the tests run"


def test_the_compose_api_environment_passes_the_production_checks(compose, monkeypatch):
    """What `docker compose up` gives the API starts: production refuses none of it."""

    def resolved(value: str) -> str:
        # ${NAME:-default} takes its default; ${NAME:?message} is what the operator must set.
        value = re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", str(value))
        return re.sub(r"\$\{[A-Z0-9_]+:\?[^}]*\}", "x" * 48, value)

    for name in [n for n in os.environ if n.startswith("OCP_")]:
        monkeypatch.delenv(name)
    env = compose["services"]["api"]["environment"]
    for name, value in env.items():
        if name.startswith("OCP_"):
            monkeypatch.setenv(name, resolved(value))
    settings = Settings(_env_file=None)
    assert settings.env == "production" and settings.workers == 4
