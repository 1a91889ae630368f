"""The deployment files, checked statically (no container daemon runs here): the compose file
against the Compose specification's schema and our settings, the Dockerfile with hadolint and
the rules an operator relies on."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
    for dependency in ("mongo-init", "minio-init", "migrate"):
        assert api["depends_on"][dependency]["condition"] == "service_completed_successfully"
    for name, service in services.items():
        one_shot = service.get("restart") == "no"
        assert one_shot or "healthcheck" in service, f"{name} has no health check"
        image = service.get("image", "")
        assert not image.endswith(":latest"), f"{name} runs an unpinned image"
        assert "build" in service or ":" in image, f"{name} runs an unpinned image"


def test_the_compose_migration_runs_once_before_the_api_on_its_settings(compose):
    services = compose["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["ocp", "db", "migrate"] and migrate["restart"] == "no"
    assert migrate["image"] == services["api"]["image"]
    # The same database and the same production checks as the API it prepares.
    assert migrate["environment"] == services["api"]["environment"]
    assert "OCP_AUTO_MIGRATE" not in migrate["environment"], "production never migrates at start"
    assert migrate["depends_on"]["mongo-init"]["condition"] == "service_completed_successfully"


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


# Reproducible builds: hashed locks written by `make lock`, the only source make and the image
# install from. The test reads the files; it never runs the resolver (no network).

LOCKS = ("dev.txt", "prod.txt", "build.txt")
HASH = re.compile(r"sha256:[0-9a-f]{64}")


def read_lock(name: str) -> dict[str, dict]:
    """Each package of requirements/<name>: its pinned version, hashes and `# via` sources."""
    text = (ROOT / "requirements" / name).read_text()
    assert text.startswith("# This file was autogenerated by uv") and "#    make lock\n" in text
    entries: dict[str, dict] = {}
    current, in_via = None, False
    for raw in text.replace("\\\n", " ").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            body = line[1:].strip()
            if current is not None and body.startswith("via"):
                in_via = True
                if body[3:].strip():
                    current["via"].add(body[3:].strip())
            elif current is not None and in_via and body:
                current["via"].add(body)
            continue
        assert not line.startswith("-"), f"{name}: an option, not a pin: {line}"
        spec, *hashes = re.split(r"\s+--hash=", line)
        requirement = Requirement(spec)
        pins = list(requirement.specifier)
        assert len(pins) == 1 and pins[0].operator == "==", f"{name}: not pinned: {spec}"
        assert hashes and all(HASH.fullmatch(h) for h in hashes), f"{name}: no sha256: {spec}"
        current, in_via = {"version": pins[0].version, "hashes": hashes, "via": set()}, False
        entries[canonicalize_name(requirement.name)] = current
    assert entries, f"{name} pins nothing"
    return entries


@pytest.fixture(scope="module")
def locks() -> dict[str, dict[str, dict]]:
    return {name: read_lock(name) for name in LOCKS}


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_locked_package_is_pinned_exactly_with_hashes(locks):
    # read_lock refuses a line without `==` or without a sha256 hash; the universal lock
    # carries every platform's files, so the dev venv and the image share one set of pins.
    assert len(locks["dev.txt"]) > len(locks["prod.txt"]) >= 10


def test_the_locks_are_not_stale(locks, pyproject):
    """What pyproject.toml asks for is what the locks hold: no name missing or left over, and
    every locked version satisfies its range. A change without `make lock` fails here."""
    project = [Requirement(r) for r in pyproject["project"]["dependencies"]]
    extras = pyproject["project"]["optional-dependencies"]
    dev = project + [Requirement(r) for r in extras["dev"] + extras["embedded"]]
    build = [Requirement(r) for r in pyproject["build-system"]["requires"]]
    build_in = (ROOT / "requirements" / "build.in").read_text().splitlines()
    build_in = [Requirement(r) for r in build_in if r.strip() and not r.startswith("#")]
    assert {canonicalize_name(r.name) for r in build_in} == {
        canonicalize_name(r.name) for r in build
    }, "requirements/build.in is pyproject.toml's build-system.requires"
    for lock, wanted in (("prod.txt", project), ("dev.txt", dev + build), ("build.txt", build)):
        pins = locks[lock]
        for requirement in wanted:
            name = canonicalize_name(requirement.name)
            assert name in pins, f"{requirement} is not in requirements/{lock}: run make lock"
            version = pins[name]["version"]
            assert requirement.specifier.contains(version, prereleases=True), (
                f"requirements/{lock} pins {name}=={version}, outside {requirement}: make lock"
            )
        direct = {name for name, pin in pins.items() if "ocp (pyproject.toml)" in pin["via"]}
        direct |= {n for n, pin in pins.items() if "-r requirements/build.in" in pin["via"]}
        asked = {canonicalize_name(r.name) for r in wanted}
        assert direct == asked, f"requirements/{lock} is stale: run make lock"


def test_the_image_gets_the_versions_the_tests_ran_with_and_no_dev_tool(locks):
    dev = locks["dev.txt"]
    for lock in ("prod.txt", "build.txt"):
        for name, pin in locks[lock].items():
            assert dev.get(name, {}).get("version") == pin["version"], f"{lock}: {name}"
            assert set(pin["hashes"]) <= set(dev[name]["hashes"]), f"{lock}: {name}"
    assert not {"pytest", "ruff", "mypy", "secantusdb", "moto", "setuptools"} & set(
        locks["prod.txt"]
    )


def test_make_and_the_image_install_only_from_the_locks():
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    rule = re.search(r"^\$\(STAMP\):(.*)\n((?:\t.*\n)+)", makefile, re.M)
    assert rule and "requirements/dev.txt" in rule[1].split(), "a lock change reinstalls"
    installs = [line for line in rule[2].splitlines() if "pip install" in line]
    assert any("--require-hashes -r requirements/dev.txt" in line for line in installs)
    for line in installs:
        assert (
            "--require-hashes" in line or "--no-deps" in line or line.endswith("--upgrade pip")
        ), line
        assert "[dev]" not in line
    # `make lock` runs a pinned uv.
    assert re.search(r"^UV_VERSION := \d+\.\d+\.\d+$", makefile, re.M)
    assert "uv==$(UV_VERSION)" in makefile and re.search(r"^lock: ", makefile, re.M)

    lines = [line for line in dockerfile() if not line.startswith("#")]
    assert "COPY requirements ./requirements" in lines
    commands = [c.strip() for line in lines if line.startswith("RUN ") for c in line.split("&&")]
    pip = [c for c in commands if re.search(r"pip (install|wheel)", c)]
    for lock in ("prod.txt", "build.txt"):
        assert any(f"--require-hashes -r requirements/{lock}" in c for c in pip), lock
    for command in pip:
        assert "--require-hashes" in command or "--no-deps" in command, command
    assert any("pip wheel" in c and "--no-build-isolation" in c for c in pip)


def test_pin_images_pins_every_pulled_image_by_its_digest(tmp_path):
    """No registry is reachable here: a stand-in resolver gives each tag a digest, and the
    script's rewriting is what is checked."""
    script = ROOT / "deploy" / "pin-images"
    assert os.access(script, os.X_OK)
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    files = [str(tmp_path / "docker-compose.yml"), str(tmp_path / "Dockerfile")]
    resolver = tmp_path / "resolver.py"
    resolver.write_text(
        "import hashlib, sys\nprint('sha256:' + hashlib.sha256(sys.argv[1].encode()).hexdigest())\n"
    )
    env = {**os.environ, "PIN_IMAGES_RESOLVER": f"{sys.executable} {resolver}"}

    def pin(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(script), *args, *files], env=env, capture_output=True, text=True
        )

    def digest(ref: str) -> str:
        return "sha256:" + hashlib.sha256(ref.encode()).hexdigest()

    assert pin("--check").returncode == 1  # as committed: tags only
    run = pin()
    assert run.returncode == 0, run.stderr
    before = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    after = yaml.safe_load((tmp_path / "docker-compose.yml").read_text())
    for name, service in before["services"].items():
        image = after["services"][name].pop("image")
        if "build" in service:
            assert image == service["image"], "what compose builds is not pulled"
        else:
            tag = service["image"].split("@")[0]
            assert image == f"{tag}@{digest(tag)}"
        service.pop("image")
    assert after == before, "nothing but the images changed"
    old, new = (ROOT / "Dockerfile").read_text(), (tmp_path / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", old, re.M)
    assert re.findall(r"^FROM (\S+)", new, re.M) == [f"{b}@{digest(b)}" for b in bases]
    assert re.sub(r"@sha256:[0-9a-f]{64}", "", new) == old
    pinned = [Path(f).read_text() for f in files]
    assert pin().returncode == 0 and [Path(f).read_text() for f in files] == pinned
    assert pin("--check").returncode == 0
