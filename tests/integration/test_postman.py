"""The Postman collection a frontend team imports (docs/ocp.postman_collection.json) walks the
main journeys against a real server process, run by newman with the collection's own tests.
`make test` installs newman under .tools/ first; without it (no Node) this test is skipped."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.builders import JWT_SECRET
from tests.integration.processes import serving

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "docs" / "ocp.postman_collection.json"
NEWMAN = ROOT / ".tools" / "node_modules" / ".bin" / "newman"
ADMIN, ADMIN_PASSWORD = "postman-admin@example.com", "postman admin password"


@pytest.mark.skipif(
    not NEWMAN.exists() or not shutil.which("node"), reason="newman: `make test` installs it"
)
def test_the_postman_collection_walks_the_main_journeys(tmp_path, mongo_uri):
    with serving(
        tmp_path,
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB="postman",
        OCP_JWT_SECRET=JWT_SECRET,
        OCP_FILE_STORE="local",
        OCP_BOOTSTRAP_ADMIN_EMAIL=ADMIN,
        OCP_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
    ) as server:
        report = tmp_path / "newman.json"
        run = subprocess.run(
            [
                str(NEWMAN),
                "run",
                str(COLLECTION),
                "--env-var",
                f"baseUrl={server.base}",
                "--env-var",
                f"adminEmail={ADMIN}",
                "--env-var",
                f"adminPassword={ADMIN_PASSWORD}",
                "--color",
                "off",
                "--disable-unicode",
                "--timeout-request",
                "30000",
                "--reporters",
                "cli,json",
                "--reporter-json-export",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    stats = json.loads(report.read_text())["run"]["stats"]
    every_request = sum(
        len(folder["item"]) for folder in json.loads(COLLECTION.read_text())["item"]
    )
    assert stats["requests"] == {"total": every_request, "pending": 0, "failed": 0}
    assert stats["assertions"]["failed"] == 0 and stats["assertions"]["total"] > every_request
