"""The Kubernetes manifests (deploy/k8s), checked statically: no cluster runs here.

Each kustomization is rendered by a small renderer of the kustomize features it uses and,
when `kubectl` is on the PATH, by `kubectl kustomize` too (both must agree). Every rendered
object is validated against the Kubernetes schemas with kubernetes-validate, strictly, then
checked for what an operator relies on: probes, resources, OCP_WORKERS from the CPU limit,
the drain arithmetic, the commands, the settings and the Secret references."""

from __future__ import annotations

import copy
import math
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from ocp.entrypoints.cli import build_parser
from ocp.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
PRODUCTION = K8S / "overlays" / "production"
KUSTOMIZATIONS = {"base": BASE, "production": PRODUCTION}
SECRET_EXAMPLE = K8S / "secret.example.yaml"
README = K8S / "README.md"
API_MD = ROOT.parent / "shared" / "API.md"  # the contract, beside the repository

SECRET_NAME = "ocp-secrets"
# The oldest Kubernetes the README promises, and the newest schema the package ships.
VERSIONS = ("1.30", kubernetes_validate.latest_version())
# What the README's first deploy step applies before the migrate Job runs.
FIRST_STEP = ("config", "migrate")
# `ocp serve` on SIGTERM: serve_workers waits this long for its uvicorn workers (each drains
# for up to 20 s, timeout_graceful_shutdown) before killing them.
SERVE_DRAIN_S = 30
# `ocp worker` on SIGTERM: attempts under way get this long (Worker.stop, background.py).
WORKER_DRAIN_S = 10

# --- a renderer for the kustomize subset the manifests use --------------------------------

KNOWN_FIELDS = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "images",
    "replicas",
    "patches",
}
# Strategic merge: these lists merge item by item on a key; any other list is replaced, but for
# lists kustomize merges on a key that differs by kind (ports), which no patch may touch.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"}
SCALABLE = {"Deployment", "StatefulSet", "ReplicaSet"}


def merge(target: dict, patch: dict) -> None:
    """A strategic merge patch, as far as these manifests need: maps merge, null deletes,
    the MERGE_KEYS lists merge by key, other lists are replaced."""
    for key, value in patch.items():
        assert not key.startswith("$"), f"patch directive {key} is not supported here"
        current = target.get(key)
        assert key not in ("ports", "imagePullSecrets"), f"{key}: patch the base file instead"
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(current, dict):
            merge(current, value)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(current, list):
            by_key = MERGE_KEYS[key]
            for item in value:
                same = [old for old in current if old[by_key] == item[by_key]]
                if same:
                    merge(same[0], item)
                else:
                    current.append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)


def find(documents: list[dict], kind: str, name: str) -> dict:
    found = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} objects"
    return found[0]


def pod_specs(document: dict) -> list[dict]:
    if document["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return [document["spec"]["template"]["spec"]]
    if document["kind"] == "CronJob":
        return [document["spec"]["jobTemplate"]["spec"]["template"]["spec"]]
    return []


def containers(document: dict) -> list[dict]:
    return [
        container
        for spec in pod_specs(document)
        for container in spec.get("initContainers", []) + spec["containers"]
    ]


def image_name(image: str) -> str:
    """The image without tag or digest (a registry port is not a tag)."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def render(directory: Path) -> list[dict]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - KNOWN_FIELDS
    assert not unknown, f"the test's renderer does not know kustomization fields {unknown}"
    documents: list[dict] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            documents += render(path)
        else:
            documents += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for patch in kustomization.get("patches", []):
        assert set(patch) == {"path"}, f"only patch files are supported: {patch}"
        body = yaml.safe_load((directory / patch["path"]).read_text())
        target = find(documents, body["kind"], body["metadata"]["name"])
        assert target["apiVersion"] == body["apiVersion"], patch
        merge(target, body)
    if "namespace" in kustomization:
        for document in documents:
            if document["kind"] not in CLUSTER_SCOPED:
                document["metadata"]["namespace"] = kustomization["namespace"]
    for label in kustomization.get("labels", []):
        assert not label.get("includeSelectors") and not label.get("includeTemplates"), label
        for document in documents:
            document["metadata"].setdefault("labels", {}).update(label["pairs"])
    for replicas in kustomization.get("replicas", []):
        name = replicas["name"]
        targets = [d for d in documents if d["kind"] in SCALABLE and d["metadata"]["name"] == name]
        assert targets, f"replicas: nothing named {name}"
        for target in targets:
            target["spec"]["replicas"] = replicas["count"]
    for image in kustomization.get("images", []):
        assert set(image) <= {"name", "newName", "newTag", "digest"}, image
        for document in documents:
            for container in containers(document):
                if image_name(container["image"]) != image["name"]:
                    continue
                name = image.get("newName", image["name"])
                if "digest" in image:
                    container["image"] = f"{name}@{image['digest']}"
                elif "newTag" in image:
                    container["image"] = f"{name}:{image['newTag']}"
                else:
                    container["image"] = name + container["image"][len(image["name"]) :]
    return documents


def by_identity(documents: list[dict]) -> dict[tuple[str, str], dict]:
    keyed = {(d["kind"], d["metadata"]["name"]): d for d in documents}
    assert len(keyed) == len(documents), "two objects share a kind and a name"
    return keyed


@pytest.fixture(scope="module", params=sorted(KUSTOMIZATIONS))
def rendered(request) -> tuple[str, list[dict]]:
    return request.param, render(KUSTOMIZATIONS[request.param])


@pytest.fixture(scope="module")
def production() -> list[dict]:
    return render(PRODUCTION)


def of_kind(documents: list[dict], kind: str) -> list[dict]:
    return [d for d in documents if d["kind"] == kind]


def env_of(container: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def command_of(container: dict) -> list[str]:
    return container.get("command", []) + container.get("args", [])


def serves_http(document: dict) -> bool:
    return any(command_of(c)[:2] == ["ocp", "serve"] for c in containers(document))


def cpu(quantity: str | int | float) -> float:
    text = str(quantity)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def config_map(documents: list[dict], name: str) -> dict[str, str]:
    return find(documents, "ConfigMap", name)["data"]


# --- rendering and schema validation ---------------------------------------------------------


def test_each_kustomization_renders_the_whole_deployment(rendered):
    _, documents = rendered
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert kinds == {
        ("ServiceAccount", "ocp"),
        ("ConfigMap", "ocp-config"),
        ("Deployment", "ocp-api"),
        ("Service", "ocp-api"),
        ("Ingress", "ocp-api"),
        ("PodDisruptionBudget", "ocp-api"),
        ("HorizontalPodAutoscaler", "ocp-api"),
        ("Deployment", "ocp-worker"),
        ("Job", "ocp-migrate"),
        ("CronJob", "ocp-files-gc"),
    }
    assert not of_kind(documents, "Secret"), "secrets are referenced, never committed"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_is_valid_for_kubernetes(rendered, version):
    _, documents = rendered
    for document in documents + [yaml.safe_load(SECRET_EXAMPLE.read_text())]:
        name = f"{document['kind']}/{document['metadata']['name']}"
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(part) for part in exc.absolute_path)
            pytest.fail(f"{name} is not valid Kubernetes {version} at {path}: {exc.message}")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on the PATH")
@pytest.mark.parametrize("name", sorted(KUSTOMIZATIONS))
def test_kubectl_kustomize_renders_the_same_objects(name):
    result = subprocess.run(
        ["kubectl", "kustomize", str(KUSTOMIZATIONS[name])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    theirs = by_identity([d for d in yaml.safe_load_all(result.stdout) if d])
    ours = by_identity(render(KUSTOMIZATIONS[name]))
    assert sorted(theirs) == sorted(ours)
    for key, document in ours.items():
        assert theirs[key] == document, f"{key}: the renderer and kubectl disagree"


# --- the API pods ---------------------------------------------------------------------------


def test_the_api_has_probes_resources_and_workers_from_its_cpu_limit(rendered):
    _, documents = rendered
    apis = [d for d in of_kind(documents, "Deployment") if serves_http(d)]
    assert [d["metadata"]["name"] for d in apis] == ["ocp-api"]
    for deployment in apis:
        (spec,) = pod_specs(deployment)
        (container,) = spec["containers"]
        env = env_of(container)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["http"] == 8000 == int(env["OCP_PORT"]["value"])
        assert env["OCP_HOST"]["value"] == "0.0.0.0"
        for probe, path in (
            ("startupProbe", "/healthz"),
            ("livenessProbe", "/healthz"),
            ("readinessProbe", "/readyz"),
        ):
            check = container[probe]["httpGet"]
            assert (check["path"], check["port"]) == (path, "http"), probe
        # The startup probe gives a slow start time, so liveness can stay strict.
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 30
        resources = container["resources"]
        for kind in ("cpu", "memory"):
            assert kind in resources["requests"] and kind in resources["limits"], kind
            assert cpu(resources["requests"]["cpu"]) <= cpu(resources["limits"]["cpu"])
        workers = env["OCP_WORKERS"]["valueFrom"]["resourceFieldRef"]
        assert workers == {
            "containerName": container["name"],
            "resource": "limits.cpu",
            "divisor": "1",
        }
        # The kubelet rounds the limit up to whole CPUs: that many uvicorn workers.
        assert 1 <= math.ceil(cpu(resources["limits"]["cpu"])) <= 64


def test_the_api_drains_before_it_is_killed(rendered):
    _, documents = rendered
    deployment = find(documents, "Deployment", "ocp-api")
    (spec,) = pod_specs(deployment)
    (container,) = spec["containers"]
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pause >= 5, "endpoints need a few seconds to forget the pod"
    assert spec["terminationGracePeriodSeconds"] >= pause + SERVE_DRAIN_S
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    worker = find(documents, "Deployment", "ocp-worker")
    (worker_spec,) = pod_specs(worker)
    assert worker_spec["terminationGracePeriodSeconds"] > WORKER_DRAIN_S


def test_the_hpa_owns_the_api_count_and_the_pdb_keeps_one(rendered):
    _, documents = rendered
    api = find(documents, "Deployment", "ocp-api")
    pod_labels = api["spec"]["template"]["metadata"]["labels"]
    hpa = find(documents, "HorizontalPodAutoscaler", "ocp-api")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "ocp-api",
    }
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert "replicas" not in api["spec"], "an applied count would fight the autoscaler"
    pdb = find(documents, "PodDisruptionBudget", "ocp-api")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_the_service_and_ingress_reach_the_api_port_only(rendered):
    _, documents = rendered
    api = find(documents, "Deployment", "ocp-api")
    pod_labels = api["spec"]["template"]["metadata"]["labels"]
    named_ports = {p["name"] for c in containers(api) for p in c["ports"]}
    service = find(documents, "Service", "ocp-api")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    service_ports = {p["name"]: p["targetPort"] for p in service["spec"]["ports"]}
    assert set(service_ports.values()) <= named_ports
    ingress = find(documents, "Ingress", "ocp-api")
    backends = [
        path["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends and all(b == {"name": "ocp-api", "port": {"name": "http"}} for b in backends)
    assert service_ports["http"] == "http"


def test_production_serves_its_public_url_over_tls(production):
    ingress = find(production, "Ingress", "ocp-api")
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    covered = {host for tls in ingress["spec"]["tls"] for host in tls["hosts"]}
    assert hosts <= covered and all(tls.get("secretName") for tls in ingress["spec"]["tls"])
    public = urlsplit(config_map(production, "ocp-config")["OCP_PUBLIC_BASE_URL"])
    assert public.scheme == "https" and hosts == {public.hostname}
    for document in production:
        assert document["metadata"]["namespace"] == "ocp"
        for container in containers(document):
            repository, _, tag = container["image"].rpartition(":")
            assert "/" in repository and tag and tag != "latest", container["image"]


# --- every pod ------------------------------------------------------------------------------


def test_every_pod_is_locked_down_and_sized(rendered):
    _, documents = rendered
    images = set()
    for document in documents:
        for spec in pod_specs(document):
            name = document["metadata"]["name"]
            assert spec["securityContext"]["runAsNonRoot"] is True, name
            assert spec["automountServiceAccountToken"] is False, name
            assert spec["serviceAccountName"] == "ocp", name
            volumes = {v["name"]: v for v in spec["volumes"]}
            for container in spec["containers"]:
                images.add(container["image"])
                context = container["securityContext"]
                assert context["readOnlyRootFilesystem"] is True, name
                assert context["allowPrivilegeEscalation"] is False, name
                assert context["capabilities"]["drop"] == ["ALL"], name
                mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                assert "emptyDir" in volumes[mounts["/tmp"]], f"{name}: /tmp is not writable"
                data_dir = config_map(documents, "ocp-config")["OCP_DATA_DIR"]
                assert "emptyDir" in volumes[mounts[data_dir]], f"{name}: no OCP_DATA_DIR"
                for bound in ("requests", "limits"):
                    assert {"cpu", "memory"} <= set(container["resources"][bound]), name
    assert len(images) == 1, f"every pod runs the same release: {images}"


def test_the_worker_and_the_jobs_run_the_right_commands(rendered):
    _, documents = rendered
    (worker,) = containers(find(documents, "Deployment", "ocp-worker"))
    assert command_of(worker) == ["ocp", "worker"]
    assert config_map(documents, "ocp-config")["OCP_WORKER_IN_PROCESS"] == "false"
    assert not {"livenessProbe", "readinessProbe", "startupProbe"} & set(worker), (
        "`ocp worker` opens no port to probe"
    )
    job = find(documents, "Job", "ocp-migrate")
    (migrate,) = containers(job)
    assert command_of(migrate) == ["ocp", "db", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["activeDeadlineSeconds"] > 0
    cron = find(documents, "CronJob", "ocp-files-gc")
    (gc,) = containers(cron)
    assert command_of(gc) == ["ocp", "gc"]  # the trash purge, then `ocp files gc`
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    minute, hour, *rest = cron["spec"]["schedule"].split()
    assert minute.isdigit() and hour == "*" and rest == ["*", "*", "*"], "hourly"


@pytest.mark.parametrize(
    "command",
    [["ocp", "serve"], ["ocp", "worker"], ["ocp", "gc"], ["ocp", "db", "migrate"]],
)
def test_the_commands_exist_in_the_cli(production, command):
    assert command in [command_of(c) for d in production for c in containers(d)]
    build_parser().parse_args(command[1:])  # SystemExit: no such command


def test_the_first_deploy_step_carries_everything_the_migration_needs(rendered):
    _, documents = rendered
    first = [
        d
        for d in documents
        if d["metadata"]["labels"].get("app.kubernetes.io/component") in FIRST_STEP
    ]
    (spec,) = pod_specs(find(first, "Job", "ocp-migrate"))
    find(first, "ServiceAccount", spec["serviceAccountName"])
    for container in spec["containers"]:
        for source in container.get("envFrom", []):
            find(first, "ConfigMap", source["configMapRef"]["name"])
    selector = f"app.kubernetes.io/component in ({','.join(FIRST_STEP)})"
    assert selector in README.read_text(), "the README's first step applies these"


def test_labels_are_consistent(rendered):
    _, documents = rendered
    for document in documents:
        labels = document["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "ocp"
        assert labels["app.kubernetes.io/part-of"] == "ocp"
        assert labels["app.kubernetes.io/component"]
        if document["kind"] in ("Deployment", "Job", "CronJob"):
            spec = document["spec"].get("jobTemplate", document)["spec"]
            pod_labels = spec["template"]["metadata"]["labels"]
            for key in ("app.kubernetes.io/name", "app.kubernetes.io/component"):
                assert pod_labels[key] == labels[key], document["metadata"]["name"]
            selector = spec.get("selector", {}).get("matchLabels", {})
            assert selector.items() <= pod_labels.items()


# --- settings and secrets -------------------------------------------------------------------


def known_settings() -> set[str]:
    """OCP_ variables that exist: the Settings fields (read from the file's text) and those in
    the Configuration table of the API contract."""
    text = (ROOT / "ocp" / "settings.py").read_text()
    body = text[text.index("class Settings(") :]
    known = {f"OCP_{name.upper()}" for name in re.findall(r"^    ([a-z][a-z0-9_]*):", body, re.M)}
    if API_MD.exists():
        contract = API_MD.read_text()
        section = contract[contract.index("## Configuration") :]
        section = section[: section.find("\n## ", 1) if "\n## " in section[1:] else None]
        known |= set(re.findall(r"`(OCP_[A-Z0-9_]+)`", section))
    return known


def secret_refs(documents: list[dict]) -> list[tuple[str, str, str]]:
    """(Secret name, key, variable) of every secretKeyRef; envFrom secretRefs as key '*'."""
    refs = []
    for document in documents:
        for container in containers(document):
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.append((ref["name"], ref["key"], entry["name"]))
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    refs.append((source["secretRef"]["name"], "*", "*"))
    return refs


def test_every_ocp_variable_is_a_real_setting(rendered):
    _, documents = rendered
    named = set(config_map(documents, "ocp-config"))
    for document in documents:
        for container in containers(document):
            named |= set(env_of(container))
    named |= set(yaml.safe_load(SECRET_EXAMPLE.read_text())["stringData"])
    unknown = {name for name in named if name.startswith("OCP_")} - known_settings()
    assert not unknown, f"not OCP settings: {sorted(unknown)}"


def test_secret_references_name_the_documented_secret(rendered):
    _, documents = rendered
    refs = secret_refs(documents)
    assert refs
    readme = README.read_text()
    example = yaml.safe_load(SECRET_EXAMPLE.read_text())
    assert example["metadata"]["name"] == SECRET_NAME and f"`{SECRET_NAME}`" in readme
    keys = {key for _, key, _ in refs}
    assert {name for name, _, _ in refs} == {SECRET_NAME}
    assert keys == set(example["stringData"]), "secret.example.yaml lists exactly the keys used"
    for key in keys:
        assert f"`{key}`" in readme, f"the README does not document the secret key {key}"
    for document in documents:
        for container in containers(document):
            env = env_of(container)
            for required in ("OCP_MONGODB_URI", "OCP_JWT_SECRET"):
                ref = env[required]["valueFrom"]["secretKeyRef"]
                assert not ref.get("optional"), f"{required} is required"


def test_every_pod_starts_with_valid_settings(production, monkeypatch):
    """What each container would get (the ConfigMap, its own env, OCP_WORKERS as the kubelet
    computes it, placeholder secrets) passes the start-up validation of Settings."""
    data = config_map(production, "ocp-config")
    for document in production:
        for container in containers(document):
            for name in [n for n in os.environ if n.startswith("OCP_")]:
                monkeypatch.delenv(name)
            values = dict(data)
            for name, entry in env_of(container).items():
                source = entry.get("valueFrom", {})
                if "value" in entry:
                    values[name] = entry["value"]
                elif "resourceFieldRef" in source:
                    field = source["resourceFieldRef"]
                    bound, _, kind = field["resource"].partition(".")
                    amount = cpu(container["resources"][bound][kind]) / cpu(field["divisor"])
                    values[name] = str(math.ceil(amount))
                elif not source["secretKeyRef"].get("optional"):
                    values[name] = "x" * 48
            for name, value in values.items():
                monkeypatch.setenv(name, value)
            settings = Settings(_env_file=None)
            assert settings.env == "production" and settings.file_store == "s3"
            assert settings.database == "mongo" and settings.mongodb_uri
            if serves_http(document):
                assert settings.host == "0.0.0.0" and settings.workers == 4
                assert settings.metrics_port not in (None, settings.port)
