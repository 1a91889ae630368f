"""`ocp users create` (and any command) while `make run` serves: it finds the embedded
database the server started on the same data directory and uses it, instead of starting a
second server on the same files; the server's database keeps running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pymongo import MongoClient

from ocp.adapters.mongo.embedded import EmbeddedDatabase


def test_a_command_uses_the_running_embedded_database(tmp_path: Path):
    data_dir = tmp_path / "var"
    serving = EmbeddedDatabase(data_dir / "db")  # what `make run` started
    serving.start()
    try:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("OCP_")}
        environment |= {"OCP_DATA_DIR": str(data_dir), "OCP_BCRYPT_ROUNDS": "4"}
        made = subprocess.run(
            [sys.executable, "-m", "ocp.entrypoints.cli", "users", "create",
             "--email", "ops@example.com", "--role", "admin", "--password", "a long password"],
            env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert made.returncode == 0, made.stdout + made.stderr
        with MongoClient(serving.uri) as client:
            assert client["ocp"]["users"].find_one({"email": "ops@example.com"})["role"] == "admin"
        assert EmbeddedDatabase.running(data_dir / "db") is not None  # still serving
    finally:
        serving.stop()
    assert not (data_dir / "db.json").exists()
    assert EmbeddedDatabase.running(data_dir / "db") is None


def test_a_stale_announcement_is_ignored(tmp_path: Path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (tmp_path / "db.json").write_text(json.dumps({"port": 1, "pid": int(dead.stdout)}))
    assert EmbeddedDatabase.running(tmp_path / "db") is None
    (tmp_path / "db.json").write_text("not json")
    assert EmbeddedDatabase.running(tmp_path / "db") is None
