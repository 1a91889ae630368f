"""The typed TypeScript client (clients/ts) compiles with `tsc --strict` against the committed
generated types, then walks a student's journey against a real server process: register, log
in, browse, enrol, upload through tus, submit. `make test` installs its node_modules first;
without them (no Node) this test is skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.builders import JWT_SECRET
from tests.integration.processes import serving

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "ts"
TSC = CLIENT / "node_modules" / "typescript" / "bin" / "tsc"
ADMIN, ADMIN_PASSWORD = "ts-client-admin@example.com", "ts client admin password"


def node(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node is not None
    return subprocess.run(
        [node, *args],
        cwd=CLIENT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(
    not TSC.exists() or not shutil.which("node"), reason="clients/ts: `make test` installs it"
)
def test_the_typed_client_walks_a_students_journey(tmp_path, mongo_uri):
    # Compiled (strict, see tsconfig.json) into dist/: a request or a field the published
    # document does not have is a compile error before anything runs.
    compiled = node(str(TSC), "-p", ".")
    assert compiled.returncode == 0, compiled.stdout[-6000:] + compiled.stderr[-2000:]
    with serving(
        tmp_path,
        OCP_MONGODB_URI=mongo_uri,
        OCP_MONGODB_DB="ts_client",
        OCP_JWT_SECRET=JWT_SECRET,
        OCP_FILE_STORE="local",
        OCP_BOOTSTRAP_ADMIN_EMAIL=ADMIN,
        OCP_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
    ) as server:
        journey = node(
            "--test",
            "--test-reporter=tap",
            "dist/test/journey.test.js",
            OCP_BASE_URL=server.base,
            OCP_ADMIN_EMAIL=ADMIN,
            OCP_ADMIN_PASSWORD=ADMIN_PASSWORD,
        )
    assert journey.returncode == 0, journey.stdout[-8000:] + journey.stderr[-2000:]
    assert "# fail 0" in journey.stdout and "# skipped 0" in journey.stdout, journey.stdout
