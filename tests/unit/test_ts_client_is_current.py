"""The committed TypeScript client (clients/ts) is the one the app makes today: its
openapi.json is the document the app publishes, and its src/schema.ts is what the pinned
generator makes of it. When either fails, run `clients/ts/generate` and commit the result."""

from __future__ import annotations

import difflib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "ts"
GENERATOR = CLIENT / "node_modules" / "openapi-typescript" / "bin" / "cli.js"
STALE = "clients/ts is stale: run clients/ts/generate and commit what changes"


def differences(committed: str, current: str, name: str) -> str:
    lines = difflib.unified_diff(
        committed.splitlines(), current.splitlines(), f"committed {name}", "current", lineterm=""
    )
    return "\n".join([STALE, *list(lines)[:80]])


def test_the_committed_openapi_document_is_the_one_the_app_publishes():
    spec = importlib.util.spec_from_file_location("ts_client_openapi", CLIENT / "openapi.py")
    assert spec is not None and spec.loader is not None
    helper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helper)
    committed = (CLIENT / "openapi.json").read_text()
    current = helper.text()
    assert committed == current, differences(committed, current, "openapi.json")


@pytest.mark.skipif(
    not GENERATOR.exists() or not shutil.which("node"), reason="clients/ts: `make test` installs it"
)
def test_the_committed_types_are_what_the_pinned_generator_makes(tmp_path):
    # The developer's own command, writing into tmp_path instead of the checkout.
    run = subprocess.run(
        [str(CLIENT / "generate"), str(tmp_path)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    for name in ("openapi.json", "src/schema.ts"):
        committed = (CLIENT / name).read_text()
        current = (tmp_path / name).read_text()
        assert committed == current, differences(committed, current, name)
